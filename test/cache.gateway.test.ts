import Redis from 'ioredis';
import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { CustomerStore } from '../src/customers/store';
import { hashApiKey } from '../src/identity';
import { jose } from '../src/identity/jose';
import { postGraphQL, subscribeSse, subscribeWs } from './helpers/clients';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { waitFor } from './helpers/simulator';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';

/*
 * The response cache through the gateway's HTTP surface, against the simulator: once with the Redis
 * store (the shared Redis, a key prefix of this run) and once with the in-memory store.
 */

const SECRET = 'cache-test-secret-with-at-least-32-characters';
const STAFF_KEY = 'cache-staff-key';
const AUTH_ENV = {
  ...OUT_OF_SANDBOX_ENV,
  AUTH_JWT_SECRET: SECRET,
  AUTH_API_KEYS: `backoffice:staff:${hashApiKey(STAFF_KEY)}`,
  RATE_LIMIT_ENABLED: 'false',
  // Short enough to watch expire; 0 = never cached.
  CACHE_TTL_OVERRIDES: 'IometerSigningKey=2s,IometerLicensePool=0',
};

async function bearer(claims: Record<string, unknown>): Promise<Record<string, string>> {
  const token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub))
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
  return { authorization: `Bearer ${token}` };
}


describe.each([
  ['Redis', true],
  ['in-memory', false],
])('response cache (%s store)', (_store, useRedis) => {
  const prefix = uniqueKeyPrefix('test-cache');
  let stack: Stack;
  let url: string;
  const headers: Record<'staff' | 'otherStaff' | 'apiKeyStaff' | 'c1001' | 'c1002' | 'c1003' | 'c2002', Record<string, string>> = {} as never;

  const upstreamRequests = () => stack.simulator.stats.graphqlRequests;
  async function query(document: string, who: Record<string, string>, variables?: Record<string, unknown>) {
    const response = await postGraphQL(url, document, variables, who);
    expect(response.status).toBe(200);
    return { cache: response.headers.get('x-cache'), etag: response.headers.get('etag'), data: response.body.data, errors: response.body.errors, body: response.body };
  }

  beforeAll(async () => {
    stack = await startStack({ env: { ...AUTH_ENV, ...(useRedis ? { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}) } });
    await seedSandboxCustomers(new CustomerStore(stack.database), { onboardedExternalIds: ['C-1001', 'C-1002', 'C-1003'] });
    url = stack.gateway.url;
    headers.staff = await bearer({ sub: 'alice', role: 'staff' });
    headers.otherStaff = await bearer({ sub: 'bob', role: 'staff' });
    headers.apiKeyStaff = { 'x-api-key': STAFF_KEY };
    headers.c1001 = await bearer({ sub: 'app-user-1', role: 'customer', externalId: 'C-1001' });
    headers.c1002 = await bearer({ sub: 'app-user-2', role: 'customer', externalId: 'C-1002' });
    headers.c1003 = await bearer({ sub: 'app-user-3', role: 'customer', externalId: 'C-1003' });
    headers.c2002 = await bearer({ sub: 'app-user-4', role: 'customer', externalId: 'C-2002' });
  });

  afterAll(async () => {
    await stack.close();
    // Every key of the prefix, the live-readings stream included, not only the response cache's.
    if (useRedis) await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
  });

  it('answers a repeated query from the cache without asking IOmeter, and staff share entries', async () => {
    const document = 'query Provider { provider { id name installations(pagination: { limit: 3 }) { externalId } } }';
    const before = upstreamRequests();
    const miss = await query(document, headers.staff);
    expect(miss.cache).toBe('MISS');
    expect(upstreamRequests()).toBe(before + 1);
    for (const who of [headers.staff, headers.otherStaff, headers.apiKeyStaff]) {
      const hit = await query(document, who);
      expect(hit.cache).toBe('HIT');
      expect(hit.body).toEqual(miss.body);
    }
    expect(upstreamRequests()).toBe(before + 1);
    expect((miss.body as { extensions?: unknown }).extensions).toBeUndefined();
  });

  it('keeps variables apart: another variable value is another entry', async () => {
    const document = 'query Installation($externalId: String!) { provider { installation(externalId: $externalId) { externalId } } }';
    expect((await query(document, headers.staff, { externalId: 'C-1001' })).cache).toBe('MISS');
    const other = await query(document, headers.staff, { externalId: 'C-1002' });
    expect(other.cache).toBe('MISS');
    expect(other.data.provider.installation.externalId).toBe('C-1002');
    expect((await query(document, headers.staff, { externalId: 'C-1002' })).cache).toBe('HIT');
  });

  it("never gives a customer another customer's or staff's cached response", async () => {
    const names = async (externalId: string) =>
      (await query('query Name($id: String!) { customer(externalId: $id) { name } }', headers.staff, { id: externalId })).data.customer.name;
    const [nameA, nameB] = [await names('C-1001'), await names('C-1002')];
    expect(nameA).not.toBe(nameB);

    const document = '{ me { name externalId } }';
    const asStaff = await query(document, headers.staff);
    expect(asStaff).toMatchObject({ cache: 'MISS', data: { me: null } });
    expect((await query(document, headers.staff)).cache).toBe('HIT');

    const a = await query(document, headers.c1001);
    expect(a).toMatchObject({ cache: 'MISS', data: { me: { name: nameA, externalId: 'C-1001' } } });
    const b = await query(document, headers.c1002);
    expect(b).toMatchObject({ cache: 'MISS', data: { me: { name: nameB, externalId: 'C-1002' } } });
    const aAgain = await query(document, headers.c1001);
    expect(aAgain).toMatchObject({ cache: 'HIT', data: { me: { name: nameA } } });
    const bAgain = await query(document, headers.c1002);
    expect(bAgain).toMatchObject({ cache: 'HIT', data: { me: { name: nameB } } });
    expect((await query(document, headers.staff)).data.me).toBeNull();

    // A customer cannot revalidate (304) against another session's entry, only against their own.
    expect(b.etag).toMatch(/^"[0-9a-f]{16}:[0-9a-f]{64}@\d+"$/);
    const foreign = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'if-none-match': b.etag!, ...headers.c1001 },
      body: JSON.stringify({ query: document }),
    });
    expect(foreign.status).toBe(200);
    expect((await foreign.json()).data.me.name).toBe(nameA);
    const own = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'if-none-match': b.etag!, ...headers.c1002 },
      body: JSON.stringify({ query: document }),
    });
    expect(own.status).toBe(304);
    expect(own.headers.get('x-cache')).toBe('HIT');
  });

  it('expires entries per schema coordinate (IometerSigningKey=2s) and never caches one with TTL 0 (IometerLicensePool=0)', async () => {
    const keys = 'query Keys { provider { signingKeys { id name } } }';
    const provider = 'query Name { provider { name } }';
    expect((await query(keys, headers.staff)).cache).toBe('MISS');
    expect((await query(provider, headers.staff)).cache).toBe('MISS');
    expect((await query(keys, headers.staff)).cache).toBe('HIT');
    // Polled rather than slept: the entry must expire, whenever a busy machine gets there.
    await waitFor(async () => (await query(keys, headers.staff)).cache === 'MISS', 15_000, 'the 2 s signing-key entry to expire');
    // CACHE_TTL (30 s) for a response without a coordinate of its own.
    expect((await query(provider, headers.staff)).cache).toBe('HIT');

    const pools = 'query Pools { provider { licensePools { id usage } } }';
    expect((await query(pools, headers.staff)).cache).toBe('MISS');
    expect((await query(pools, headers.staff)).cache).toBe('MISS');
  });

  it('caches stitched customer → installation queries that select no ids, also through fragments', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      [
        'query Stitched { customers(first: 3) { edges { node { name installation { currentMeter { number } license { status term { period } } devices { core { batteryLevel } } } } } } }',
        headers.staff,
      ],
      ['fragment Meter on IometerInstallation { currentMeter { number latestReadings { value } } } query Own { me { installation { ...Meter } } }', headers.c1001],
    ];
    for (const [document, who] of cases) {
      const miss = await query(document, who);
      expect(miss.errors).toBeUndefined();
      expect(miss.cache).toBe('MISS');
      const hit = await query(document, who);
      expect(hit.cache).toBe('HIT');
      expect(hit.body).toEqual(miss.body);
    }
  });

  it('does not cache errors or partial results', async () => {
    const document = 'query Partial { provider { id } customer { name } }';
    const before = upstreamRequests();
    for (let attempt = 1; attempt <= 2; attempt++) {
      const result = await query(document, headers.staff);
      expect(result.cache).toBe('MISS');
      expect(result.data.provider.id).toEqual(expect.any(String));
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(upstreamRequests()).toBe(before + attempt);
    }
    // A customer refused a field gets the same refusal every time, never someone's cached data.
    const forbidden = await postGraphQL(url, 'query Partial { provider { id } customer { name } }', undefined, headers.c1001);
    expect(forbidden.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(forbidden.body.data ?? null).toBeNull();
  });

  it('never caches WebSocket operations or subscriptions', async () => {
    const before = upstreamRequests();
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [result] = await subscribeWs(stack.gateway.wsUrl, 'query OverWs { provider { id } }', 1, { connectionParams: headers.staff }).done;
      expect(result.data.provider.id).toEqual(expect.any(String));
    }
    expect(upstreamRequests()).toBe(before + 2);
    const readings = await subscribeSse(url, 'subscription { readings { time installation { externalId } } }', 2, { headers: headers.staff }).done;
    expect(readings).toHaveLength(2);
    expect(readings.every((reading) => reading.extensions?.responseCache === undefined)).toBe(true);
  });

  it("updateLicense invalidates that installation's license, also in customers' own entries", async () => {
    const staffView = 'query License { provider { installation(externalId: "C-1003") { license { status endTime } } } }';
    const ownView = 'query MyLicense { me { installation { license { endTime } } } }';
    expect((await query(staffView, headers.staff)).cache).toBe('MISS');
    expect((await query(staffView, headers.staff)).cache).toBe('HIT');
    expect((await query(ownView, headers.c1003)).cache).toBe('MISS');
    expect((await query(ownView, headers.c1003)).cache).toBe('HIT');

    const { id } = (await query('{ provider { installation(externalId: "C-1003") { id } } }', headers.staff)).data.provider.installation;
    const endTime = '2031-02-03T04:05:06Z';
    const updated = await query('mutation ($id: Uuid!, $endTime: DateTime!) { updateLicense(installationId: $id, setEndTime: { endTime: $endTime }) { status } }', headers.staff, {
      id: id.toUpperCase(),
      endTime,
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.cache).toBeNull();

    const fresh = await query(staffView, headers.staff);
    expect(fresh.cache).toBe('MISS');
    expect(Date.parse(fresh.data.provider.installation.license.endTime)).toBe(Date.parse(endTime));
    const freshOwn = await query(ownView, headers.c1003);
    expect(freshOwn.cache).toBe('MISS');
    expect(Date.parse(freshOwn.data.me.installation.license.endTime)).toBe(Date.parse(endTime));
  });

  it('upsertCustomer invalidates that customer, lookups of its externalId (also ones that found nothing) and customer lists', async () => {
    const byExternalId = 'query ByExternalId($x: String!) { customer(externalId: $x) { name } }';
    const list = 'query List($search: String) { customers(search: $search) { totalCount } }';
    const upsert = 'mutation Upsert($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { externalId } }';
    const warm = async (document: string, who: Record<string, string>, variables?: Record<string, unknown>) => {
      expect((await query(document, who, variables)).cache).toBe('MISS');
      const hit = await query(document, who, variables);
      expect(hit.cache).toBe('HIT');
      return hit.data;
    };
    await warm(byExternalId, headers.staff, { x: 'C-1002' });
    await warm('query MyName { me { name } }', headers.c1002);
    expect(await warm(byExternalId, headers.staff, { x: 'C-3001' })).toEqual({ customer: null });
    expect(await warm(list, headers.staff, { search: 'C-3001' })).toEqual({ customers: { totalCount: 0 } });

    for (const [externalId, name] of [['C-1002', 'Renamed Customer'], ['C-3001', 'New Customer']]) {
      const result = await query(upsert, headers.staff, { input: { externalId, name } });
      expect(result.errors).toBeUndefined();
    }

    expect(await query(byExternalId, headers.staff, { x: 'C-1002' })).toMatchObject({ cache: 'MISS', data: { customer: { name: 'Renamed Customer' } } });
    expect(await query('query MyName { me { name } }', headers.c1002)).toMatchObject({ cache: 'MISS', data: { me: { name: 'Renamed Customer' } } });
    expect(await query(byExternalId, headers.staff, { x: 'C-3001' })).toMatchObject({ cache: 'MISS', data: { customer: { name: 'New Customer' } } });
    expect(await query(list, headers.staff, { search: 'C-3001' })).toMatchObject({ cache: 'MISS', data: { customers: { totalCount: 1 } } });
  });

  it('invalidates on mutations sent over WebSocket too', async () => {
    const byExternalId = 'query WsName { customer(externalId: "C-1001") { name } }';
    expect((await query(byExternalId, headers.staff)).cache).toBe('MISS');
    expect((await query(byExternalId, headers.staff)).cache).toBe('HIT');
    const [result] = await subscribeWs(stack.gateway.wsUrl, 'mutation { upsertCustomer(input: { externalId: "C-1001", name: "Renamed Over WebSocket" }) { id } }', 1, {
      connectionParams: headers.staff,
    }).done;
    expect(result.errors).toBeUndefined();
    expect(await query(byExternalId, headers.staff)).toMatchObject({ cache: 'MISS', data: { customer: { name: 'Renamed Over WebSocket' } } });
  });

  it("onboardCustomer invalidates the customer's installation lookups, so they show the installation once redeemed", async () => {
    const views = [
      'query CustomerInstallation { customer(externalId: "C-2001") { installation { id } } }',
      'query ProviderInstallation { provider { installation(externalId: "C-2001") { id } } }',
      'query Listed { customers(search: "C-2001") { edges { node { installation { id } } } } }',
    ];
    const installationOf = (data: any) => (data.customer ?? data.provider ?? data.customers.edges[0].node).installation;
    for (const view of views) {
      expect((await query(view, headers.staff)).cache).toBe('MISS');
      const hit = await query(view, headers.staff);
      expect(hit.cache).toBe('HIT');
      expect(installationOf(hit.data)).toBeNull();
    }

    const onboarded = await query('mutation { onboardCustomer(externalId: "C-2001") { token installationId } }', headers.staff);
    expect(onboarded.errors).toBeUndefined();
    await stack.simulator.redeem(onboarded.data.onboardCustomer.token);

    for (const view of views) {
      const fresh = await query(view, headers.staff);
      expect(fresh.cache).toBe('MISS');
      expect(installationOf(fresh.data)).toEqual({ id: onboarded.data.onboardCustomer.installationId });
    }
  });

  it('walks onboarding end to end: staff onboards, staff look, the app redeems, the installation appears well before CACHE_TTL', async () => {
    const view = 'query Pending { customer(externalId: "C-2003") { installation { id } } }';
    const onboarded = await query('mutation { onboardCustomer(externalId: "C-2003") { token installationId } }', headers.staff);
    expect(onboarded.errors).toBeUndefined();
    // Before the app has redeemed the token there is no installation, and that answer is cached briefly.
    expect((await query(view, headers.staff)).data.customer.installation).toBeNull();
    expect(await query(view, headers.staff)).toMatchObject({ cache: 'HIT', data: { customer: { installation: null } } });

    await stack.simulator.redeem(onboarded.data.onboardCustomer.token);
    // The redeem happens at IOmeter, unseen by the gateway: the cached "no installation" expires within
    // seconds rather than CACHE_TTL (30 s here).
    const deadline = Date.now() + 15_000;
    let installation: unknown = null;
    while (installation === null) {
      if (Date.now() > deadline) throw new Error('the redeemed installation did not appear within 15 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
      installation = (await query(view, headers.staff)).data.customer.installation;
    }
    expect(installation).toEqual({ id: onboarded.data.onboardCustomer.installationId });
  });

  it("registerMyMeter invalidates the customer's own view of their installation", async () => {
    const own = 'query MyInstallation { me { installation { id } } }';
    expect((await query(own, headers.c2002)).cache).toBe('MISS');
    expect(await query(own, headers.c2002)).toMatchObject({ cache: 'HIT', data: { me: { installation: null } } });
    const registered = await query('mutation { registerMyMeter { token installationId } }', headers.c2002);
    expect(registered.errors).toBeUndefined();
    await stack.simulator.redeem(registered.data.registerMyMeter.token);
    expect(await query(own, headers.c2002)).toMatchObject({
      cache: 'MISS',
      data: { me: { installation: { id: registered.data.registerMyMeter.installationId } } },
    });
  });

  if (useRedis) {
    it('keeps its Redis keys under REDIS_KEY_PREFIX + "cache:", with TTLs and without credentials or subjects', async () => {
      const redis = new Redis(SHARED_REDIS_URL);
      try {
        const keys = await redis.zrange(`${prefix}cache:index`, 0, -1);
        const responses = keys.filter((key) => key.startsWith(`${prefix}cache:r:`));
        expect(responses.length).toBeGreaterThan(3);
        for (const key of keys) expect(key.startsWith(`${prefix}cache:`)).toBe(true);
        for (const key of responses) expect(key.slice(`${prefix}cache:r:`.length)).toMatch(/^(staff|[0-9a-f]{16}):[0-9a-f]{64}$/);
        const everything = keys.join('\n');
        for (const secret of [SECRET, STAFF_KEY, 'alice', 'bob', 'app-user', 'Bearer', ...Object.values(headers).flatMap((value) => Object.values(value))]) {
          expect(everything).not.toContain(secret);
        }
        const ttls = await Promise.all([...keys, `${prefix}cache:index`].map((key) => redis.pttl(key)));
        // -2: already expired; every live key has a TTL (never -1).
        expect(ttls.filter((ttl) => ttl === -1)).toEqual([]);
      } finally {
        redis.disconnect();
      }
    });
  }
});

describe('response cache with CACHE_TTL=0', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { CACHE_TTL: '0' } });
  });
  afterAll(() => stack.close());

  it('is not installed: every query reaches IOmeter and no x-cache header is sent', async () => {
    const before = stack.simulator.stats.graphqlRequests;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const response = await postGraphQL(stack.gateway.url, '{ provider { id } }');
      expect(response.body.errors).toBeUndefined();
      expect(response.headers.get('x-cache')).toBeNull();
      expect(stack.simulator.stats.graphqlRequests).toBe(before + attempt);
    }
  });
});
