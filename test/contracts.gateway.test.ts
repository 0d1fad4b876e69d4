import { CustomerStore } from '../src/customers/store';
import { apiKeyEnv } from './helpers/apiKeys';
import { postGraphQL } from './helpers/clients';
import { backends, type TestDatabase } from './helpers/database';
import { archiveReadings } from './helpers/readingArchive';
import { startStack, type Stack } from './helpers/stack';

/*
 * Tariffs and contracts through the graph (issue 19 §1): staff only, validated, no retroactive
 * repricing, no overlaps, audited, and a change reaches the customer's cached consumption at once.
 */

const AUTH_ENV = apiKeyEnv({ staff: 'staff-key', customers: { 'C-1001': 'c1001-key' } });
const STAFF = { 'x-api-key': 'staff-key' };
const CUSTOMER = { 'x-api-key': 'c1001-key' };

const gql = {
  tariff: `mutation ($input: UpsertTariffInput!) { upsertTariff(input: $input) { id name energyPriceCtPerKwh feedInCtPerKwh basePriceEurPerMonth } }`,
  contract: `mutation ($input: UpsertContractInput!) { upsertContract(input: $input) { id startDate endDate status tariff { id name } } }`,
  end: `mutation ($id: ID!, $endDate: Date!) { endContract(id: $id, endDate: $endDate) { id startDate endDate status } }`,
  contracts: `query ($externalId: String!) { customer(externalId: $externalId) { contract { id } contracts { id startDate endDate status } } }`,
  dayCost: `query ($from: DateTime!, $to: DateTime!) { customer(externalId: "C-1001") { consumption(from: $from, to: $to, resolution: DAY) { importedWh cost } } }`,
};

const tariffInput = (name: string, energyPriceCtPerKwh: number) => ({ name, energyPriceCtPerKwh, feedInCtPerKwh: 8, basePriceEurPerMonth: 12.5 });

