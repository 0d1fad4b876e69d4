import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postGraphQL } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

/** Tests here start whole stacks; on a busy machine that alone can take most of jest's default 30 s. */
const STACK_MS = 90_000;

interface EchoUpstream {
  url: string;
  /** The HTTP status of IOmeter's GraphQL error answers (IOmeter's validation errors come with 400). */
  status: number;
  /** The code of the error IOmeter answers with. */
  code: string;
  close(): Promise<void>;
}

/**
 * An IOmeter endpoint gone wrong (a proxy or load balancer that echoes the request): every GraphQL
 * request is answered with a documented error code, and the request's Authorization in the message,
 * in extensions (IOmeter-style `http` status and headers among them) and in a response header.
 */
async function startEchoUpstream(): Promise<EchoUpstream> {
  const upstream = { status: 200, code: 'BAD_USER_INPUT' } as EchoUpstream;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const authorization = request.headers.authorization ?? '';
      const body = {
        data: null,
        errors: [
          {
            message: `bad input; you sent ${authorization}`,
            path: ['provider'],
            extensions: {
              code: upstream.code,
              http: { status: 404, headers: { 'x-echo-extension': authorization } },
              request: { headers: { authorization } },
            },
          },
        ],
      };
      response.writeHead(upstream.status, { 'content-type': 'application/json', 'x-echo': authorization });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/query`;
  upstream.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return upstream;
}

describe.each([
  ['straight to IOmeter by an operation plan', {}],
  ['through Mesh delegation', { QUERY_PLAN_CACHE_SIZE: '0' }],
])('an upstream that echoes the gateway credentials (%s)', (_name, env) => {
  let echo: EchoUpstream;
  let stack: Stack;
  let secrets: string[];

  beforeAll(async () => {
    echo = await startEchoUpstream();
    stack = await startStack({ env, upstream: { endpoint: echo.url } });
    const basic = `${stack.simulator.token}:${stack.simulator.secret}`;
    secrets = [stack.simulator.secret, Buffer.from(basic).toString('base64')];
  }, STACK_MS);
  afterAll(async () => {
    await stack?.close();
    await echo?.close();
  });

  it.each([
    [200, 'BAD_USER_INPUT', 'IOmeter refused the input of this request.', 'BAD_USER_INPUT'],
    [400, 'BAD_USER_INPUT', 'IOmeter refused the input of this request.', 'BAD_USER_INPUT'],
    [200, 'NOT_FOUND', 'IOmeter has no such object.', 'NOT_FOUND'],
    [200, 'SOMETHING_ELSE', 'The IOmeter API returned an unexpected response.', 'UPSTREAM_ERROR'],
  ])('hands the client only the gateway\'s own message when IOmeter answers %i with %s', async (status, code, message, clientCode) => {
    echo.status = status;
    echo.code = code;
    const response = await postGraphQL(stack.gateway.url, `query Echo${status}${code} { provider { id } }`);

    expect(response.status).toBe(200);
    expect(response.body.errors).toEqual([{ message, path: ['provider'], extensions: { code: clientCode } }]);
    const headers = JSON.stringify([...response.headers]);
    for (const secret of secrets) {
      expect(response.text).not.toContain(secret);
      expect(headers).not.toContain(secret);
    }
    expect(response.headers.get('x-echo')).toBeNull();
    expect(response.headers.get('x-echo-extension')).toBeNull();
  });

  it('logs what IOmeter said with the credentials redacted', () => {
    const logged = stack.logs.filter((line) => line.includes('IOmeter answered with errors'));
    expect(logged.join('\n')).toContain('bad input; you sent');
    for (const secret of secrets) expect(stack.logs.join('\n')).not.toContain(secret);
  });
});
