import Redis from 'ioredis';
import { identityHash } from '../src/identity';
import { jose } from '../src/identity/jose';
import { postGraphQL, subscribeSse, subscribeWs, UNTIL_CLOSED, type Subscribed } from './helpers/clients';
import { deleteKeysWithPrefix, keysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

const SECRET = 'rate-limit-test-secret-of-32-characters-at-least';
const READINGS_PAGE = '{ provider { id readings(limit: 1) { cursor } } }';
const READINGS_SUBSCRIPTION = 'subscription { readings { time } }';

async function bearer(subject: string, role: 'staff' | 'customer' = 'staff'): Promise<Record<string, string>> {
  const token = await new jose.SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
  return { authorization: `Bearer ${token}` };
}

const staffKey = (subject: string) => `id:${identityHash({ role: 'staff', subject, via: 'jwt' })}`;

const MAX = 10;

describe('rate limits with Redis, on two gateways sharing it', () => {
  const prefix = uniqueKeyPrefix('test-rl');
  const env = {
    AUTH_JWT_SECRET: SECRET,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    CACHE_TTL: '0',
    RATE_LIMIT_MAX: String(MAX),
    RATE_LIMIT_WINDOW: '1m',
    RATE_LIMIT_FIELDS: 'IometerProvider.readings=2/1m',
    RATE_LIMIT_MAX_SUBSCRIPTIONS: '2',
    // Room for one operation that spends a whole directive budget (upsertCustomer: 30 a minute).
    LIMIT_MAX_ALIASES: '40',
    LIMIT_MAX_COST: '100000',
  };
  let first: Stack;
  let second: Stack;
  let url: string;
  const open: Subscribed<any>[] = [];

  beforeAll(async () => {
    [first, second] = await Promise.all([startStack({ env }), startStack({ env })]);
    url = first.gateway.url;
  });
  afterAll(async () => {
    for (const subscription of open) subscription.close();
    await Promise.all([first.close(), second.close()]);
    await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
  });

  it('admits RATE_LIMIT_MAX operations per identity, then answers 429 with Retry-After and RATE_LIMITED', async () => {
    const alice = await bearer('alice@example.com');
    for (let i = 0; i < MAX; i += 1) expect((await postGraphQL(url, '{ __typename }', undefined, alice)).status).toBe(200);

    const refused = await postGraphQL(url, '{ __typename }', undefined, alice);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors).toEqual([{ message: expect.stringMatching(/rate limit/i), extensions: { code: 'RATE_LIMITED' } }]);
    expect(refused.text).not.toContain('alice');

    // The other gateway knows: the budget is per identity, not per replica.
    expect((await postGraphQL(second.gateway.url, '{ __typename }', undefined, alice)).status).toBe(429);
    // Another identity has its own budget.
    expect((await postGraphQL(url, '{ __typename }', undefined, await bearer('bob'))).status).toBe(200);
  });

  it('admits exactly RATE_LIMIT_MAX of a concurrent burst from one identity, whichever gateway it hits', async () => {
    const frank = await bearer('frank');
    const responses = await Promise.all(
      Array.from({ length: 6 * MAX }, (_, index) => postGraphQL((index % 2 ? first : second).gateway.url, '{ __typename }', undefined, frank)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(MAX);
    expect(statuses.filter((status) => status === 429)).toHaveLength(5 * MAX);
  });

  it('refuses an operation over a field budget as a whole, before anything reaches IOmeter', async () => {
    const carol = await bearer('carol');
    for (let i = 0; i < 2; i += 1) {
      const { body } = await postGraphQL(url, READINGS_PAGE, undefined, carol);
      expect(body.errors).toBeUndefined();
    }
    first.simulator.resetStats();
    const refused = await postGraphQL(url, READINGS_PAGE, undefined, carol);
    expect(refused.status).toBe(429);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(first.simulator.stats.graphqlRequests).toBe(0); // not even provider { id }

    // The operation budget is separate: fields without a budget still work.
    const { body } = await postGraphQL(url, '{ provider { id } }', undefined, carol);
    expect(body.errors).toBeUndefined();
  });

  it('counts every selection of a budgeted field, aliases included', async () => {
    const dave = await bearer('dave');
    const twoPages = '{ provider { a: readings(limit: 1) { cursor } b: readings(limit: 1) { cursor } } }';
    expect((await postGraphQL(url, twoPages, undefined, dave)).body.errors).toBeUndefined();
    expect((await postGraphQL(url, READINGS_PAGE, undefined, dave)).status).toBe(429);
  });

  it('admits exactly a field budget of a concurrent burst from one identity, whichever gateway it hits', async () => {
    const kim = await bearer('kim');
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) => postGraphQL((index % 2 ? first : second).gateway.url, READINGS_PAGE, undefined, kim)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(2);
    expect(statuses.filter((status) => status === 429)).toHaveLength(6);
  });

  it('enforces a @rateLimit directive of the schema and does not run a refused mutation', async () => {
    const erin = await bearer('erin');
    // upsertCustomer carries @rateLimit(max: 30, window: "1m"): one operation with 30 selections spends it.
    const thirty = Array.from({ length: 30 }, (_, index) => `u${index}: upsertCustomer(input: { externalId: "RL-1", name: "First" }) { name }`);
    const spent = await postGraphQL(url, `mutation { ${thirty.join(' ')} }`, undefined, erin);
    expect(spent.body.errors).toBeUndefined();
    const refused = await postGraphQL(url, 'mutation { upsertCustomer(input: { externalId: "RL-1", name: "Second" }) { name } }', undefined, erin);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const { body } = await postGraphQL(url, '{ customer(externalId: "RL-1") { name } }', undefined, erin);
    expect(body.data).toEqual({ customer: { name: 'First' } });
  });

  it('limits anonymous sandbox callers by IP address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= MAX; i += 1) statuses.push((await postGraphQL(url, '{ __typename }')).status);
    expect(statuses.slice(0, MAX).every((status) => status === 200)).toBe(true);
    expect(statuses[MAX]).toBe(429);
  });

  it('keys Redis by hashed identity, never by subject or address', async () => {
    // Its own callers, so that it holds whichever tests ran before it.
    await postGraphQL(url, '{ __typename }', undefined, await bearer('olga@example.com'));
    await postGraphQL(url, READINGS_PAGE, undefined, await bearer('pavel'));
    await postGraphQL(url, '{ __typename }');
    const keys = await keysWithPrefix(SHARED_REDIS_URL, prefix);
    expect(keys).toContain(`${prefix}rl:ops:${staffKey('olga@example.com')}`);
    expect(keys).toContain(`${prefix}rl:IometerProvider.readings:${staffKey('pavel')}`);
    expect(keys.some((key) => /rl:ops:ip:[0-9a-f]{16}$/.test(key))).toBe(true);
    expect(keys.join('\n')).not.toMatch(/olga|pavel|alice|carol|127\.0\.0\.1/);
  });

  it('caps concurrent subscriptions per identity across gateways; closing one frees a slot', async () => {
    const grace = await bearer('grace');
    const connectionParams = { authorization: grace.authorization };
    const redis = new Redis(SHARED_REDIS_URL);
    const leases = () => redis.zcard(`${prefix}rl:subscriptions:${staffKey('grace')}`);
    try {
      const onFirst = subscribeWs(first.gateway.wsUrl, READINGS_SUBSCRIPTION, UNTIL_CLOSED, { connectionParams });
      const onSecond = subscribeWs(second.gateway.wsUrl, READINGS_SUBSCRIPTION, UNTIL_CLOSED, { connectionParams });
      open.push(onFirst, onSecond);
      await waitFor(() => onFirst.results.length > 0 && onSecond.results.length > 0, 15_000, 'a reading on both replicas');
      expect(await leases()).toBe(2);

      const [overWs] = await subscribeWs(first.gateway.wsUrl, READINGS_SUBSCRIPTION, 1, { connectionParams }).done;
      expect(overWs.data).toBeUndefined();
      expect(overWs.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })]);

      // Over SSE the refusal comes before the stream starts: a plain 429.
      await expect(subscribeSse(second.gateway.url, READINGS_SUBSCRIPTION, 1, { headers: grace }).done).rejects.toThrow(/429/);

      onFirst.close();
      await waitFor(async () => (await leases()) === 1, 15_000, 'one subscription lease left');
      const [result] = await subscribeWs(second.gateway.wsUrl, READINGS_SUBSCRIPTION, 1, { connectionParams }).done;
      expect(result.errors).toBeUndefined();
      expect(result.data.readings).toBeDefined();
    } finally {
      redis.disconnect();
    }
  });
});

