import { MAX_VARIABLE_DEPTH } from '../src/plugins/useGatewayResponseCache';
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
