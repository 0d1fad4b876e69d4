import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postGraphQL, subscribeSse, subscribeWs } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';
import { waitFor, within } from './helpers/simulator';

const READINGS = 'subscription { readings { time } }';

describe('when IOmeter rejects the gateway credentials', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ upstream: { secret: 'not-the-secret' } });
  });
  afterAll(() => stack.close());

  it('answers queries with UPSTREAM_UNAUTHORIZED', async () => {
    const { body } = await postGraphQL(stack.gateway.url, '{ provider { id } }');
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'UPSTREAM_UNAUTHORIZED' }, path: ['provider'] }),
    ]);
  });

  it.each([
    ['WebSocket', (stack: Stack) => subscribeWs(stack.gateway.wsUrl, READINGS, 1)],
    ['SSE', (stack: Stack) => subscribeSse(stack.gateway.url, READINGS, 1)],
  ])('ends a %s subscription promptly with UPSTREAM_UNAUTHORIZED and no retry loop', async (_transport, subscribe) => {
    stack.simulator.resetStats();
    const [result] = await within(subscribe(stack).done, 20_000, 'the subscription\'s UPSTREAM_UNAUTHORIZED error');
    expect(result.errors[0].extensions.code).toBe('UPSTREAM_UNAUTHORIZED');
    // One attempt, no retry loop: a rejected credential is not retried.
    expect(stack.simulator.stats.connectionInitPayloads).toHaveLength(1);
  });
});

describe('when IOmeter is down', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await stack.simulator.close();
  });
  afterAll(() => stack.close());

  it('answers queries with UPSTREAM_UNAVAILABLE and logs the cause under the request id', async () => {
    const { body, headers } = await postGraphQL(stack.gateway.url, '{ provider { id } }', undefined, { 'x-request-id': 'req-down-1' });
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/unavailable/i), extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(JSON.stringify(body)).not.toContain(String(stack.simulator.port));
    expect(headers.get('x-request-id')).toBe('req-down-1');
    const logged = stack.logs.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'upstream failure');
    expect(logged).toMatchObject({ requestId: 'req-down-1', code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('generates a request id when the client sends none or an unusable one', async () => {
    const { headers } = await postGraphQL(stack.gateway.url, '{ provider { id } }', undefined, { 'x-request-id': 'bad id with spaces' });
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['WebSocket', (stack: Stack) => subscribeWs(stack.gateway.wsUrl, READINGS, 1)],
    ['SSE', (stack: Stack) => subscribeSse(stack.gateway.url, READINGS, 1)],
  ])('fails a %s subscription once the retry budget is spent', async (_transport, subscribe) => {
    const [result] = await within(subscribe(stack).done, 20_000, 'the subscription\'s UPSTREAM_UNAVAILABLE error');
    expect(result.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
  });
});

describe('when IOmeter hangs', () => {
  let stack: Stack;
  let hanging: Server;
  beforeAll(async () => {
    hanging = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    stack = await startStack({ upstream: { endpoint: `http://127.0.0.1:${port}/v1/query`, timeoutMs: 500 } });
  });
  afterAll(async () => {
    await stack.close();
    hanging.closeAllConnections();
    hanging.close();
  });

  it('gives up after the configured timeout with UPSTREAM_TIMEOUT', async () => {
    // The upstream never answers, so only the gateway's own 500 ms timeout can produce this code.
    const { body } = await postGraphQL(stack.gateway.url, '{ provider { id } }');
    expect(body.errors?.[0].extensions?.code).toBe('UPSTREAM_TIMEOUT');
  });
});

describe('when the upstream WebSocket drops mid-stream', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('resubscribes and keeps streaming to the client', async () => {
    const subscription = subscribeWs(stack.gateway.wsUrl, READINGS, 100);
    await waitFor(() => subscription.results.length >= 3, 20_000, 'three readings before the drop');
    stack.simulator.dropConnections();
    const results = await within(subscription.done, 25_000, '100 readings across the drop');
    expect(results).toHaveLength(100);
    expect(results.every((result) => result.errors === undefined)).toBe(true);
  });
});
