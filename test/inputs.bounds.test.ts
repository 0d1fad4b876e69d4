import { connect } from 'node:net';
import { MAX_VARIABLE_DEPTH } from '../src/plugins/useGatewayResponseCache';
import { MAX_REQUEST_BODY_BYTES } from '../src/plugins/useRequestBodyLimit';
import { postGraphQL } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

/** Tests here start whole stacks; on a busy machine that alone can take most of jest's default 30 s. */
const STACK_MS = 90_000;

/** `{"a":{"a":…{}}}` as JSON text, `depth` objects deep (written out: JSON.stringify itself would overflow). */
const nestedJson = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

async function postWithVariablesJson(url: string, query: string, variablesJson: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: `{"query":${JSON.stringify(query)},"variables":{"unused":${variablesJson}}}`,
  });
  return { status: response.status, body: await response.json() };
}

describe('what clients send is bounded in what it costs and in what comes back', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, STACK_MS);
  afterAll(() => stack?.close());

  it('refuses a body over the limit with 413 REQUEST_ENTITY_TOO_LARGE: by its Content-Length before it is sent, or while a chunked one arrives', async () => {
    /** The head, then `body` in chunks until the gateway answers: what it answered, as raw HTTP. */
    const raw = (head: string, chunks: string[]) =>
      new Promise<string>((resolve) => {
        const { hostname, port } = new URL(stack.gateway.url);
        const socket = connect(Number(port), hostname, () => {
          socket.write(`POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nConnection: close\r\n${head}\r\n`);
          for (const chunk of chunks) socket.write(chunk);
        });
        let received = '';
        socket.on('data', (chunk) => (received += chunk));
        socket.on('close', () => resolve(received));
        // The gateway may close while chunks are still being written: its answer is what counts.
        socket.on('error', () => undefined);
      });
    const byLength = await raw(`Content-Length: ${MAX_REQUEST_BODY_BYTES + 1}\r\n`, ['{"query":']);
    expect(byLength).toMatch(/^HTTP\/1\.1 413/);
    expect(byLength).toContain('"code":"REQUEST_ENTITY_TOO_LARGE"');

    const megabyte = `${(1_000_000).toString(16)}\r\n${' '.repeat(1_000_000)}\r\n`;
    const whileChunked = await raw('Transfer-Encoding: chunked\r\n', [
      `1f\r\n{"query":"{ provider { id } }"}\r\n`,
      ...Array.from({ length: MAX_REQUEST_BODY_BYTES / 1_000_000 + 1 }, () => megabyte),
      '0\r\n\r\n',
    ]);
    expect(whileChunked).toMatch(/^HTTP\/1\.1 413/);
    expect(whileChunked).toContain('"code":"REQUEST_ENTITY_TOO_LARGE"');

    // A chunked body under the limit is read as usual.
    const chunked = (body: string, padding: number) => {
      const megabyteOfSpaces = new Uint8Array(1_000_000).fill(0x20);
      let left = padding;
      const stream = new ReadableStream<Uint8Array>({
        start: (controller) => controller.enqueue(new TextEncoder().encode(body)),
        pull: (controller) => {
          if (left <= 0) return controller.close();
          left -= megabyteOfSpaces.byteLength;
          controller.enqueue(megabyteOfSpaces);
        },
      });
      return fetch(stack.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    };
    const under = await chunked('{"query":"{ provider { id } }"}', 2_000_000);
    expect(under.status).toBe(200);
    expect((await under.json()).data.provider.id).toEqual(expect.any(String));
  });

  it('refuses variables nested deeper than the bound with BAD_USER_INPUT, not an internal error', async () => {
    const deep = await postWithVariablesJson(stack.gateway.url, 'query Deep { provider { id } }', nestedJson(5_000));
    expect(deep.status).toBe(400);
    expect(deep.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);

    // Input objects of ordinary depth still work.
    const shallow = await postWithVariablesJson(stack.gateway.url, 'query Shallow { provider { id } }', nestedJson(MAX_VARIABLE_DEPTH));
    expect(shallow.body.errors).toBeUndefined();
  });

  it.each([
    ['a custom scalar', 'query ($id: Uuid) { provider { installation(id: $id) { id } } }'],
    ['a built-in scalar', 'query ($id: Int) { provider { readings(limit: $id) { cursor } } }'],
  ])('quotes only a short prefix of a huge bad value for %s', async (_kind, document) => {
    const response = await postGraphQL(stack.gateway.url, document, { id: 'Q'.repeat(1_000_000) });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.text.length).toBeLessThan(2_000);
    expect(response.body.errors?.[0]?.message).toContain('QQQQ');
  });

  it('quotes only a short prefix of a huge bad literal', async () => {
    const huge = 'Q'.repeat(30_000);
    const response = await postGraphQL(stack.gateway.url, `{ provider { installation(id: "${huge}") { id } } }`);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.text.length).toBeLessThan(2_000);
  });
});
