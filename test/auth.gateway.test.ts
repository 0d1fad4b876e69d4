import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { CustomerStore } from '../src/customers/store';
import { hashApiKey } from '../src/identity';
import { jose } from '../src/identity/jose';
import { postGraphQL, subscribeSse, subscribeWs } from './helpers/clients';
import { OUT_OF_SANDBOX_ENV, startStack, type Stack } from './helpers/stack';

const SECRET = 'auth-test-secret-with-at-least-32-characters';
const ISSUER = 'https://login.example.com';
const AUDIENCE = 'iometer-gateway';

const AUTH_ENV = {
  ...OUT_OF_SANDBOX_ENV,
  GRAPHIQL: 'true',
  AUTH_JWT_SECRET: SECRET,
  AUTH_JWT_ISSUER: ISSUER,
  AUTH_JWT_AUDIENCE: AUDIENCE,
  AUTH_API_KEYS: `backoffice:staff:${hashApiKey('staff-key')},kiosk-c1002:customer:${hashApiKey('c1002-key')}:C-1002`,
};

async function sign(claims: Record<string, unknown>, options: { secret?: string; expiresIn?: string; issuer?: string; audience?: string } = {}) {
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub ?? 'user-1'))
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('client identity and per-customer scoping', () => {
  let stack: Stack;
  let url: string;
  let staff: Record<string, string>;
  let customerA: Record<string, string>;
  const customerB = { 'x-api-key': 'c1002-key' };

  beforeAll(async () => {
    stack = await startStack({ env: AUTH_ENV });
    await seedSandboxCustomers(new CustomerStore(stack.database), { onboardedExternalIds: ['C-1001', 'C-1002', 'C-1003'] });
    url = stack.gateway.url;
    staff = bearer(await sign({ sub: 'alice', role: 'staff' }));
    customerA = bearer(await sign({ sub: 'app-user-1', role: 'customer', externalId: 'C-1001' }));
  });
  afterAll(() => stack.close());

  describe('authentication', () => {
    it('rejects a request without credentials with 401 UNAUTHENTICATED', async () => {
      const response = await postGraphQL(url, '{ me { name } }');
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    });

    it.each([
      ['expired', () => sign({ role: 'staff' }, { expiresIn: '-1m' })],
      ['bad signature', () => sign({ role: 'staff' }, { secret: 'another-secret-that-is-32-characters-long' })],
      ['wrong issuer', () => sign({ role: 'staff' }, { issuer: 'https://evil.example.com' })],
      ['wrong audience', () => sign({ role: 'staff' }, { audience: 'someone-else' })],
      ['alg none', async () => {
        const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'mallory', role: 'staff', iss: ISSUER, aud: AUDIENCE, exp: now + 600 })}.`;
      }],
      ['unknown role', () => sign({ role: 'admin' })],
      ['customer without externalId', () => sign({ role: 'customer' })],
    ])('rejects a forged token (%s) with 401 and does not echo it', async (_case, forge) => {
      const token = await forge();
      const response = await postGraphQL(url, '{ provider { id } }', undefined, bearer(token));
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(response.text).not.toContain(token);
      expect(response.text).not.toContain(token.split('.')[1]);
    });

    it('rejects a request carrying both a Bearer token and an API key as ambiguous, even when both are valid', async () => {
      const response = await postGraphQL(url, '{ provider { id } }', undefined, { ...staff, 'x-api-key': 'staff-key' });
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/not both/), extensions: { code: 'UNAUTHENTICATED' } });
      expect(response.body.data ?? null).toBeNull();
    });

    it('rejects an unknown API key', async () => {
      const response = await postGraphQL(url, '{ provider { id } }', undefined, { 'x-api-key': 'guess' });
      expect(response.status).toBe(401);
    });

    it('closes an unauthenticated WebSocket with 4403 and rejects unauthenticated SSE', async () => {
      await expect(subscribeWs(stack.gateway.wsUrl, 'subscription { myReadings { time } }', 1).done).rejects.toMatchObject({ code: 4403 });
      const sse = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { myReadings { time } }' }),
      });
      expect(sse.status).toBe(401);
      expect(await sse.text()).toContain('"code":"UNAUTHENTICATED"');
    });

    it('lets staff in by JWT and by API key', async () => {
      for (const headers of [staff, { 'x-api-key': 'staff-key' }]) {
        const { status, body } = await postGraphQL(url, '{ provider { id } customers(first: 1) { totalCount } }', undefined, headers);
        expect(status).toBe(200);
        expect(body.errors).toBeUndefined();
      }
    });
  });

  describe('a customer', () => {
    it('sees their own customer, installation, meters, devices, readings, license, contract and tariff through me', async () => {
      const { body } = await postGraphQL(
        url,
        `{ me { externalId name contract { status tariff { name energyPriceCtPerKwh } }
             installation { externalId license { status endTime } currentDevice { core { batteryLevel } }
               meters { number latestReadings { obisCode value unit } } } } }`,
        undefined,
        customerA,
      );
      expect(body.errors).toBeUndefined();
      expect(body.data.me).toMatchObject({ externalId: 'C-1001', installation: { externalId: 'C-1001' }, contract: { tariff: { name: expect.any(String) } } });
      expect(body.data.me.installation.meters[0].latestReadings.length).toBeGreaterThan(0);
    });

    it('registers their own meter with the configured defaults', async () => {
      const own = await postGraphQL(url, '{ provider { installation(externalId: "C-1001") { id } } }', undefined, staff);
      const { body } = await postGraphQL(url, 'mutation { registerMyMeter { installationId deeplink qrCode } }', undefined, customerA);
      expect(body.errors).toBeUndefined();
      expect(body.data.registerMyMeter.installationId).toBe(own.body.data.provider.installation.id);
      expect(body.data.registerMyMeter.deeplink).toMatch(/^[a-z]+:/);
    });

    const forbidden: Array<[string, string]> = [
      ['provider', '{ provider { id } }'],
      ['customers', '{ customers { totalCount } }'],
      ['customer(...) of someone else', '{ customer(externalId: "C-1002") { name } }'],
      ['license pools', '{ provider { licensePools { id } } }'],
      ['signing keys', '{ provider { signingKeys { id } } }'],
      ["their own license's pool", '{ me { installation { license { pool { size usage } } } } }'],
      ['updateLicense', 'mutation { updateLicense(installationId: "578936dc-8020-4022-a560-2f59d2dca9ee", setEndTime: { endTime: "2030-01-01T00:00:00Z" }) { status } }'],
      ['createRegistrationToken', 'mutation { createRegistrationToken(externalId: "C-1002", signingKeyId: "578936dc-8020-4022-a560-2f59d2dca9ee", license: { poolId: "578936dc-8020-4022-a560-2f59d2dca9ee", startDate: "2030-01-01" }) { token } }'],
      ['upsertCustomer', 'mutation { upsertCustomer(input: { externalId: "C-1001", name: "Hijack" }) { id } }'],
      ['onboardCustomer', 'mutation { onboardCustomer(externalId: "C-1002") { token } }'],
      ['raw readings', 'subscription { readings { time } }'],
      ['scheduledReadings', 'subscription { scheduledReadings { value } }'],
    ];

    it.each(forbidden)('is refused %s with FORBIDDEN, also through aliases and fragments', async (_name, document) => {
      const aliased = document.replace(/\{ (\w+)/, '{ sneaky: $1');
      const operation = document.startsWith('{') ? 'query' : document.split(' ')[0]!;
      const body = document.slice(document.indexOf('{'));
      const rootType = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' }[operation]!;
      const viaFragment = `${operation} { ...F } fragment F on ${rootType} ${body}`;
      for (const variant of [document, aliased, viaFragment]) {
        const response = await postGraphQL(url, variant, undefined, customerA);
        expect({ variant, code: response.body.errors?.[0]?.extensions?.code }).toEqual({ variant, code: 'FORBIDDEN' });
        expect(response.body.data ?? null).toBeNull();
      }
    });

    it('is refused forbidden fields inside a batched request, while its own operation runs', async () => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...customerA },
        body: JSON.stringify([{ query: '{ me { externalId } }' }, { query: '{ provider { installations { externalId } } }' }]),
      });
      const [own, foreign] = await response.json();
      expect(own.data.me.externalId).toBe('C-1001');
      expect(foreign.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(foreign.data ?? null).toBeNull();
    });

    it('gets no GraphiQL page; staff do', async () => {
      const page = (headers: Record<string, string>) => fetch(url, { headers: { accept: 'text/html', ...headers } });
      const asCustomer = await page(customerA);
      expect(asCustomer.headers.get('content-type') ?? '').not.toContain('text/html');
      const asStaff = await page(staff);
      expect(asStaff.headers.get('content-type')).toContain('text/html');
      expect(await asStaff.text()).toContain('IOmeter Gateway');
    });

    it('gets no introspection and no field suggestions; staff get both', async () => {
      const introspection = await postGraphQL(url, '{ __schema { types { name } } }', undefined, customerA);
      expect(introspection.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const typo = await postGraphQL(url, '{ mee { name } }', undefined, customerA);
      expect(typo.body.errors?.[0].message).not.toMatch(/Did you mean/);
      const staffTypo = await postGraphQL(url, '{ mee { name } }', undefined, staff);
      expect(staffTypo.body.errors?.[0].message).toMatch(/Did you mean "me"/);
      const staffIntrospection = await postGraphQL(url, '{ __schema { queryType { name } } }', undefined, staff);
      expect(staffIntrospection.body.data.__schema.queryType.name).toBe('Query');
    });
  });

  describe('customer isolation', () => {
    const foreignMarkers = async () => {
      const { body } = await postGraphQL(url, '{ customer(externalId: "C-1002") { name email installation { id } } }', undefined, staff);
      const b = body.data.customer;
      return ['C-1002', b.name, b.email, b.installation.id];
    };

    it('never sends customer A a byte of customer B in queries', async () => {
      const markers = await foreignMarkers();
      const responses = await Promise.all([
        postGraphQL(url, '{ me { externalId name email phone address { city } installation { id externalId meters { id number } devices { id } customer { name } } } }', undefined, customerA),
        postGraphQL(url, '{ me { installation { meters { installation { customer { name contract { tariff { name } } } } } } } }', undefined, customerA),
      ]);
      for (const response of responses) {
        expect(response.body.errors).toBeUndefined();
        for (const marker of markers) expect(response.text).not.toContain(marker);
      }
      const asB = await postGraphQL(url, '{ me { externalId } }', undefined, customerB);
      expect(asB.body.data.me.externalId).toBe('C-1002');
    });

    it.each([
      ['WebSocket', (headers: Record<string, string>) => subscribeWs(stack.gateway.wsUrl, READINGS, 3, { connectionParams: headers })],
      ['SSE', (headers: Record<string, string>) => subscribeSse(url, READINGS, 3, { headers })],
    ])('streams myReadings over %s with only the subscriber’s own readings', async (_transport, subscribe) => {
      const [a, b] = await Promise.all([subscribe(customerA).done, subscribe(customerB).done]);
      expect(a.map((result) => result.data.myReadings.installation.externalId)).toEqual(['C-1001', 'C-1001', 'C-1001']);
      expect(a.map((result) => result.data.myReadings.installation.customer.externalId)).toEqual(['C-1001', 'C-1001', 'C-1001']);
      expect(b.map((result) => result.data.myReadings.installation.externalId)).toEqual(['C-1002', 'C-1002', 'C-1002']);
      const markers = await foreignMarkers();
      for (const marker of markers) expect(JSON.stringify(a)).not.toContain(marker);
    });

    it('refuses a customer the raw readings over WebSocket and SSE with FORBIDDEN', async () => {
      const query = 'subscription { a: readings { installation { externalId } } }';
      const [overWs] = await subscribeWs(stack.gateway.wsUrl, query, 1, { connectionParams: customerA }).done;
      expect(overWs.errors[0].extensions.code).toBe('FORBIDDEN');
      const overSse = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...customerA },
        body: JSON.stringify({ query }),
      });
      expect(overSse.status).toBe(403);
      expect(await overSse.text()).toContain('FORBIDDEN');
    });

    it('authenticates a WebSocket through the upgrade request header too', async () => {
      const { createClient } = await import('graphql-ws');
      const WebSocket = (await import('ws')).default;
      class WithHeaders extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { headers: customerB });
        }
      }
      const client = createClient({ url: stack.gateway.wsUrl, webSocketImpl: WithHeaders, retryAttempts: 0 });
      const result = await new Promise<any>((resolve, reject) => {
        client.subscribe({ query: 'subscription { myReadings { installation { externalId } } }' }, { next: resolve, error: reject, complete: () => {} });
      });
      await client.dispose();
      expect(result.data.myReadings.installation.externalId).toBe('C-1002');
    });
  });

  describe('operation limits', () => {
    it('refuses documents that are too deep, too aliased or too large', async () => {
      const deep = `{ me ${'{ installation { meters '.repeat(7)}{ id }${' } }'.repeat(7)} }`;
      const depth = await postGraphQL(url, deep, undefined, staff);
      expect(depth.body.errors?.[0].message).toMatch(/depth/i);
      const aliases = `{ provider { ${Array.from({ length: 25 }, (_, index) => `a${index}: id`).join(' ')} } }`;
      const aliased = await postGraphQL(url, aliases, undefined, staff);
      expect(aliased.body.errors?.[0].message).toMatch(/alias/i);
      const large = await postGraphQL(url, `{ __typename ${' '.repeat(40_000)} }`, undefined, staff);
      expect(large.status).toBe(413);
    });

    it('runs a batch of LIMIT_MAX_BATCH (10) operations and refuses one more without running any', async () => {
      const batch = (size: number) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...staff },
          body: JSON.stringify(Array.from({ length: size }, (_, n) => ({ query: `query Op${n} { provider { id } }` }))),
        });
      const allowed = await batch(10);
      expect(allowed.status).toBe(200);
      const answers = (await allowed.json()) as Array<{ data?: unknown; errors?: unknown }>;
      expect(answers).toHaveLength(10);
      expect(answers.every((answer) => answer.errors === undefined && answer.data !== undefined)).toBe(true);

      const upstreamBefore = stack.simulator.stats.graphqlRequests;
      const refused = await batch(11);
      expect(refused.status).toBe(413);
      expect(await refused.json()).toEqual({
        errors: [{ message: 'Batching is limited to 10 operations per request.', extensions: { code: 'BAD_REQUEST' } }],
      });
      expect(stack.simulator.stats.graphqlRequests).toBe(upstreamBefore);
    });
  });
});

const READINGS = 'subscription { myReadings { time installation { externalId customer { externalId } } values { obisCode value } } }';

describe('trusted documents', () => {
  let stack: Stack;
  let dir: string;
  const document = '{ me { externalId } }';
  const hash = createHash('sha256').update(document).digest('hex');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trusted-'));
    const file = join(dir, 'operations.json');
    writeFileSync(file, JSON.stringify({ [hash]: document }));
    stack = await startStack({ env: { ...AUTH_ENV, PERSISTED_OPERATIONS_FILE: file } });
    await seedSandboxCustomers(new CustomerStore(stack.database), { onboardedExternalIds: ['C-1001'] });
  });
  afterAll(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets customers run only listed operations, by hash, while staff may send any document', async () => {
    const customer = bearer(await sign({ role: 'customer', externalId: 'C-1001' }));
    const arbitrary = await postGraphQL(stack.gateway.url, document, undefined, customer);
    expect(arbitrary.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    expect(arbitrary.body.data ?? null).toBeNull();

    const byHash = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...customer },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    }).then((response) => response.json());
    expect(byHash.data.me.externalId).toBe('C-1001');

    const staffResponse = await postGraphQL(stack.gateway.url, '{ provider { id } }', undefined, bearer(await sign({ role: 'staff' })));
    expect(staffResponse.body.errors).toBeUndefined();
  });
});
