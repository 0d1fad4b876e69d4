import { postGraphQL } from './helpers/clients';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

const QUERY = 'query ProviderId { provider { id } }';
/** Failures in a row that open the circuit in these tests. */
const FAILURES = 3;
/** Starting a stack can take most of jest's default 30 s on a busy machine. */
const STACK_MS = 90_000;

const codeOf = async (stack: Stack) => (await postGraphQL(stack.gateway.url, QUERY)).body.errors?.[0]?.extensions?.code;
const upstreamRequests = (stack: Stack) => stack.simulator.stats.httpRequests;
const logged = (stack: Stack, message: string) => stack.logs.some((line) => JSON.parse(line).msg === message);

describe('circuit breaker on the IOmeter source', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      // No retries and no cache: every client query is exactly one upstream request.
      env: { IOMETER_BREAKER_FAILURES: String(FAILURES), IOMETER_BREAKER_COOLDOWN: '2s', IOMETER_RETRIES: '0', CACHE_TTL: '0' },
    });
  }, STACK_MS);
  afterAll(() => stack.close());

  // Each test starts from a healthy IOmeter and a closed circuit, whatever the one before left.
  beforeEach(async () => {
    stack.simulator.faults.status = undefined;
    await waitFor(async () => (await codeOf(stack)) === undefined, 10_000);
    stack.simulator.resetStats();
    stack.logs.length = 0;
  });

  async function openCircuit(): Promise<void> {
    stack.simulator.faults.status = 500;
    for (let attempt = 0; attempt < FAILURES; attempt += 1) expect(await codeOf(stack)).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstreamRequests(stack)).toBe(FAILURES);
  }

  it('fails fast with UPSTREAM_UNAVAILABLE while open, without asking IOmeter, and says so on /readyz', async () => {
    await openCircuit();
    const codes = await Promise.all(Array.from({ length: 5 }, () => codeOf(stack)));
    expect(codes).toEqual(Array(5).fill('UPSTREAM_UNAVAILABLE'));
    expect(upstreamRequests(stack)).toBe(FAILURES);
    expect(logged(stack, 'IOmeter circuit opened: failing fast')).toBe(true);

    const readiness = await fetch(stack.gateway.url.replace('/graphql', '/readyz'));
    // Still ready: every replica shares IOmeter, and this one keeps answering with masked errors.
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toMatchObject({ status: 'degraded', checks: { upstream: 'down: circuit open' } });
    expect(upstreamRequests(stack)).toBe(FAILURES);
  });

  it('lets one probe through after the cool-down and closes again when IOmeter has recovered', async () => {
    await openCircuit();
    stack.simulator.faults.status = undefined;
    await waitFor(async () => (await codeOf(stack)) === undefined, 10_000);
    expect(logged(stack, 'IOmeter circuit half-open: probing')).toBe(true);
    expect(logged(stack, 'IOmeter circuit closed again')).toBe(true);

    const served = upstreamRequests(stack);
    for (let attempt = 0; attempt < 3; attempt += 1) expect(await codeOf(stack)).toBeUndefined();
    expect(upstreamRequests(stack)).toBe(served + 3);
  });

  it('opens again for another cool-down when the probe fails', async () => {
    await openCircuit();
    // Only the probe reaches the still-failing IOmeter; everything else fails fast.
    await waitFor(async () => {
      await codeOf(stack);
      return upstreamRequests(stack) > FAILURES;
    }, 10_000);
    expect(upstreamRequests(stack)).toBe(FAILURES + 1);
    expect(await codeOf(stack)).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstreamRequests(stack)).toBe(FAILURES + 1);
  });
});

describe('circuit breaker and rejected credentials', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      upstream: { secret: 'not-the-secret' },
      env: { IOMETER_BREAKER_FAILURES: String(FAILURES), IOMETER_RETRIES: '0', CACHE_TTL: '0' },
    });
  }, STACK_MS);
  afterAll(() => stack.close());

  it('stays closed: a 401 from IOmeter is no outage, every request is still tried', async () => {
    const attempts = FAILURES + 2;
    for (let attempt = 0; attempt < attempts; attempt += 1) expect(await codeOf(stack)).toBe('UPSTREAM_UNAUTHORIZED');
    expect(stack.simulator.stats.authorizationHeaders).toHaveLength(attempts);
    expect(logged(stack, 'IOmeter circuit opened: failing fast')).toBe(false);
  });
});
