import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { CustomerStore } from '../src/customers/store';
import { postGraphQL, subscribeWs } from './helpers/clients';
import { backends, countQueries, type TestDatabase } from './helpers/database';
import { startStack, type Stack } from './helpers/stack';

const INSTALLATIONS = 100;
const externalIds = Array.from({ length: INSTALLATIONS }, (_, index) => `C-${1001 + index}`);

describe.each(backends)('customer domain through the gateway (%s)', (_name, backend) => {
  let testDb: TestDatabase;
  let stack: Stack;
  let url: string;

  beforeAll(async () => {
    testDb = await backend.open();
    await seedSandboxCustomers(new CustomerStore(testDb.db), { onboardedExternalIds: externalIds });
    stack = await startStack({ database: testDb.db, simulator: { installations: INSTALLATIONS, readingIntervalMs: 500 } });
    url = stack.gateway.url;
  });
  afterAll(async () => {
    await stack.close();
    await testDb.cleanup();
  });

  it('resolves IometerInstallation.customer for 100 installations with exactly one SQL query', async () => {
    const { result, queries } = await countQueries(testDb.db, () =>
      postGraphQL(url, `{ provider { installations(pagination: { offset: 0, limit: 100 }) { externalId customer { externalId name } } } }`),
    );
    const installations = result.body.data.provider.installations;
    expect(result.body.errors).toBeUndefined();
    expect(installations).toHaveLength(100);
    for (const installation of installations) {
      expect(installation.customer?.externalId ?? null).toBe(externalIds.includes(installation.externalId) ? installation.externalId : null);
    }
    expect(queries).toBe(1);
  });

  it('resolves Customer.installation for a page of 50 customers with at most one upstream request', async () => {
    stack.simulator.resetStats();
    const { body } = await postGraphQL(
      url,
      `{ customers(first: 50, search: "example") { totalCount edges { node { externalId installation { id externalId currentMeter { number } license { status } } } } } }`,
    );
    expect(body.errors).toBeUndefined();
    const nodes = body.data.customers.edges.map((edge: any) => edge.node);
    expect(nodes).toHaveLength(50);
    expect(body.data.customers.totalCount).toBe(INSTALLATIONS + 3);
    for (const node of nodes) {
      expect(node.installation?.externalId ?? null).toBe(externalIds.includes(node.externalId) ? node.externalId : null);
    }
    expect(stack.simulator.stats.graphqlRequests).toBe(1);
  });

  it('joins both ways with fragments and nested fields', async () => {
    const { body } = await postGraphQL(
      url,
      `fragment Who on Customer { name contract { status tariff { name energyPriceCtPerKwh } } }
       { customer(externalId: "C-1002") { ...Who installation { externalId customer { externalId } } } }`,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.customer).toMatchObject({
      contract: { status: 'active', tariff: { name: expect.any(String) } },
      installation: { externalId: 'C-1002', customer: { externalId: 'C-1002' } },
    });
  });

  it('keeps client aliases below Customer.installation', async () => {
    const { body } = await postGraphQL(url, `{ customer(externalId: "C-1003") { installation { myId: id lic: license { st: status } who: customer { n: name } } } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data.customer.installation).toEqual({ myId: expect.any(String), lic: { st: expect.any(String) }, who: { n: expect.any(String) } });
  });

  it('gives a customer without installation installation: null without failing its siblings', async () => {
    const { body } = await postGraphQL(url, `{ a: customer(externalId: "C-2001") { name installation { id } } b: customer(externalId: "C-1001") { installation { externalId } } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data.a.installation).toBeNull();
    expect(body.data.b.installation.externalId).toBe('C-1001');
  });

  it('requires exactly one of id or externalId', async () => {
    const { body } = await postGraphQL(url, `{ customer { name } }`);
    expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('pages through customers with cursors and a bounded page size', async () => {
    const first = await postGraphQL(url, `{ customers(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }`);
    const page = first.body.data.customers;
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const next = await postGraphQL(url, `query($after: String) { customers(first: 2, after: $after) { edges { node { name } } } }`, { after: page.pageInfo.endCursor });
    expect(next.body.data.customers.edges[0].node.name >= page.edges[1].node.name).toBe(true);
    const tooMany = await postGraphQL(url, `{ customers(first: 1000) { totalCount } }`);
    expect(tooMany.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  describe('upsertCustomer', () => {
    const upsert = `mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { id externalId name email address { city } } }`;

    it('is idempotent by externalId, also under concurrency', async () => {
      const input = { externalId: 'C-5001', name: 'Erika Mustermann', email: 'erika@example.com' };
      const [a, b] = await Promise.all([postGraphQL(url, upsert, { input }), postGraphQL(url, upsert, { input: { ...input, name: 'Erika M.' } })]);
      expect(a.body.errors).toBeUndefined();
      expect(b.body.errors).toBeUndefined();
      expect(a.body.data.upsertCustomer.id).toBe(b.body.data.upsertCustomer.id);
      const rows = await testDb.db.query<{ count: number }>(`SELECT count(*)::int AS count FROM customers WHERE external_id = 'C-5001'`);
      expect(rows.rows[0]!.count).toBe(1);
    });

    it.each([
      [{ externalId: 'C-5002', name: 'X', email: 'not-an-email' }, 'email'],
      [{ externalId: 'bad id with spaces', name: 'X' }, 'externalId'],
      [{ externalId: 'C-5003', name: '   ' }, 'name'],
    ])('rejects %j with BAD_USER_INPUT naming %s, writing nothing', async (input, field) => {
      const { body } = await postGraphQL(url, upsert, { input });
      expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(body.errors?.[0].message).toContain(field);
      const rows = await testDb.db.query(`SELECT 1 FROM customers WHERE external_id = $1`, [input.externalId]);
      expect(rows.rows).toHaveLength(0);
    });
  });

  describe('onboardCustomer', () => {
    it('runs the onboarding round trip: token, redeem in the app, then Customer.installation appears', async () => {
      const onboard = await postGraphQL(url, `mutation { onboardCustomer(externalId: "C-2002") { installationId token deeplink qrCode } }`);
      expect(onboard.body.errors).toBeUndefined();
      const token = onboard.body.data.onboardCustomer;
      expect(token.deeplink).toMatch(/^[a-z]+:/);
      expect(token.qrCode).toMatch(/^https?:\/\//);

      const before = await postGraphQL(url, `{ customer(externalId: "C-2002") { installation { id } } }`);
      expect(before.body.data.customer.installation).toBeNull();
      await stack.simulator.redeem(token.token);
      const after = await postGraphQL(url, `{ customer(externalId: "C-2002") { name installation { id externalId customer { externalId } } } }`);
      expect(after.body.data.customer.installation).toEqual({ id: token.installationId, externalId: 'C-2002', customer: { externalId: 'C-2002' } });
    });

    it('refuses an unknown customer with NOT_FOUND', async () => {
      const { body } = await postGraphQL(url, `mutation { onboardCustomer(externalId: "C-0000") { token } }`);
      expect(body.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'externalId' });
    });

    it('refuses a license pool without free capacity', async () => {
      const pools = await postGraphQL(url, `{ provider { licensePools { id size usage } } }`);
      const full = pools.body.data.provider.licensePools.find((pool: any) => pool.usage >= pool.size);
      expect(full).toBeDefined();
      const { body } = await postGraphQL(url, `mutation($pool: Uuid) { onboardCustomer(externalId: "C-2003", licensePoolId: $pool) { token } }`, { pool: full.id });
      expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'licensePoolId' });
      expect(body.errors?.[0].message).toMatch(/capacity/);
    });
  });

  it('carries the customer on live readings', async () => {
    const [result] = await subscribeWs(stack.gateway.wsUrl, `subscription { readings { installation { externalId customer { externalId name } } } }`, 1).done;
    expect(result.errors).toBeUndefined();
    const installation = result.data.readings.installation;
    expect(installation.customer?.externalId).toBe(installation.externalId);
  });
});

describe('when IOmeter is down while resolving Customer.installation', () => {
  let testDb: TestDatabase;
  let stack: Stack;
  beforeAll(async () => {
    testDb = await backends[1]![1].open();
    await seedSandboxCustomers(new CustomerStore(testDb.db), { onboardedExternalIds: ['C-1001'] });
    stack = await startStack({ database: testDb.db });
    await stack.simulator.close();
  });
  afterAll(async () => {
    await stack.close();
    await testDb.cleanup();
  });

  it('still returns the customer data, with the error on the installation field only', async () => {
    const { body } = await postGraphQL(stack.gateway.url, `{ customer(externalId: "C-1001") { name email installation { id } } }`);
    expect(body.data.customer.name).toEqual(expect.any(String));
    expect(body.data.customer.installation).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]).toMatchObject({ path: ['customer', 'installation'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
  });
});
