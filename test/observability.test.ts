import { identityHash } from '../src/identity/identityHash';
import { basicAuthorization } from '../src/upstream/credentials';
import { openDatabase } from '../src/database';
import { postGraphQL, subscribeWs } from './helpers/clients';
import { createScratchPostgres } from './helpers/database';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { waitFor } from './helpers/simulator';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';
import { staffAuthorization } from './helpers/tokens';

const PROVIDER_NAME = 'query ProviderName { provider { id name } }';

/** Tests here start whole stacks; on a busy machine that alone can take most of jest's default 30 s. */
const STACK_MS = 90_000;

const readyzUrl = (stack: Stack) => stack.gateway.url.replace('/graphql', '/readyz');

async function readiness(stack: Stack): Promise<{ status: number; body: any; text: string }> {
  const response = await fetch(readyzUrl(stack));
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

describe('/readyz', () => {
  it('answers 200 once IOmeter, Redis and PostgreSQL all answer', async () => {
    const scratch = await createScratchPostgres();
    const database = await openDatabase({ url: scratch.url, embeddedDir: 'memory://' });
    const prefix = uniqueKeyPrefix('obs');
    const stack = await startStack({ database, env: { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix } });
    try {
      // Redis connects in the background after start-up; until then readiness is 200 but 'degraded'.
      await waitFor(async () => (await readiness(stack)).body.status === 'ready', 20_000, "readiness 'ready' once Redis connects");
      expect((await readiness(stack)).body).toEqual({ status: 'ready', checks: { upstream: 'ok', database: 'ok', redis: 'ok' } });
      expect((await fetch(readyzUrl(stack).replace('/readyz', '/healthz'))).status).toBe(200);
    } finally {
      await stack.close();
      await database.close();
      await scratch.drop();
      await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
    }
  }, STACK_MS);

  it('asks IOmeter at most once for any number of probes within its 5 s cache window', async () => {
    const stack = await startStack();
    try {
      const before = stack.simulator.stats.graphqlRequests;
      const probes = await Promise.all(Array.from({ length: 20 }, () => readiness(stack)));
      expect(probes.map((probe) => probe.body.checks.upstream)).toEqual(Array(20).fill('ok'));
      expect(stack.simulator.stats.graphqlRequests - before).toBeLessThanOrEqual(1);
    } finally {
      await stack.close();
    }
  }, STACK_MS);

  it('stays ready (200, degraded) naming IOmeter when it is down, without its address or credentials', async () => {
    const stack = await startStack({ env: { METRICS_PORT: '0' } });
    try {
      await stack.simulator.close();
      const { status, body, text } = await readiness(stack);
      // IOmeter is every replica's: taking this one out would take them all out, and the breaker's masked errors with them.
      expect(status).toBe(200);
      expect(body).toEqual({ status: 'degraded', checks: { upstream: 'down: UPSTREAM_UNAVAILABLE', database: 'ok' } });
      const metrics = await (await fetch(`http://127.0.0.1:${stack.gateway.metricsPort}/metrics`)).text();
      expect(sample(metrics, 'iometer_gateway_dependency_up', { dependency: 'upstream' })).toBe(0);
      expect(sample(metrics, 'iometer_gateway_dependency_up', { dependency: 'database' })).toBe(1);
      expect(text).not.toContain(String(stack.simulator.port));
      expect(text).not.toContain(stack.simulator.secret);
    } finally {
      await stack.close();
    }
  }, STACK_MS);

  it('stays ready (200, degraded) naming Redis when Redis is unreachable, and serves queries', async () => {
    const stack = await startStack({ env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_ENABLED: 'false' } });
    try {
      const { status, body } = await readiness(stack);
      expect(status).toBe(200);
      expect(body.status).toBe('degraded');
      expect((await postGraphQL(stack.gateway.url, PROVIDER_NAME)).body.data?.provider?.name).toEqual(expect.any(String));
      expect(body.checks).toEqual({ upstream: 'ok', database: 'ok', redis: expect.stringMatching(/^down: /) });
    } finally {
      await stack.close();
    }
  }, STACK_MS);

  it('stays ready (200, degraded) naming the database when PostgreSQL loses it', async () => {
    const scratch = await createScratchPostgres();
    const database = await openDatabase({ url: scratch.url, embeddedDir: 'memory://' }, { onError: () => {} });
    const stack = await startStack({ database });
    try {
      expect((await readiness(stack)).status).toBe(200);
      await scratch.drop();
      const { status, body } = await readiness(stack);
      expect(status).toBe(200);
      expect(body.status).toBe('degraded');
      expect(body.checks).toEqual({ upstream: 'ok', database: expect.stringMatching(/^down: /) });
    } finally {
      await stack.close();
      await database.close();
    }
  }, STACK_MS);
});

