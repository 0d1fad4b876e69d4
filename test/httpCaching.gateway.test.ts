import { hashApiKey } from '../src/identity';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { waitFor } from './helpers/simulator';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';
import { customerHeaders } from './helpers/tokens';

/*
 * HTTP caching through the gateway's HTTP surface: Cache-Control from the response cache's TTL and
 * scope, quoted ETags that revalidate (304) for their own caller in every form a client or CDN sends
 * them back, and GET for queries.
 */

const SECRET = 'http-caching-test-secret-of-32-characters';
const STAFF_KEY = 'http-caching-staff-key';
const ENV = {
  ...OUT_OF_SANDBOX_ENV,
  AUTH_JWT_SECRET: SECRET,
  AUTH_API_KEYS: `ops:staff:${hashApiKey(STAFF_KEY)}`,
  RATE_LIMIT_ENABLED: 'false',
  CACHE_TTL: '30s',
  CACHE_TTL_OVERRIDES: 'IometerSigningKey=2s,IometerLicensePool=0',
};
const ETAG = /^"[0-9a-z]+:[0-9a-f]{64}@\d+"$/;

const customer = (externalId: string) => customerHeaders(SECRET, externalId);

function getUrl(url: string, query: string, variables?: Record<string, unknown>): string {
  const search = new URLSearchParams({ query, ...(variables ? { variables: JSON.stringify(variables) } : {}) });
  return `${url}?${search}`;
}

const post = (url: string, query: string, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

describe.each([
  ['in-memory', false],
  ['Redis', true],
])('HTTP caching outside sandbox mode (%s store)', (_store, useRedis) => {
  const prefix = uniqueKeyPrefix('test-http-caching');
  let stack: Stack;
  let url: string;
  let c1: Record<string, string>;
  let c2: Record<string, string>;
  const staff = { 'x-api-key': STAFF_KEY };

  beforeAll(async () => {
    stack = await startStack({ env: { ...ENV, ...(useRedis ? { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}) } });
    url = stack.gateway.url;
    [c1, c2] = await Promise.all([customer('C-1001'), customer('C-1002')]);
  });
  afterAll(async () => {
    await stack?.close();
    if (useRedis) await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
  });

  it('answers a query over GET with private Cache-Control from the TTL, a quoted ETag and Vary on the credentials', async () => {
    const first = await fetch(getUrl(url, 'query Mine { __typename }'), { headers: c1 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('cache-control')).toBe('private, max-age=30');
    expect(first.headers.get('etag')).toMatch(ETAG);
    expect(first.headers.get('vary')).toMatch(/Authorization.*X-Api-Key/);
    expect(await first.json()).toEqual({ data: { __typename: 'Query' } });

    // The entry is stored after the answer went out (in Redis, a round trip later): ask until it is there.
    let again = first;
    await waitFor(
      async () => {
        again = await fetch(getUrl(url, 'query Mine { __typename }'), { headers: c1 });
        return again.headers.get('x-cache') === 'HIT';
      },
      10_000,
      'the answer to be stored',
    );
    expect(again.headers.get('cache-control')).toMatch(/^private, max-age=(\d+)$/);
    expect(Number(/max-age=(\d+)/.exec(again.headers.get('cache-control')!)![1])).toBeLessThanOrEqual(30);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('answers If-None-Match with 304 for the caller whose tag it is, strong, weak or in a list', async () => {
    const document = 'query Revalidate { __typename }';
    const etag = (await fetch(getUrl(url, document), { headers: c1 })).headers.get('etag')!;
    await waitFor(async () => (await fetch(getUrl(url, document), { headers: c1 })).headers.get('x-cache') === 'HIT', 10_000, 'the answer to be stored');
    for (const ifNoneMatch of [etag, `W/${etag}`, `"something-else@1", W/${etag}`]) {
      const response = await fetch(getUrl(url, document), { headers: { ...c1, 'if-none-match': ifNoneMatch } });
      expect({ ifNoneMatch, status: response.status }).toEqual({ ifNoneMatch, status: 304 });
      expect(response.headers.get('etag')).toBe(etag);
      // As long as the entry it confirmed has left, so the client's copy is fresh that long again.
      expect(response.headers.get('cache-control')).toMatch(/^private, max-age=([0-9]|[12][0-9]|30)$/);
    }
    // The same question from another customer is another entry: their copy, not a 304 on the first one's tag.
    const other = await fetch(getUrl(url, document), { headers: { ...c2, 'if-none-match': etag } });
    expect(other.status).toBe(200);
    // An unquoted tag is no tag.
    expect((await fetch(getUrl(url, document), { headers: { ...c1, 'if-none-match': etag.slice(1, -1) } })).status).toBe(200);
  });

  it('does not revalidate a copy older than the entry stored anew after it expired', async () => {
    const keys = 'query Keys { provider { signingKeys { id name } } }';
    const first = await post(url, keys, staff);
    const etag = first.headers.get('etag')!;
    expect(first.headers.get('cache-control')).toBe('private, max-age=2');
    // Polled rather than slept: once the 2 s entry expired, a new one is stored with a later time.
    await waitFor(async () => (await post(url, keys, staff)).headers.get('x-cache') === 'MISS', 15_000, 'the 2 s entry to be stored anew');
    const stale = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'if-none-match': etag, ...staff }, body: JSON.stringify({ query: keys }) });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('etag')).not.toBe(etag);
  });

  it('marks mutations, errors and uncached answers no-store, and refuses mutations over GET', async () => {
    const mutation = await post(url, 'mutation { createRegistrationToken(input: { externalId: "C-1001" }) { __typename } }', staff);
    expect(mutation.headers.get('cache-control')).toBe('no-store');
    expect(mutation.headers.get('etag')).toBeNull();
    const failing = await post(url, '{ nope }', staff);
    expect((await failing.json()).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(failing.headers.get('cache-control')).toBe('no-store');
    const pools = await post(url, 'query Pools { provider { licensePools { id } } }', staff);
    expect(pools.status).toBe(200);
    expect(pools.headers.get('cache-control')).toBe('no-store');
    const overGet = await fetch(getUrl(url, 'mutation { __typename }'), { headers: staff });
    expect(overGet.status).toBe(405);
  });
});

describe('HTTP caching in sandbox mode', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_ENABLED: 'false' } });
  });
  afterAll(() => stack?.close());

  it('lets shared caches keep answers to callers without credentials (public, varying by Origin)', async () => {
    const anonymous = await fetch(getUrl(stack.gateway.url, 'query Open { __typename }'));
    expect(anonymous.headers.get('cache-control')).toBe('public, max-age=30');
    expect(anonymous.headers.get('vary')).toBe('Origin');
  });
});
