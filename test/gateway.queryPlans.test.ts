import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startStack, type Stack } from './helpers/stack';
import { postGraphQL, type GraphQLResponse } from './helpers/clients';
import { pgliteBackend, type TestDatabase } from './helpers/database';
import { waitFor } from './helpers/simulator';

/**
 * Issue 12: a query that only touches IOmeter takes the direct path (one cached plan, the client's
 * operation sent to IOmeter as it is); everything else is delegated by Mesh as before. The direct path
 * must answer exactly what delegation answers, so each case runs on two gateways in front of one
 * simulator: one with the plan cache, one with QUERY_PLAN_CACHE_SIZE=0 (every operation delegated).
 */
describe('operation plans: the direct path answers exactly what delegation does', () => {
  let planned: Stack;
  let delegated: Stack;
  beforeAll(async () => {
    // The response cache would answer repeated queries before either path runs.
    planned = await startStack({ env: { CACHE_TTL: '0' } });
    delegated = await startStack({ sharedSimulator: planned.simulator, env: { CACHE_TTL: '0', QUERY_PLAN_CACHE_SIZE: '0' } });
  });
  afterAll(async () => {
    await delegated?.close();
    await planned?.close();
  });
  afterEach(() => {
    planned.simulator.faults.status = undefined;
  });

  /** The same request to both gateways: status and body must match to the byte. */
  async function both(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
    const [direct, reference] = [await postGraphQL(planned.gateway.url, query, variables), await postGraphQL(delegated.gateway.url, query, variables)];
    expect({ status: direct.status, body: direct.body }).toEqual({ status: reference.status, body: reference.body });
    expect(direct.text).toBe(reference.text);
    return direct;
  }

  it('sends the client operation to IOmeter as it is: aliases, operation name and variables unchanged', async () => {
    const query = 'query Two($ext: String) { a: provider { id } b: provider { installation(externalId: $ext) { externalId } } }';
    planned.simulator.resetStats();
    const { body } = await both(query, { ext: 'C-1001' });
    expect(body.data).toEqual({ a: { id: expect.any(String) }, b: { installation: { externalId: 'C-1001' } } });
    expect(planned.simulator.stats.queries[0]).toBe('query Two($ext:String){a:provider{id}b:provider{installation(externalId:$ext){externalId}}}');
  });

  it('a small named query', async () => {
    const { body } = await both('query Small { provider { id name } }');
    expect(body.data.provider.name).toEqual(expect.any(String));
  });

  it('aliases at every level of a list', async () => {
    const { body } = await both(
      '{ p: provider { ident: id all: installations { i: id externalId license { s: status endTime } currentDevice { core { batteryLevel pinStatus } } } } }',
    );
    expect(body.data.p.all.length).toBeGreaterThan(0);
    expect(Object.keys(body.data.p.all[0])).toEqual(['i', 'externalId', 'license', 'currentDevice']);
  });

  it('named and inline fragments, with __typename in the gateway\'s names at every level', async () => {
    const { body } = await both(`
      query F { __typename provider { __typename ...P installations { ... on IometerInstallation { __typename id } ...I } } }
      fragment P on IometerProvider { id name }
      fragment I on IometerInstallation { externalId license { __typename status } }`);
    expect(body.data.__typename).toBe('Query');
    expect(body.data.provider.__typename).toBe('IometerProvider');
    expect(body.data.provider.installations[0].__typename).toBe('IometerInstallation');
    expect(body.data.provider.installations.find((installation: any) => installation.license)?.license.__typename).toBe('IometerLicense');
  });

  it('variables, their defaults and @include / @skip', async () => {
    const query = `query V($ext: String = "C-1001", $withLicense: Boolean!) {
      provider { installation(externalId: $ext) { id externalId license @include(if: $withLicense) { status } currentDevice @skip(if: $withLicense) { id } } }
    }`;
    const withDefault = await both(query, { withLicense: true });
    expect(withDefault.body.data.provider.installation.externalId).toBe('C-1001');
    const other = await both(query, { ext: 'C-1002', withLicense: false });
    expect(other.body.data.provider.installation).not.toHaveProperty('license');
  });

  it('lists in lists, scalars with arguments and the same field under two aliases', async () => {
    // Not a reading's time or value: the simulator's live readings move on between the two requests.
    const { body } = await both(`{ provider { installations { id meters { number latestReadings { code: obisCode hex: obisCode(format: hex) unit } } devices { id } } } }`);
    expect(body.data.provider.installations.some((installation: any) => installation.meters.some((meter: any) => meter.latestReadings.length > 0))).toBe(true);
  });

  it('an installation IOmeter does not have', async () => {
    await both('{ provider { installation(externalId: "NO-SUCH-INSTALLATION") { id } } }');
  });

  it('invalid variables: the same BAD_USER_INPUT error, and IOmeter is not asked', async () => {
    planned.simulator.resetStats();
    const { body } = await both('query ($withLicense: Boolean!) { provider { installations { license @include(if: $withLicense) { status } } } }', {
      withLicense: 'yes',
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(planned.simulator.stats.httpRequests).toBe(0);
  });

  it('an error IOmeter reports below a non-null field: the same code, message and path', async () => {
    const { body } = await both('{ provider { readings(limit: 101) { cursor } } }');
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('an IOmeter outage: the same masked error with its stable code and path', async () => {
    planned.simulator.faults.status = 500;
    const { body } = await both('query Small { provider { id name } }');
    expect(body.errors?.[0]).toMatchObject({ path: ['provider'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(JSON.stringify(body)).not.toContain('injected fault');
  });

  it('identical planned queries in flight together share one IOmeter answer, each shaped as its own', async () => {
    let release = () => {};
    planned.simulator.faults.hold = new Promise<void>((resolve) => (release = resolve));
    planned.simulator.resetStats();
    const query = '{ provider { installations { __typename id license { __typename status } } } }';
    const answers = [postGraphQL(planned.gateway.url, query), postGraphQL(planned.gateway.url, query), postGraphQL(planned.gateway.url, `${query} # the same, spelled differently`)];
    await waitFor(() => planned.simulator.stats.httpRequests === 1);
    // The others would arrive at IOmeter while it is held, if they were not shared.
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    const [first, ...others] = await Promise.all(answers);
    planned.simulator.faults.hold = undefined;
    expect(planned.simulator.stats.httpRequests).toBe(1);
    expect(first!.body.data.provider.installations[0].__typename).toBe('IometerInstallation');
    for (const other of others) expect(other.text).toBe(first!.text);
    expect(first!.text).toBe((await postGraphQL(delegated.gateway.url, query)).text);
  });

  describe('stitched operations', () => {
    const upsert = 'mutation ($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { id } }';
    beforeAll(async () => {
      // Each gateway has a database of its own: the same customers in both.
      for (const stack of [planned, delegated]) {
        await postGraphQL(stack.gateway.url, upsert, { input: { externalId: 'C-1001', name: 'Ada Lovelace', email: 'ada@example.com' } });
        await postGraphQL(stack.gateway.url, upsert, { input: { externalId: 'C-1002', name: 'Grace Hopper' } });
        const tariff = { name: 'Basic', energyPriceCtPerKwh: 30, feedInCtPerKwh: 8, basePriceEurPerMonth: 10 };
        const { body } = await postGraphQL(stack.gateway.url, 'mutation ($input: UpsertTariffInput!) { upsertTariff(input: $input) { id } }', { input: tariff });
        const contract = { customerExternalId: 'C-1001', tariffId: body.data.upsertTariff.id, startDate: '2026-01-01' };
        await postGraphQL(stack.gateway.url, 'mutation ($input: UpsertContractInput!) { upsertContract(input: $input) { id } }', { input: contract });
      }
    });

    it('customer fields are resolved over IOmeter\'s answer: one upstream request, which asks for what they read', async () => {
      planned.simulator.resetStats();
      const { body } = await both('{ provider { installations { id customer { name email } } } }');
      const named = body.data.provider.installations.filter((installation: any) => installation.customer).map((installation: any) => installation.customer.name);
      expect(named.sort()).toEqual(['Ada Lovelace', 'Grace Hopper']);
      expect(Object.keys(body.data.provider.installations[0])).toEqual(['id', 'customer']);
      expect(planned.simulator.stats.queries[0]).toBe('{provider{installations{id externalId}}}');
    });

    it('aliases, fragments, __typename and @include around a stitched field', async () => {
      planned.simulator.resetStats();
      const query = `query S($withCustomer: Boolean!) { provider { all: installations { ext: externalId ...WithCustomer } one: installation(externalId: "C-1001") { externalId c: customer @include(if: $withCustomer) { __typename n: name } } } }
        fragment WithCustomer on IometerInstallation { __typename customer { name address { city } } }`;
      const { body } = await both(query, { withCustomer: true });
      expect(body.data.provider.one.c).toEqual({ __typename: 'Customer', n: 'Ada Lovelace' });
      expect(planned.simulator.stats.queries[0]).toContain('fragment WithCustomer on Installation{__typename externalId}');
      await both(query, { withCustomer: false });
    });

    it('below a stitched customer: its scalars through their resolvers, address, contract and tariff; installations without a customer', async () => {
      planned.simulator.resetStats();
      // Ids and timestamps differ between the two gateways' databases: compared apart.
      const { body } = await both(`{ provider { installations { externalId
        customer { __typename externalId name address { city } contract { startDate endDate tariff { name energyPriceCtPerKwh } } ... on Customer { email } } } } }`);
      const customers = body.data.provider.installations.map((installation: any) => installation.customer);
      expect(customers).toContain(null);
      expect(customers.find((customer: any) => customer?.externalId === 'C-1001')).toMatchObject({
        __typename: 'Customer',
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        contract: { startDate: '2026-01-01', endDate: null, tariff: { name: 'Basic', energyPriceCtPerKwh: 30 } },
      });
      expect(planned.simulator.stats.queries[0]).toBe('{provider{installations{externalId}}}');
      const stamps = await postGraphQL(planned.gateway.url, '{ provider { installation(externalId: "C-1002") { customer { id createdAt updatedAt } } } }');
      expect(stamps.body).toEqual({ data: { provider: { installation: { customer: { id: expect.any(String), createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), updatedAt: expect.any(String) } } } } });
    });

    it('consumption and readingHistory of an installation, their bad arguments included', async () => {
      planned.simulator.resetStats();
      const range = 'from: "2026-01-01T00:00:00Z", to: "2026-01-03T00:00:00Z"';
      const { body } = await both(`{ provider { installation(externalId: "C-1001") {
        externalId consumption(${range}, resolution: DAY) { start end } readingHistory(${range}, first: 10) { pageInfo { hasNextPage } }
        bad: readingHistory(${range}, first: 0) { pageInfo { hasNextPage } } } } }`);
      expect(body.data.provider.installation.consumption.length).toBeGreaterThan(0);
      expect(body.errors?.[0]).toMatchObject({ path: ['provider', 'installation', 'bad'], extensions: { code: 'BAD_USER_INPUT' } });
      expect(planned.simulator.stats.queries[0]).toBe('{provider{installation(externalId:"C-1001"){externalId id}}}');
    });

    it('a client field under the response key a stitched field needs, and fields that go back to IOmeter, are delegated', async () => {
      await both('{ provider { installations { externalId: id customer { name } } } }');
      await both('{ provider { installation(externalId: "C-1001") { customer { name installation { id } } } } }');
      await both('{ provider { installation(externalId: "C-1001") { customer { name forecast(month: "2026-01") { month } } } } }');
      await both('{ customers(first: 2) { edges { node { externalId } } } }');
      await both('{ __schema { queryType { name } } }');
    });
  });
});

/**
 * A planned operation's result is IOmeter's answer itself when that answer is exactly what executing
 * the operation over it would return; anything else is executed as before. IOmeter answers what it was
 * asked, so these cases change its answer on the way back (a proxy between the gateways and the
 * simulator) to one that executing would change or reject: both gateways must still answer alike.
 */
describe('operation plans: an answer that is not already the result is executed', () => {
  let planned: Stack;
  let delegated: Stack;
  let proxy: Server;
  let rewrite: ((answer: any) => void) | undefined;
  beforeAll(async () => {
    proxy = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => ['authorization', 'content-type', 'accept'].includes(name))) as Record<string, string>;
        const answer = await fetch(planned.simulator.url, { method: 'POST', headers, body: Buffer.concat(chunks) });
        const body = await answer.json();
        rewrite?.(body);
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1/query`;
    planned = await startStack({ env: { CACHE_TTL: '0' }, upstream: { endpoint } });
    delegated = await startStack({ sharedSimulator: planned.simulator, env: { CACHE_TTL: '0', QUERY_PLAN_CACHE_SIZE: '0' }, upstream: { endpoint } });
  });
  afterAll(async () => {
    await delegated?.close();
    await planned?.close();
    proxy?.closeAllConnections();
    proxy?.close();
  });
  afterEach(() => {
    rewrite = undefined;
  });

  async function both(query: string): Promise<GraphQLResponse> {
    const [direct, reference] = [await postGraphQL(planned.gateway.url, query), await postGraphQL(delegated.gateway.url, query)];
    expect({ status: direct.status, text: direct.text }).toEqual({ status: reference.status, text: reference.text });
    return direct;
  }

  it('as it is: the same answer as delegation', async () => {
    const { body } = await both('{ provider { id installations { id license { startTime endTime } currentDevice { core { batteryLevel } } } } }');
    expect(body.data.provider.installations.length).toBeGreaterThan(0);
  });

  it('an invalid DateTime: the same masked error at the same path', async () => {
    rewrite = (answer) => (answer.data.provider.installations[0].license.startTime = '2026-02-30T00:00:00Z');
    const { body } = await both('{ provider { installations { id license { startTime } } } }');
    expect(body.errors?.[0]?.path).toEqual(['provider', 'installations', 0, 'license', 'startTime']);
    expect(JSON.stringify(body)).not.toContain('2026-02-30');
  });

  it('null in a non-null field: the same error, the null carried up to the nearest nullable field', async () => {
    rewrite = (answer) => (answer.data.provider.installations[0].currentDevice.core.batteryLevel = null);
    const { body } = await both('{ provider { installations { id currentDevice { core { batteryLevel } } } } }');
    expect(body.errors?.[0]?.path).toEqual(['provider', 'installations', 0, 'currentDevice', 'core', 'batteryLevel']);
  });

  it('a value execution converts (an Int as a numeric string) is not passed on as it came', async () => {
    rewrite = (answer) => (answer.data.provider.installations[0].currentDevice.core.batteryLevel = '42');
    // Only the planned gateway: delegation refuses this value where execution converts it (as before).
    const { body } = await postGraphQL(planned.gateway.url, '{ provider { installations { currentDevice { core { batteryLevel } } } } }');
    expect(body.data.provider.installations[0].currentDevice.core.batteryLevel).toBe(42);
  });

  it('keys the client did not select, or in another order, are not passed on', async () => {
    rewrite = (answer) => {
      const { id, name } = answer.data.provider;
      answer.data.provider = { name, id, extra: 'not selected' };
    };
    const { body } = await both('{ provider { id name } }');
    expect(Object.keys(body.data.provider)).toEqual(['id', 'name']);
  });

  it('beside a stitched field: an invalid value reported at its path, the stitched field resolved', async () => {
    rewrite = (answer) => (answer.data.provider.installations[0].license.startTime = '2026-02-30T00:00:00Z');
    const { body } = await both('{ provider { installations { id license { startTime } customer { name } } } }');
    expect(body.errors?.[0]?.path).toEqual(['provider', 'installations', 0, 'license', 'startTime']);
    expect(body.data.provider.installations[0]).toHaveProperty('customer');
  });

  it('a __typename IOmeter got wrong is the gateway\'s own', async () => {
    rewrite = (answer) => (answer.data.provider.__typename = 'Installation');
    const { body } = await both('{ provider { __typename id } }');
    expect(body.data.provider.__typename).toBe('IometerProvider');
  });
});

describe('stitched customers on the embedded database', () => {
  let stack: Stack;
  let pglite: TestDatabase;
  beforeAll(async () => {
    pglite = await pgliteBackend.open();
    stack = await startStack({ database: pglite.db, env: { CACHE_TTL: '0' } });
  });
  afterAll(async () => {
    await stack?.close();
    await pglite?.cleanup();
  });

  it('are remembered between upserts, and an upsert is seen by the very next query', async () => {
    const upsert = 'mutation ($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { id } }';
    const query = '{ provider { installation(externalId: "C-1001") { customer { name } } } }';
    const nameNow = async () => (await postGraphQL(stack.gateway.url, query)).body.data.provider.installation.customer?.name ?? null;
    expect(await nameNow()).toBeNull();
    await postGraphQL(stack.gateway.url, upsert, { input: { externalId: 'C-1001', name: 'First' } });
    expect(await nameNow()).toBe('First');
    const queries = pglite.db.queryCount;
    expect(await nameNow()).toBe('First');
    expect(pglite.db.queryCount).toBe(queries);
    await postGraphQL(stack.gateway.url, upsert, { input: { externalId: 'C-1001', name: 'Second' } });
    expect(await nameNow()).toBe('Second');
  });
});