/** The sum of a metric's samples whose labels include `labels`, from the Prometheus text format. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const values = text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0);
}

describe('/metrics', () => {
  const TOKEN = 'metrics-token-for-the-observability-test';
  let stack: Stack;
  const metricsUrl = () => stack.gateway.url.replace('/graphql', '/metrics');
  const scrape = async () => {
    const response = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    return response.text();
  };

  beforeAll(async () => {
    stack = await startStack({ env: { METRICS_TOKEN: TOKEN } });
  }, STACK_MS);
  afterAll(() => stack.close());

  it('refuses scrapers without the Bearer token', async () => {
    expect((await fetch(metricsUrl())).status).toBe(401);
    expect((await fetch(metricsUrl(), { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
  });

  it('counts requests, errors by code, upstream calls and cache hits and misses', async () => {
    expect((await postGraphQL(stack.gateway.url, PROVIDER_NAME)).headers.get('x-cache')).toBe('MISS');
    expect((await postGraphQL(stack.gateway.url, PROVIDER_NAME)).headers.get('x-cache')).toBe('HIT');
    stack.simulator.faults.status = 500;
    try {
      const failed = await postGraphQL(stack.gateway.url, 'query Failing { provider { id } }');
      expect(failed.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      stack.simulator.faults.status = undefined;
    }
    const text = await scrape();

    // Every HTTP request, cache hits included.
    expect(sample(text, 'iometer_gateway_http_requests_total', { operationName: 'ProviderName', status: '200', cache: 'MISS' })).toBe(1);
    expect(sample(text, 'iometer_gateway_http_requests_total', { operationName: 'ProviderName', status: '200', cache: 'HIT' })).toBe(1);
    // Operations that executed: the cache answers a hit before parsing, so the plugin's metrics miss it.
    expect(sample(text, 'graphql_yoga_http_duration_count', { operationName: 'ProviderName', statusCode: '200' })).toBe(1);
    expect(sample(text, 'graphql_envelop_request', { operationName: 'ProviderName', operationType: 'query' })).toBe(1);
    expect(sample(text, 'graphql_envelop_request_duration_count', { operationName: 'ProviderName' })).toBe(1);
    expect(sample(text, 'graphql_envelop_request', { operationName: 'Failing' })).toBe(1);
    expect(sample(text, 'graphql_envelop_error_result', { operationName: 'Failing', phase: 'execute', code: 'UPSTREAM_UNAVAILABLE' })).toBe(1);
    expect(sample(text, 'iometer_upstream_requests_total', { operationType: 'query', status: '200' })).toBe(1);
    expect(sample(text, 'iometer_upstream_requests_total', { operationType: 'query', status: '500' })).toBe(1);
    expect(sample(text, 'iometer_upstream_request_duration_seconds_count', { operationType: 'query' })).toBe(2);
    expect(sample(text, 'iometer_gateway_cache_hits_total')).toBe(1);
    expect(sample(text, 'iometer_gateway_cache_misses_total')).toBe(2);
    expect(sample(text, 'iometer_upstream_circuit_state')).toBe(0);
  });

  it('reports client and upstream subscriptions and the readings fanned out to them', async () => {
    // More results than will arrive: the helper unsubscribes once it has them all.
    const subscription = subscribeWs(stack.gateway.wsUrl, 'subscription { readings { time } }', Number.MAX_SAFE_INTEGER);
    try {
      await waitFor(() => subscription.results.length >= 2, 10_000);
      const text = await scrape();
      expect(sample(text, 'iometer_gateway_client_subscriptions')).toBe(1);
      expect(sample(text, 'iometer_gateway_upstream_subscriptions')).toBe(1);
      expect(sample(text, 'iometer_gateway_readings_fanned_out_total')).toBeGreaterThanOrEqual(2);
    } finally {
      subscription.close();
    }
    await waitFor(async () => sample(await scrape(), 'iometer_gateway_client_subscriptions') === 0);
  });
});

describe('/metrics on METRICS_PORT', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { METRICS_PORT: '0', RATE_LIMIT_MAX: '2' } });
  }, STACK_MS);
  afterAll(() => stack.close());

  it('is served on its own port only, and counts rate-limited operations', async () => {
    const codes = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      codes.push((await postGraphQL(stack.gateway.url, PROVIDER_NAME)).body.errors?.[0]?.extensions?.code);
    }
    expect(codes).toEqual([undefined, undefined, 'RATE_LIMITED']);

    expect((await fetch(stack.gateway.url.replace('/graphql', '/metrics'))).status).not.toBe(200);
    const response = await fetch(`http://127.0.0.1:${stack.gateway.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(sample(text, 'iometer_gateway_rate_limited_total')).toBe(1);
    // A refused operation never ran: its client-chosen name is no label (src/metrics/operationLabels.ts).
    expect(sample(text, 'iometer_gateway_http_requests_total', { operationName: 'invalid', status: '429' })).toBe(1);
    expect(sample(text, 'iometer_gateway_http_requests_total', { operationName: 'ProviderName', status: '200' })).toBe(2);
  });
});

describe('request log', () => {
  const JWT_SECRET = 'observability-test-jwt-secret-of-32-chars';
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      env: { ...OUT_OF_SANDBOX_ENV, AUTH_JWT_SECRET: JWT_SECRET },
    });
  }, STACK_MS);
  afterAll(() => stack.close());

  const requestLines = () => stack.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request completed');

  it('writes one line per request with request id, operation, identity hash, duration and cache status', async () => {
    const authorization = await staffAuthorization(JWT_SECRET, 'ops-1');
    const first = await postGraphQL(stack.gateway.url, PROVIDER_NAME, undefined, { authorization, 'x-request-id': 'log-1' });
    await postGraphQL(stack.gateway.url, PROVIDER_NAME, undefined, { authorization, 'x-request-id': 'log-2' });
    await postGraphQL(stack.gateway.url, PROVIDER_NAME, undefined, { 'x-request-id': 'log-3' });
    expect(first.headers.get('x-request-id')).toBe('log-1');

    const identity = identityHash({ via: 'jwt', role: 'staff', subject: 'ops-1' });
    const lines = requestLines();
    expect(lines.filter((line) => line.requestId === 'log-1')).toEqual([
      expect.objectContaining({ level: 30, operationName: 'ProviderName', identity, status: 200, cache: 'MISS', durationMs: expect.any(Number) }),
    ]);
    expect(lines.find((line) => line.requestId === 'log-2')).toMatchObject({ operationName: 'ProviderName', identity, cache: 'HIT' });
    expect(lines.find((line) => line.requestId === 'log-3')).toMatchObject({ identity: 'anonymous', status: 401 });
  });

  it('never logs the IOmeter secret, its Basic header or a client bearer token', async () => {
    const authorization = await staffAuthorization(JWT_SECRET, 'ops-2');
    const jwt = authorization.slice('Bearer '.length);
    await postGraphQL(stack.gateway.url, 'query Again { provider { id } }', undefined, { authorization });
    const logged = stack.logs.join('\n');
    const basic = basicAuthorization(stack.simulator.token, stack.simulator.secret).slice('Basic '.length);
    expect(requestLines().length).toBeGreaterThanOrEqual(4);
    expect(logged).not.toContain(stack.simulator.secret);
    expect(logged).not.toContain(basic);
    expect(logged).not.toContain(jwt);
  });
});