describe.each(backends)('tariffs and contracts through the graph (%s)', (_name, backend) => {
  let testDb: TestDatabase;
  let stack: Stack;

  const call = (document: string, variables: Record<string, unknown>, headers: Record<string, string> = STAFF) =>
    postGraphQL(stack.gateway.url, document, variables, headers).then((response) => response.body);

  async function tariff(name: string, price: number): Promise<string> {
    const body = await call(gql.tariff, { input: tariffInput(name, price) });
    expect(body.errors).toBeUndefined();
    return body.data.upsertTariff.id;
  }

  const auditLines = () =>
    stack.logs.map((line) => JSON.parse(line)).filter((entry) => entry.audit !== undefined).map((entry) => entry.audit);

  beforeAll(async () => {
    testDb = await backend.open();
    const store = new CustomerStore(testDb.db);
    for (const externalId of ['C-1001', 'C-1002', 'C-1003']) await store.upsertCustomer({ externalId, name: `Kunde ${externalId}` });
    stack = await startStack({ database: testDb.db, env: AUTH_ENV, simulator: { installations: 1, readingIntervalMs: 5_000 } });
  });
  afterAll(async () => {
    await stack.close();
    await testDb.cleanup();
  });

  describe('upsertTariff', () => {
    it('creates a tariff with exact prices, changes it by id or by name, and audits each change once', async () => {
      const created = await call(gql.tariff, { input: { ...tariffInput('Grün', 31.2345), basePriceEurPerMonth: 9.99 } });
      expect(created.errors).toBeUndefined();
      const { id } = created.data.upsertTariff;
      expect(created.data.upsertTariff).toEqual({ id, name: 'Grün', energyPriceCtPerKwh: 31.2345, feedInCtPerKwh: 8, basePriceEurPerMonth: 9.99 });

      const renamed = await call(gql.tariff, { input: { ...tariffInput('Grün Plus', 31.2345), basePriceEurPerMonth: 9.99, id } });
      expect(renamed.data.upsertTariff).toMatchObject({ id, name: 'Grün Plus' });
      const byName = await call(gql.tariff, { input: tariffInput('Grün Plus', 30) });
      expect(byName.data.upsertTariff).toMatchObject({ id, energyPriceCtPerKwh: 30 });
      // The same again changes nothing and writes no audit line.
      await call(gql.tariff, { input: tariffInput('Grün Plus', 30) });

      const lines = auditLines().filter((line) => line.id === id);
      expect(lines.map((line) => line.action)).toEqual(['upsertTariff', 'upsertTariff', 'upsertTariff']);
      expect(lines[0]).toMatchObject({ by: { subject: 'backoffice', via: 'apiKey' }, entity: 'Tariff', before: null, after: { name: 'Grün' } });
      expect(lines[2]).toMatchObject({ before: { energyPriceCtPerKwh: 31.2345 }, after: { energyPriceCtPerKwh: 30 } });
    });

    it.each([
      ['a negative price', { energyPriceCtPerKwh: -0.5 }, 'energyPriceCtPerKwh', /negative/],
      ['more decimals than stored', { feedInCtPerKwh: 8.12345 }, 'feedInCtPerKwh', /4 decimal places/],
      ['fractions of a cent in EUR', { basePriceEurPerMonth: 12.345 }, 'basePriceEurPerMonth', /2 decimal places/],
      ['an unknown id', { id: '00000000-0000-4000-8000-000000000000' }, 'id', /does not refer/],
    ])('refuses %s with BAD_USER_INPUT naming the field', async (_case, overrides, field, message) => {
      const body = await call(gql.tariff, { input: { ...tariffInput('Refused', 30), ...overrides } });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(body.errors?.[0]?.message).toMatch(message);
      const rows = await testDb.db.query(`SELECT 1 FROM tariffs WHERE name = 'Refused'`);
      expect(rows.rows).toHaveLength(0);
    });

    it('refuses renaming a tariff to the name of another', async () => {
      const id = await tariff('Name A', 30);
      await tariff('Name B', 30);
      const body = await call(gql.tariff, { input: { ...tariffInput('Name B', 30), id } });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    });
  });

  describe('upsertContract and endContract', () => {
    it('refuses to reprice a tariff that prices a contract, naming the contract; its name may still change', async () => {
      const tariffId = await tariff('Referenced', 30);
      const contract = await call(gql.contract, { input: { customerExternalId: 'C-1002', tariffId, startDate: '2025-01-01', endDate: '2025-12-31' } });
      expect(contract.errors).toBeUndefined();
      const repriced = await call(gql.tariff, { input: { ...tariffInput('Referenced', 35), id: tariffId } });
      expect(repriced.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'energyPriceCtPerKwh' });
      expect(repriced.errors?.[0]?.message).toContain(contract.data.upsertContract.id);
      const renamed = await call(gql.tariff, { input: { ...tariffInput('Referenced 2025', 30), id: tariffId } });
      expect(renamed.data.upsertTariff.name).toBe('Referenced 2025');
    });

    it('keeps a customer\'s contracts apart: an overlap is refused naming the clash; after ending the first, the next one fits', async () => {
      const basis = await tariff('Basis C-1003', 30);
      const oeko = await tariff('Öko C-1003', 28);
      const first = await call(gql.contract, { input: { customerExternalId: 'C-1003', tariffId: basis, startDate: '2024-01-01' } });
      expect(first.data.upsertContract).toMatchObject({ startDate: '2024-01-01', endDate: null, status: 'active', tariff: { id: basis } });
      const firstId = first.data.upsertContract.id;

      const overlapping = await call(gql.contract, { input: { customerExternalId: 'C-1003', tariffId: oeko, startDate: '2025-06-01' } });
      expect(overlapping.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startDate' });
      expect(overlapping.errors?.[0]?.message).toContain(`overlaps contract ${firstId}`);
      expect(overlapping.errors?.[0]?.message).toContain('2024-01-01 to open-ended');

      const ended = await call(gql.end, { id: firstId, endDate: '2025-05-31' });
      expect(ended.data.endContract).toEqual({ id: firstId, startDate: '2024-01-01', endDate: '2025-05-31', status: 'ended' });
      const next = await call(gql.contract, { input: { customerExternalId: 'C-1003', tariffId: oeko, startDate: '2025-06-01' } });
      expect(next.errors).toBeUndefined();
      const future = await call(gql.contract, { input: { customerExternalId: 'C-1003', tariffId: basis, startDate: '2099-01-01' } });
      expect(future.errors?.[0]?.message).toContain(`overlaps contract ${next.data.upsertContract.id}`);

      // Moving the first contract's end back into the second one is an overlap too.
      const stretched = await call(gql.end, { id: firstId, endDate: '2025-06-30' });
      expect(stretched.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(stretched.errors?.[0]?.message).toContain(`overlaps contract ${next.data.upsertContract.id}`);

      const history = await call(gql.contracts, { externalId: 'C-1003' });
      expect(history.data.customer.contract.id).toBe(next.data.upsertContract.id);
      expect(history.data.customer.contracts.map((contract: { id: string; status: string }) => [contract.id, contract.status])).toEqual([
        [next.data.upsertContract.id, 'active'],
        [firstId, 'ended'],
      ]);
    });

    it('is idempotent without an id, and refuses changing the tariff of a contract that has started', async () => {
      const tariffId = await tariff('Idempotent', 30);
      const other = await tariff('Idempotent other', 31);
      const input = { customerExternalId: 'C-1002', tariffId, startDate: '2026-01-01', endDate: '2026-06-30' };
      const [a, b] = [await call(gql.contract, { input }), await call(gql.contract, { input })];
      expect(b.data.upsertContract.id).toBe(a.data.upsertContract.id);
      expect(auditLines().filter((line) => line.id === a.data.upsertContract.id)).toHaveLength(1);

      const switched = await call(gql.contract, { input: { ...input, id: a.data.upsertContract.id, tariffId: other } });
      expect(switched.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tariffId' });
      expect(switched.errors?.[0]?.message).toMatch(/in force since 2026-01-01/);
    });

    it('keeps contracts apart under concurrent writes: identical ones become one, overlapping ones all but one refused', async () => {
      const tariffId = await tariff('Concurrent', 30);
      const other = await tariff('Concurrent other', 31);
      const same = { customerExternalId: 'C-1002', tariffId, startDate: '2031-01-01', endDate: '2031-12-31' };
      const identical = await Promise.all(Array.from({ length: 5 }, () => call(gql.contract, { input: same })));
      expect(new Set(identical.map((body) => body.data.upsertContract.id)).size).toBe(1);
      const overlapping = await Promise.all(
        ['2032-01-01', '2032-02-01', '2032-03-01'].map((startDate) => call(gql.contract, { input: { customerExternalId: 'C-1002', tariffId: other, startDate } })),
      );
      expect(overlapping.filter((body) => body.errors === undefined)).toHaveLength(1);
      expect(overlapping.filter((body) => body.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT')).toHaveLength(2);
      const { rows } = await testDb.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM contracts contract JOIN customers customer ON customer.id = contract.customer_id
         WHERE customer.external_id = 'C-1002' AND contract.start_date >= '2031-01-01'`,
      );
      expect(rows[0]!.n).toBe(2);
    });

    it.each([
      ['an unknown customer', { customerExternalId: 'C-9999' }, 'customerExternalId'],
      ['an unknown tariff', { tariffId: '00000000-0000-4000-8000-000000000000' }, 'tariffId'],
      ['an end before the start', { startDate: '2030-02-01', endDate: '2030-01-31' }, 'endDate'],
    ])('refuses %s with BAD_USER_INPUT naming the field', async (_case, overrides, field) => {
      const tariffId = await tariff('Any', 30);
      const body = await call(gql.contract, { input: { customerExternalId: 'C-1002', tariffId, startDate: '2030-01-01', ...overrides } });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });
  });

  describe('prices consumption, and a change reaches cached responses at once', () => {
    it('cost is imported kWh × the energy price, half up to cents per bucket, from the contract created through the graph', async () => {
      const body = await call('{ provider { installation(externalId: "C-1001") { id } } }', {});
      const installationId = body.data.provider.installation.id;
      const meter = { meterId: 'meter-c', meterNumber: '1ISK0000000099', installationId, externalId: 'C-1001' };
      await archiveReadings(testDb.db, [
        { ...meter, time: '2026-02-01T08:00:00Z', importedWh: 10_000 },
        // 1234.5 Wh on Feb 1 (local): at 31.57 ct/kWh, 38.973165 ct → €0.39.
        { ...meter, time: '2026-02-01T20:00:00Z', importedWh: 11_234.5 },
      ]);
      const day = { from: '2026-02-01T00:00:00+01:00', to: '2026-02-02T00:00:00+01:00' };
      const before = await postGraphQL(stack.gateway.url, gql.dayCost, day, STAFF);
      expect(before.body.data.customer.consumption).toEqual([{ importedWh: 1234.5, cost: null }]);
      const cached = await postGraphQL(stack.gateway.url, gql.dayCost, day, STAFF);
      expect(cached.headers.get('x-cache')).toBe('HIT');

      const tariffId = await tariff('Priced', 31.57);
      const contract = await call(gql.contract, { input: { customerExternalId: 'C-1001', tariffId, startDate: '2026-01-01' } });
      expect(contract.errors).toBeUndefined();
      const after = await postGraphQL(stack.gateway.url, gql.dayCost, day, STAFF);
      expect(after.headers.get('x-cache')).toBe('MISS');
      expect(after.body.data.customer.consumption).toEqual([{ importedWh: 1234.5, cost: 0.39 }]);

      // Reached through the installation, the priced response is invalidated as well.
      const viaInstallation = `query ($from: DateTime!, $to: DateTime!) { provider { installation(externalId: "C-1001") { consumption(from: $from, to: $to, resolution: DAY) { cost } } } }`;
      expect((await call(viaInstallation, day)).data.provider.installation.consumption).toEqual([{ cost: 0.39 }]);
      const ended = await call(gql.end, { id: contract.data.upsertContract.id, endDate: '2026-01-31' });
      expect(ended.errors).toBeUndefined();
      expect((await call(viaInstallation, day)).data.provider.installation.consumption).toEqual([{ cost: null }]);
    });
  });

  describe('customers', () => {
    it('see their own contracts through me, and every write is FORBIDDEN to them', async () => {
      const own = await call(`{ me { contract { tariff { name } } contracts { startDate } } }`, {}, CUSTOMER);
      expect(own.errors).toBeUndefined();
      expect(own.data.me.contracts).toEqual([{ startDate: '2026-01-01' }]);
      for (const [document, variables] of [
        [gql.tariff, { input: tariffInput('Mine', 1) }],
        [gql.contract, { input: { customerExternalId: 'C-1001', tariffId: '00000000-0000-4000-8000-000000000000', startDate: '2026-01-01' } }],
        [gql.end, { id: '00000000-0000-4000-8000-000000000000', endDate: '2026-01-01' }],
      ] as const) {
        const body = await call(document, variables, CUSTOMER);
        expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(body.data ?? null).toBeNull();
      }
    });
  });
});
