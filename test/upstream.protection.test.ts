import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { ExecutionResult } from 'graphql';
import { parse } from 'graphql';
import { createLogger } from '../src/logging/logger';
import { ConcurrencyGate } from '../src/upstream/concurrencyGate';
import { createIometerUpstream, type UpstreamProtection } from '../src/upstream';
import { retryAfterMs } from '../src/upstream/httpFetch';
import { postGraphQL } from './helpers/clients';
import { within } from './helpers/simulator';
import { startStack } from './helpers/stack';

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  delayMs?: number;
  /** The body compressed with this Content-Encoding. */
  encoding?: 'gzip' | 'br';
  /** Half the body is sent, then the connection is cut. */
  cutOff?: boolean;
}

const PROVIDER_ID = '578936dc-8020-4022-a560-2f59d2dca9ee';
const OK: Reply = { status: 200, body: { data: { provider: { id: PROVIDER_ID } } } };

/**
 * A stand-in for IOmeter on a free loopback port: answers each call with the next scripted reply
 * (the last one repeats) and records when calls arrive and how many overlap.
 */
class FakeUpstream {
  readonly calls: Array<{ at: number; body: string }> = [];
  inFlight = 0;
  maxInFlight = 0;
  private server?: Server;
  private script: Reply[] = [OK];

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1/query`;
  }

  answer(...replies: Reply[]): void {
    this.script = replies;
    this.calls.length = 0;
    this.maxInFlight = 0;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of request) body += chunk;
    const reply = this.script[Math.min(this.calls.length, this.script.length - 1)]!;
    this.calls.push({ at: Date.now(), body });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    this.inFlight -= 1;
    const text = JSON.stringify(reply.body ?? { errors: [{ message: 'busy' }] });
    const payload = reply.encoding === 'gzip' ? gzipSync(text) : reply.encoding === 'br' ? brotliCompressSync(text) : Buffer.from(text);
    const encoding = reply.encoding ? { 'content-encoding': reply.encoding } : {};
    response.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': String(payload.length), ...encoding, ...reply.headers });
    if (reply.cutOff) {
      response.write(payload.subarray(0, payload.length >> 1), () => response.socket?.destroy());
      return;
    }
    response.end(payload);
  }
}

const PROTECTION: UpstreamProtection = { maxConcurrency: 32, queueTimeoutMs: 5_000, retries: 2, retryMaxDelayMs: 5_000, breakerFailures: 1_000, breakerCooldownMs: 30_000, maxResponseBytes: 1_048_576 };
const logger = createLogger({ level: 'silent' });

describe('upstream protection (executor against a fake IOmeter)', () => {
  const upstream = new FakeUpstream();
  beforeAll(() => upstream.start());
  afterAll(() => upstream.close());

  async function run(document: string, protection: Partial<UpstreamProtection> = {}, timeoutMs = 5_000, variables?: Record<string, unknown>) {
    const { executor: iometer } = createIometerUpstream(
      { endpoint: upstream.url, wsEndpoint: upstream.url.replace('http', 'ws'), token: 't', secret: 's', timeoutMs },
      { logger, protection: { ...PROTECTION, ...protection } },
    );
    return (await iometer({ document: parse(document), variables })) as ExecutionResult;
  }

  const codeOf = (result: ExecutionResult) => result.errors?.[0]?.extensions?.code;

  it('reads answers IOmeter compressed with gzip or brotli', async () => {
    for (const encoding of ['gzip', 'br'] as const) {
      upstream.answer({ ...OK, encoding });
      const result = await run('{ provider { id } }');
      expect(result).toEqual({ data: { provider: { id: PROVIDER_ID } } });
    }
  });

  it('answers UPSTREAM_UNAVAILABLE when IOmeter cuts the connection in the middle of its answer', async () => {
    upstream.answer({ ...OK, cutOff: true });
    const result = await run('{ provider { id } }', { retries: 0 });
    expect(codeOf(result)).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('retries a query after 503, not before the Retry-After it was given', async () => {
    upstream.answer({ status: 503, headers: { 'retry-after': '1' } }, OK);
    const result = await run('query { provider { id } }');
    expect(result).toEqual({ data: { provider: { id: PROVIDER_ID } } });
    expect(upstream.calls).toHaveLength(2);
    expect(upstream.calls[1]!.at - upstream.calls[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('retries a query after 429, with back-off when no Retry-After is given', async () => {
    upstream.answer({ status: 429 }, { status: 429, headers: { 'retry-after': '0' } }, OK);
    const result = await run('query { provider { id } }');
    expect(result.errors).toBeUndefined();
    expect(upstream.calls).toHaveLength(3);
  });

  it('never retries a mutation: one call, UPSTREAM_UNAVAILABLE', async () => {
    upstream.answer({ status: 503, headers: { 'retry-after': '0' } }, OK);
    const result = await run('mutation { updateLicense(installationId: "x") { status } }');
    expect(codeOf(result)).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstream.calls).toHaveLength(1);

    upstream.answer({ status: 429, headers: { 'retry-after': '0' } }, OK);
    expect(codeOf(await run('mutation { updateLicense(installationId: "x") { status } }'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstream.calls).toHaveLength(1);
  });

  it('gives up after IOMETER_RETRIES retries', async () => {
    upstream.answer({ status: 503, headers: { 'retry-after': '0' } });
    const result = await run('query { provider { id } }', { retries: 2 });
    expect(codeOf(result)).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstream.calls).toHaveLength(3);
  });

  it('fails at once when the Retry-After is longer than the bound or the request timeout', async () => {
    // Each answer must come before the wait it refuses would have ended (the bound, the Retry-After).
    upstream.answer({ status: 503, headers: { 'retry-after': '30' } }, OK);
    const bounded = run('query { provider { id } }', { retryMaxDelayMs: 5_000 });
    expect(codeOf(await within(bounded, 5_000, 'an answer before the 5 s retry bound'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstream.calls).toHaveLength(1);

    // A wait until the 1 s request timeout would answer UPSTREAM_TIMEOUT, not UPSTREAM_UNAVAILABLE.
    upstream.answer({ status: 429, headers: { 'retry-after': '2' } }, OK);
    const beyondTimeout = run('query { provider { id } }', {}, 1_000);
    expect(codeOf(await within(beyondTimeout, 2_000, 'an answer before the 2 s Retry-After'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstream.calls).toHaveLength(1);
  });

  it('never has more than IOMETER_MAX_CONCURRENCY requests in flight, and queues the rest', async () => {
    upstream.answer({ ...OK, delayMs: 100 });
    const { executor: iometer } = createIometerUpstream(
      { endpoint: upstream.url, wsEndpoint: upstream.url.replace('http', 'ws'), token: 't', secret: 's', timeoutMs: 5_000 },
      { logger, protection: { ...PROTECTION, maxConcurrency: 3 } },
    );
    const document = parse('query ($n: Int) { provider { id n: id } }');
    // Distinct variables, so the HTTP executor cannot merge identical in-flight requests.
    const results = (await Promise.all(
      Array.from({ length: 12 }, (_, n) => iometer({ document, variables: { n } })),
    )) as ExecutionResult[];
    expect(results.every((result) => result.errors === undefined)).toBe(true);
    expect(upstream.calls).toHaveLength(12);
    expect(upstream.maxInFlight).toBe(3);
  });

  it('answers UPSTREAM_UNAVAILABLE when no slot frees up within IOMETER_QUEUE_TIMEOUT', async () => {
    upstream.answer({ ...OK, delayMs: 1_000 });
    const { executor: iometer } = createIometerUpstream(
      { endpoint: upstream.url, wsEndpoint: upstream.url.replace('http', 'ws'), token: 't', secret: 's', timeoutMs: 5_000 },
      { logger, protection: { ...PROTECTION, maxConcurrency: 1, queueTimeoutMs: 200 } },
    );
    const document = parse('query ($n: Int) { provider { id n: id } }');
    let slowAnswered = false;
    const slow = (iometer({ document, variables: { n: 1 } }) as Promise<ExecutionResult>).finally(() => (slowAnswered = true));
    const queued = (await iometer({ document, variables: { n: 2 } })) as ExecutionResult;
    expect(codeOf(queued)).toBe('UPSTREAM_UNAVAILABLE');
    // It gave up while the slot was still taken, not when the slow request freed it.
    expect(slowAnswered).toBe(false);
    expect((await slow).errors).toBeUndefined();
    expect(upstream.calls).toHaveLength(1);
  });
});

describe('the concurrency gate', () => {
  it('hands slots over in arrival order and gives up waiting after the timeout', async () => {
    const gate = new ConcurrencyGate(1);
    const order: number[] = [];
    const first = await gate.acquire(1_000);
    const second = gate.acquire(1_000).then((release) => (order.push(2), release));
    const third = gate.acquire(1_000).then((release) => (order.push(3), release));
    const late = gate.acquire(50);
    await expect(late).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(gate.queued).toBe(2);
    first();
    first(); // idempotent: does not free a second slot
    (await second)();
    (await third)();
    expect(order).toEqual([2, 3]);
    expect(gate.inFlight).toBe(0);
  });

  it('leaves the queue when the caller aborts', async () => {
    const gate = new ConcurrencyGate(1);
    const release = await gate.acquire(1_000);
    const controller = new AbortController();
    const waiting = gate.acquire(1_000, controller.signal);
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(gate.queued).toBe(0);
    release();
    expect(gate.inFlight).toBe(0);
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:02 GMT', now)).toBe(2_000);
    expect(retryAfterMs('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('upstream protection through the gateway', () => {
  const upstream = new FakeUpstream();
  beforeAll(() => upstream.start());
  afterAll(() => upstream.close());

  it('retries a client query after IOmeter answered 503, but not a mutation', async () => {
    const stack = await startStack({ env: { CACHE_TTL: '0', IOMETER_RETRIES: '1' }, upstream: { endpoint: upstream.url } });
    try {
      upstream.answer({ status: 503, headers: { 'retry-after': '0' } }, OK);
      const query = await postGraphQL(stack.gateway.url, '{ provider { id } }');
      expect(query.body).toEqual({ data: { provider: { id: PROVIDER_ID } } });
      expect(upstream.calls).toHaveLength(2);

      upstream.answer({ status: 503, headers: { 'retry-after': '0' } }, OK);
      const mutation = await postGraphQL(
        stack.gateway.url,
        `mutation { updateLicense(installationId: "${PROVIDER_ID}", setEndTime: { endTime: "2030-01-01T00:00:00Z" }) { status } }`,
      );
      expect(mutation.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(upstream.calls).toHaveLength(1);
    } finally {
      await stack.close();
    }
  });

  it('refuses an answer larger than IOMETER_MAX_RESPONSE_BYTES, sent plain or compressed: UPSTREAM_ERROR, none of its text', async () => {
    const stack = await startStack({ env: { CACHE_TTL: '0', IOMETER_MAX_RESPONSE_BYTES: '4096' }, upstream: { endpoint: upstream.url } });
    try {
      const huge = { status: 200, body: { data: { provider: { id: PROVIDER_ID, name: `upstream text ${'x'.repeat(8_192)}` } } } };
      for (const encoding of [undefined, 'gzip', 'br'] as const) {
        upstream.answer({ ...huge, encoding });
        const { status, body, text } = await postGraphQL(stack.gateway.url, '{ provider { id name } }');
        expect({ encoding, status, errors: body.errors }).toEqual({
          encoding,
          status: 200,
          errors: [expect.objectContaining({ message: 'The IOmeter API returned an unexpected response.', path: ['provider'], extensions: { code: 'UPSTREAM_ERROR' } })],
        });
        expect(text).not.toContain('upstream text');
      }
      // A small answer is still read.
      upstream.answer(OK);
      expect((await postGraphQL(stack.gateway.url, '{ provider { id } }')).body).toEqual({ data: { provider: { id: PROVIDER_ID } } });
    } finally {
      await stack.close();
    }
  });
});