describe('rate limits without Redis (in-memory, per process), with the response cache on', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { AUTH_JWT_SECRET: SECRET, CACHE_TTL: '30s', RATE_LIMIT_MAX: '5', RATE_LIMIT_MAX_SUBSCRIPTIONS: '1' } });
  });
  afterAll(() => stack.close());

  it('limits operations and counts opening a subscription against the budget', async () => {
    const henry = await bearer('henry');
    const subscription = subscribeWs(stack.gateway.wsUrl, READINGS_SUBSCRIPTION, 1, { connectionParams: henry });
    const [first] = await subscription.done;
    expect(first.errors).toBeUndefined();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await postGraphQL(stack.gateway.url, '{ __typename }', undefined, henry)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it('counts response-cache hits against the operation budget', async () => {
    const jack = await bearer('jack');
    stack.simulator.resetStats();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await postGraphQL(stack.gateway.url, '{ provider { id } }', undefined, jack)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(stack.simulator.stats.graphqlRequests).toBeLessThanOrEqual(1); // the rest were cache hits
  });

  it('counts 304 revalidations (If-None-Match answered by the response cache) against the operation budget', async () => {
    const kate = await bearer('kate');
    const revalidate = (etag: string) =>
      fetch(stack.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'if-none-match': etag, ...kate },
        body: JSON.stringify({ query: '{ provider { id } }' }),
      });
    const first = await postGraphQL(stack.gateway.url, '{ provider { id } }', undefined, kate);
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await revalidate(etag)).status);
    expect(statuses).toEqual([304, 304, 304, 304, 429]);
    const refused = await revalidate(etag);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(((await refused.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('RATE_LIMITED');
  });

  it('caps concurrent subscriptions and frees the slot when the subscription ends', async () => {
    const ida = await bearer('ida');
    const held = subscribeWs(stack.gateway.wsUrl, READINGS_SUBSCRIPTION, UNTIL_CLOSED, { connectionParams: ida });
    await waitFor(() => held.results.length > 0, 15_000, 'a first reading for the held subscription');
    const [refused] = await subscribeWs(stack.gateway.wsUrl, READINGS_SUBSCRIPTION, 1, { connectionParams: ida }).done;
    expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    held.close();
    // The slot is free once the gateway has heard "complete": ask until it is, instead of guessing how long that takes.
    let again: { errors?: Array<{ extensions?: { code?: string } }> } | undefined;
    await waitFor(
      async () => {
        [again] = await subscribeWs(stack.gateway.wsUrl, READINGS_SUBSCRIPTION, 1, { connectionParams: ida }).done;
        return again?.errors?.[0]?.extensions?.code !== 'RATE_LIMITED';
      },
      15_000,
      'the subscription slot to be freed',
    );
    expect(again?.errors).toBeUndefined();
  });
});
