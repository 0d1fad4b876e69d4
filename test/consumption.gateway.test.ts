import { setTimeout as sleep } from 'node:timers/promises';
import { OPEN_RANGE_TTL_MS } from '../src/cache/ttl';
import { CustomerStore } from '../src/customers/store';
import { apiKeyEnv } from './helpers/apiKeys';
import { postGraphQL } from './helpers/clients';
import { backends, type TestDatabase } from './helpers/database';
import { archiveReadings, type ArchiveFixture } from './helpers/readingArchive';
import { startStack, type Stack } from './helpers/stack';

/*
 * Every expected number below is computed by hand from the fixtures, in the comments next to it.
 * Tariff A: 35 ct/kWh, feed-in 8.25 ct/kWh, for C-1001 from 2026-01-01 to 2026-01-15. Tariff B:
 * 40 ct/kWh, feed-in 7 ct/kWh, from 2026-01-16. C-1002 has no contract. Tariffs and contracts are put
 * in through the graph (upsertTariff, upsertContract), as a provider does.
 */

const AUTH_ENV = apiKeyEnv({ staff: 'staff-key', customers: { 'C-1001': 'c1001-key', 'C-1002': 'c1002-key' } });
const STAFF = { 'x-api-key': 'staff-key' };
const CUSTOMER_A = { 'x-api-key': 'c1001-key' };
const CUSTOMER_B = { 'x-api-key': 'c1002-key' };

const BUCKET = 'start end importedWh exportedWh averagePowerW peakPowerW readings cost feedInCredit';

/** C-1001's installation: meter a1, replaced by meter a2 on 2026-01-15 (new meter number). */
function customerAReadings(installationId: string): ArchiveFixture[] {
  const a1 = { meterId: 'meter-a1', meterNumber: '1ISK0000000001', installationId, externalId: 'C-1001' };
  const a2 = { meterId: 'meter-a2', meterNumber: '1ISK0000000002', installationId, externalId: 'C-1001' };
  return [
    { ...a1, time: '2025-12-31T12:00:00Z', importedWh: 900, exportedWh: 400, powerW: 50 },
    { ...a1, time: '2026-01-14T22:45:00Z', importedWh: 1000, exportedWh: 500, powerW: 100 },
    { ...a1, time: '2026-01-14T23:00:00Z', importedWh: 1100, exportedWh: 500, powerW: 200 },
    { ...a1, time: '2026-01-14T23:30:00Z', importedWh: 1300, exportedWh: 700, powerW: 400 },
    // Nothing from 23:30Z to 01:15Z: the reading that closes the gap carries its 600 Wh.
    { ...a1, time: '2026-01-15T01:15:00Z', importedWh: 1900, exportedWh: 700, powerW: 250 },
    // Meter change: a2's registers start over; no delta from a1's 1900 to a2's 50.
    { ...a2, time: '2026-01-15T01:30:00Z', importedWh: 50, exportedWh: 10, powerW: 300 },
    { ...a2, time: '2026-01-15T01:45:00Z', importedWh: 150, exportedWh: 210, powerW: 500 },
    // Counter reset (150 → 20) counts nothing; the increase after it does.
    { ...a2, time: '2026-01-15T02:00:00Z', importedWh: 20, exportedWh: 210, powerW: 100 },
    { ...a2, time: '2026-01-15T03:00:00Z', importedWh: 120, exportedWh: 210, powerW: 100 },
    { ...a2, time: '2026-01-16T10:00:00Z', importedWh: 2120, exportedWh: 1210, powerW: 900 },
  ];
}

/** C-1002's installation: one reading per hour, 100 Wh each, around both 2026 DST changes (one meter each). */
function customerBReadings(installationId: string): ArchiveFixture[] {
  const hourly = (meterId: string, fromIso: string, hours: number) =>
    Array.from({ length: hours }, (_, hour) => ({
      meterId,
      meterNumber: meterId.toUpperCase(),
      installationId,
      externalId: 'C-1002',
      time: new Date(Date.parse(fromIso) + hour * 3_600_000).toISOString().replace('.000Z', 'Z'),
      importedWh: 10_000 + hour * 100,
      powerW: 1000,
    }));
  return [...hourly('meter-b-spring', '2026-03-28T12:00:00Z', 40), ...hourly('meter-b-autumn', '2026-10-24T12:00:00Z', 40)];
}

const gql = {
  installationConsumption: `query ($externalId: String!, $from: DateTime!, $to: DateTime!, $resolution: ConsumptionResolution!) {
    provider { installation(externalId: $externalId) { consumption(from: $from, to: $to, resolution: $resolution) { ${BUCKET} } } } }`,
  customerConsumption: `query ($externalId: String!, $from: DateTime!, $to: DateTime!, $resolution: ConsumptionResolution!) {
    customer(externalId: $externalId) { consumption(from: $from, to: $to, resolution: $resolution) { ${BUCKET} } } }`,
  myConsumption: `query ($from: DateTime!, $to: DateTime!, $resolution: ConsumptionResolution!) {
    me { consumption(from: $from, to: $to, resolution: $resolution) { ${BUCKET} } } }`,
  history: `query ($externalId: String!, $from: DateTime!, $to: DateTime!, $first: Int, $after: String) {
    provider { installation(externalId: $externalId) { readingHistory(from: $from, to: $to, first: $first, after: $after) {
      edges { cursor node { meterId meterNumber time receiveTime importedWh exportedWh powerW values { obisCode value unit } } }
      pageInfo { hasNextPage endCursor } } } } }`,
};

const JAN_15_HOURS = { from: '2026-01-15T00:00:00+01:00', to: '2026-01-15T03:00:00+01:00', resolution: 'HOUR' };
const JAN_15_16_DAYS = { from: '2026-01-15T00:00:00+01:00', to: '2026-01-17T00:00:00+01:00', resolution: 'DAY' };

const expectedJan15Hours = [
  // a1 23:00Z +100 (from 22:45Z, the reading before `from`), 23:30Z +200 / export +200.
  // cost 0.3 kWh × 35 ct = 10.5 ct → €0.105 → €0.11 (half up); feed-in 0.2 × 8.25 = 1.65 ct → €0.02.
  { start: '2026-01-14T23:00:00Z', end: '2026-01-15T00:00:00Z', importedWh: 300, exportedWh: 200, averagePowerW: 300, peakPowerW: 400, readings: 2, cost: 0.11, feedInCredit: 0.02 },
  // The gap: no readings, so nothing here; a contract is in force, so the cost is 0, not null.
  { start: '2026-01-15T00:00:00Z', end: '2026-01-15T01:00:00Z', importedWh: 0, exportedWh: 0, averagePowerW: null, peakPowerW: null, readings: 0, cost: 0, feedInCredit: 0 },
  // a1 01:15Z +600 (the gap), a2 01:30Z nothing (new meter), a2 01:45Z +100 / export +200.
  // power (250 + 300 + 500) / 3 = 350; cost 0.7 × 35 = 24.5 ct → €0.245 → €0.25.
  { start: '2026-01-15T01:00:00Z', end: '2026-01-15T02:00:00Z', importedWh: 700, exportedWh: 200, averagePowerW: 350, peakPowerW: 500, readings: 3, cost: 0.25, feedInCredit: 0.02 },
];

const expectedJan15And16Days = [
  // Jan 15 (local): 100 + 200 + 600 + 100 + 0 (reset) + 100 = 1100 Wh; export 200 + 200 = 400 Wh.
  // 7 readings, power (200+400+250+300+500+100+100) / 7; cost 1.1 × 35 = 38.5 ct → €0.39;
  // feed-in 0.4 × 8.25 = 3.3 ct → €0.03.
  { start: '2026-01-14T23:00:00Z', end: '2026-01-15T23:00:00Z', importedWh: 1100, exportedWh: 400, averagePowerW: 1850 / 7, peakPowerW: 500, readings: 7, cost: 0.39, feedInCredit: 0.03 },
  // Jan 16 under tariff B: +2000 / +1000 Wh; 2 × 40 = 80 ct; 1 × 7 = 7 ct.
  { start: '2026-01-15T23:00:00Z', end: '2026-01-16T23:00:00Z', importedWh: 2000, exportedWh: 1000, averagePowerW: 900, peakPowerW: 900, readings: 1, cost: 0.8, feedInCredit: 0.07 },
];

function sorted<T>(items: T[]): T[] {
  return [...items].sort();
}

describe.each(backends)('consumption and reading history through the gateway (%s)', (_name, backend) => {
  let testDb: TestDatabase;
  let stack: Stack;
  let url: string;
  let fixtures: ArchiveFixture[];

  async function query(document: string, variables: Record<string, unknown>, headers: Record<string, string> = STAFF) {
    const response = await postGraphQL(url, document, variables, headers);
    return response;
  }

  async function installationConsumption(externalId: string, range: Record<string, string>) {
    const { body } = await query(gql.installationConsumption, { externalId, ...range });
    expect(body.errors).toBeUndefined();
    return body.data.provider.installation.consumption;
  }

  /** The same, asserting the database answered (variables never asked before, so no cached response). */
  async function uncachedConsumption(externalId: string, range: Record<string, string>) {
    const { body, headers } = await query(gql.installationConsumption, { externalId, ...range });
    expect(headers.get('x-cache')).toBe('MISS');
    return body.data.provider.installation.consumption;
  }

  beforeAll(async () => {
    testDb = await backend.open();
    stack = await startStack({ database: testDb.db, env: AUTH_ENV, simulator: { installations: 3, readingIntervalMs: 5_000 } });
    url = stack.gateway.url;

    const store = new CustomerStore(testDb.db);
    await store.upsertCustomer({ externalId: 'C-1001', name: 'Ada Consumer' });
    await store.upsertCustomer({ externalId: 'C-1002', name: 'Bo Noncontract' });
    const tariff = async (input: Record<string, unknown>): Promise<string> => {
      const { body } = await query('mutation ($input: UpsertTariffInput!) { upsertTariff(input: $input) { id } }', { input });
      expect(body.errors).toBeUndefined();
      return body.data.upsertTariff.id;
    };
    const contract = async (input: Record<string, unknown>) => {
      const { body } = await query('mutation ($input: UpsertContractInput!) { upsertContract(input: $input) { id } }', { input });
      expect(body.errors).toBeUndefined();
    };
    const tariffA = await tariff({ name: 'Fixture A', energyPriceCtPerKwh: 35, basePriceEurPerMonth: 10, feedInCtPerKwh: 8.25 });
    const tariffB = await tariff({ name: 'Fixture B', energyPriceCtPerKwh: 40, basePriceEurPerMonth: 12, feedInCtPerKwh: 7 });
    await contract({ customerExternalId: 'C-1001', tariffId: tariffA, startDate: '2026-01-01', endDate: '2026-01-15' });
    await contract({ customerExternalId: 'C-1001', tariffId: tariffB, startDate: '2026-01-16' });

    const { body } = await query('{ provider { a: installation(externalId: "C-1001") { id } b: installation(externalId: "C-1002") { id } } }', {});
    fixtures = [...customerAReadings(body.data.provider.a.id), ...customerBReadings(body.data.provider.b.id)];
    await archiveReadings(testDb.db, fixtures);
  });
  afterAll(async () => {
    await stack?.close();
    await testDb?.cleanup();
  });

  describe('arithmetic against hand-computed fixtures', () => {
    it('hourly buckets: tariff cost, the reading before `from`, a missing interval and a meter change', async () => {
      expect(await installationConsumption('C-1001', JAN_15_HOURS)).toEqual(expectedJan15Hours);
    });

    it('day buckets: a counter reset counts nothing; each day is priced by the contract in force that day', async () => {
      expect(await installationConsumption('C-1001', JAN_15_16_DAYS)).toEqual(expectedJan15And16Days);
    });

    it('a month bucket sums energy and cost across a contract change', async () => {
      const [january, ...rest] = await installationConsumption('C-1001', { from: '2026-01-01T00:00:00+01:00', to: '2026-02-01T00:00:00+01:00', resolution: 'MONTH' });
      expect(rest).toEqual([]);
      expect(january).toEqual({
        start: '2025-12-31T23:00:00Z',
        end: '2026-01-31T23:00:00Z',
        // Jan 14: 1000 − 900 = 100 Wh (export 100); Jan 15: 1100 (400); Jan 16: 2000 (1000).
        importedWh: 3200,
        exportedWh: 1500,
        averagePowerW: (100 + 1850 + 900) / 9,
        peakPowerW: 900,
        readings: 9,
        // 0.1 × 35 + 1.1 × 35 + 2 × 40 = 3.5 + 38.5 + 80 = 122 ct.
        cost: 1.22,
        // 0.1 × 8.25 + 0.4 × 8.25 + 1 × 7 = 0.825 + 3.3 + 7 = 11.125 ct → €0.11125 → €0.11.
        feedInCredit: 0.11,
      });
    });

    it('cost is null for a day without a contract in force, 0 for a day with one and no readings', async () => {
      expect(await installationConsumption('C-1001', { from: '2025-12-31T00:00:00+01:00', to: '2026-01-02T00:00:00+01:00', resolution: 'DAY' })).toEqual([
        // The installation's first reading: nothing before it, so no delta.
        { start: '2025-12-30T23:00:00Z', end: '2025-12-31T23:00:00Z', importedWh: 0, exportedWh: 0, averagePowerW: 50, peakPowerW: 50, readings: 1, cost: null, feedInCredit: null },
        { start: '2025-12-31T23:00:00Z', end: '2026-01-01T23:00:00Z', importedWh: 0, exportedWh: 0, averagePowerW: null, peakPowerW: null, readings: 0, cost: 0, feedInCredit: 0 },
      ]);
    });

    it('Europe/Berlin spring-forward day has 23 hours: 23 readings of 100 Wh', async () => {
      const range = { from: '2026-03-29T00:00:00+01:00', to: '2026-03-30T00:00:00+02:00' };
      expect(await installationConsumption('C-1002', { ...range, resolution: 'DAY' })).toEqual([
        { start: '2026-03-28T23:00:00Z', end: '2026-03-29T22:00:00Z', importedWh: 2300, exportedWh: 0, averagePowerW: 1000, peakPowerW: 1000, readings: 23, cost: null, feedInCredit: null },
      ]);
      const hours = await installationConsumption('C-1002', { ...range, resolution: 'HOUR' });
      expect(hours).toHaveLength(23);
      expect(hours.every((bucket: { importedWh: number }) => bucket.importedWh === 100)).toBe(true);
    });

    it('Europe/Berlin fall-back day has 25 hours, the 02:00 hour twice', async () => {
      const range = { from: '2026-10-25T00:00:00+02:00', to: '2026-10-26T00:00:00+01:00' };
      expect(await installationConsumption('C-1002', { ...range, resolution: 'DAY' })).toEqual([
        { start: '2026-10-24T22:00:00Z', end: '2026-10-25T23:00:00Z', importedWh: 2500, exportedWh: 0, averagePowerW: 1000, peakPowerW: 1000, readings: 25, cost: null, feedInCredit: null },
      ]);
      const hours = await installationConsumption('C-1002', { ...range, resolution: 'HOUR' });
      expect(hours).toHaveLength(25);
      // 02:00 CEST and 02:00 CET.
      expect(hours.map((bucket: { start: string }) => bucket.start)).toEqual(expect.arrayContaining(['2026-10-25T00:00:00Z', '2026-10-25T01:00:00Z']));
    });

    it('re-sent readings (the upstream may repeat them) change nothing', async () => {
      // The same instants spelled differently each time, so each answer comes from the database.
      const before = await uncachedConsumption('C-1001', { ...JAN_15_16_DAYS, to: '2026-01-16T23:00:00Z' });
      const repeated = fixtures.map((reading) => ({ ...reading, importedWh: (reading.importedWh ?? 0) + 1_000_000 }));
      expect(await archiveReadings(testDb.db, repeated)).toBe(0);
      expect(await archiveReadings(testDb.db, fixtures)).toBe(0);
      expect(await uncachedConsumption('C-1001', { ...JAN_15_16_DAYS, to: '2026-01-17T00:00:00.000+01:00' })).toEqual(before);
      expect(before).toEqual(expectedJan15And16Days);
    });

    it('Customer.consumption equals its installation\'s', async () => {
      const { body } = await query(gql.customerConsumption, { externalId: 'C-1001', ...JAN_15_16_DAYS });
      expect(body.errors).toBeUndefined();
      expect(body.data.customer.consumption).toEqual(expectedJan15And16Days);
    });
  });

  describe('the 15-minute rollup: readings out of order, in one statement, range edges inside a slot', () => {
    /**
     * C-1003, one meter, 2026-02-10 (UTC), no export register, no contract. In time order:
     * 09:50 1000 | slot 10:00: 10:00 1100 (+100), 10:05 50 (dip: nothing), 10:10 300 (+250)
     * slot 10:15: 10:20 400 (+100), 10:25 450 (+50) | slot 10:30 empty | slot 10:45: 10:50 600 (+150)
     * slot 11:00: 11:05 700 (+100) | slot 11:15: 11:20 650 (dip: nothing), 11:25 700 (+50)
     */
    const reading = (installationId: string, time: string, importedWh: number, powerW?: number): ArchiveFixture => ({
      meterId: 'meter-c1', meterNumber: '1ISK0000000003', installationId, externalId: 'C-1003',
      time: `2026-02-10T${time}:00Z`, importedWh, ...(powerW === undefined ? {} : { powerW }),
    });

    beforeAll(async () => {
      const { body } = await query('{ provider { installation(externalId: "C-1003") { id } } }', {});
      const at = (time: string, importedWh: number, powerW?: number) => reading(body.data.provider.installation.id, time, importedWh, powerW);
      // One statement with several readings per slot, in no particular order.
      await archiveReadings(testDb.db, [at('11:25', 700, 100), at('10:10', 300, 200), at('09:50', 1000), at('11:05', 700, 300), at('10:00', 1100, 100)], { oneStatement: true });
      // Then, one at a time, readings that arrive after their slots were rolled up:
      await archiveReadings(testDb.db, [
        at('10:20', 400, 400), // a new slot between two rolled-up ones
        at('10:25', 450, 100), // after the last reading of its slot, though later slots exist
        at('10:05', 50, 300), // between a slot's first and last reading, with a dip
        at('10:50', 600, 500), // an empty slot filled: 11:05 now counts from here
        at('11:20', 650), // before the first reading of its slot, a dip again
      ]);
    });

    it('gives the buckets the readings give in time order', async () => {
      expect(await installationConsumption('C-1003', { from: '2026-02-10T11:00:00+01:00', to: '2026-02-10T13:00:00+01:00', resolution: 'HOUR' })).toEqual([
        // 100 + 0 + 250 + 100 + 50 + 150 = 650 Wh; power (100 + 300 + 200 + 400 + 100 + 500) / 6.
        { start: '2026-02-10T10:00:00Z', end: '2026-02-10T11:00:00Z', importedWh: 650, exportedWh: 0, averagePowerW: 1600 / 6, peakPowerW: 500, readings: 6, cost: null, feedInCredit: null },
        // 100 + 0 + 50 Wh; power (300 + 100) / 2, 11:20 has none.
        { start: '2026-02-10T11:00:00Z', end: '2026-02-10T12:00:00Z', importedWh: 150, exportedWh: 0, averagePowerW: 200, peakPowerW: 300, readings: 3, cost: null, feedInCredit: null },
      ]);
    });

    it('counts only the readings on the inner side of a range edge that cuts a slot', async () => {
      expect(await installationConsumption('C-1003', { from: '2026-02-10T10:07:00Z', to: '2026-02-10T11:22:00Z', resolution: 'HOUR' })).toEqual([
        // 10:10 compared with 10:05, the reading before `from`: +250; then +100 +50 +150 = 550 Wh.
        { start: '2026-02-10T10:00:00Z', end: '2026-02-10T11:00:00Z', importedWh: 550, exportedWh: 0, averagePowerW: 300, peakPowerW: 500, readings: 4, cost: null, feedInCredit: null },
        // 11:05 +100, 11:20 a dip; 11:25 is after `to`.
        { start: '2026-02-10T11:00:00Z', end: '2026-02-10T12:00:00Z', importedWh: 100, exportedWh: 0, averagePowerW: 300, peakPowerW: 300, readings: 2, cost: null, feedInCredit: null },
      ]);
      // Shorter than a slot: 10:10 alone, compared with 10:05.
      expect(await installationConsumption('C-1003', { from: '2026-02-10T10:06:00Z', to: '2026-02-10T10:14:00Z', resolution: 'HOUR' })).toEqual([
        { start: '2026-02-10T10:00:00Z', end: '2026-02-10T11:00:00Z', importedWh: 250, exportedWh: 0, averagePowerW: 200, peakPowerW: 200, readings: 1, cost: null, feedInCredit: null },
      ]);
    });
  });

  describe('reading history', () => {
    it('pages through the archive in time order with opaque cursors', async () => {
      const range = { externalId: 'C-1001', from: '2026-01-14T00:00:00Z', to: '2026-01-17T00:00:00Z' };
      const pages: any[] = [];
      let after: string | null = null;
      do {
        const { body }: { body: any } = await query(gql.history, { ...range, first: 4, after });
        expect(body.errors).toBeUndefined();
        const page = body.data.provider.installation.readingHistory;
        pages.push(page);
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      expect(pages.map((page) => page.edges.length)).toEqual([4, 4, 1]);
      const nodes = pages.flatMap((page) => page.edges.map((edge: any) => edge.node));
      const expected = customerAReadings('').filter((reading) => reading.time >= range.from && reading.time < range.to);
      expect(nodes.map((node) => [Date.parse(node.time), node.meterNumber, node.importedWh])).toEqual(
        expected.map((reading) => [Date.parse(reading.time), reading.meterNumber, reading.importedWh]),
      );
      expect(nodes[0]).toMatchObject({
        meterId: 'meter-a1',
        powerW: 100,
        values: [
          { obisCode: '1-0:1.8.0', value: 1000, unit: 'Wh' },
          { obisCode: '1-0:2.8.0', value: 500, unit: 'Wh' },
          { obisCode: '1-0:16.7.0', value: 100, unit: 'W' },
        ],
      });
      expect(Date.parse(nodes[0].receiveTime) - Date.parse(nodes[0].time)).toBe(1000);
      // Milliseconds, like every other DateTime of the graph (cursors keep the archive's microseconds).
      expect(nodes[0]).toMatchObject({ time: '2026-01-14T22:45:00.000Z', receiveTime: '2026-01-14T22:45:01.000Z' });
      expect(pages.at(-1).pageInfo).toEqual({ hasNextPage: false, endCursor: pages.at(-1).edges[0].cursor });
    });
  });

  describe('input validation', () => {
    it.each([
      ['from equal to to', { ...JAN_15_HOURS, to: JAN_15_HOURS.from }, 'to'],
      ['to before from', { ...JAN_15_HOURS, from: '2026-02-01T00:00:00Z' }, 'to'],
      ['33 days of hours', { from: '2026-01-01T00:00:00Z', to: '2026-02-03T00:00:00Z', resolution: 'HOUR' }, 'to'],
      ['94 days of days', { from: '2026-01-01T00:00:00Z', to: '2026-04-05T00:00:00Z', resolution: 'DAY' }, 'to'],
      ['367 days of months', { from: '2026-01-01T00:00:00Z', to: '2027-01-03T00:00:00Z', resolution: 'MONTH' }, 'to'],
    ])('rejects consumption with %s as BAD_USER_INPUT', async (_case, range, field) => {
      for (const document of [gql.installationConsumption, gql.customerConsumption]) {
        const { body } = await query(document, { externalId: 'C-1001', ...range });
        expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
      }
    });

    it('accepts the longest ranges: a 31-day month of hours with its extra DST hour, a year of months', async () => {
      const october = await installationConsumption('C-1002', { from: '2026-10-01T00:00:00+02:00', to: '2026-11-01T00:00:00+01:00', resolution: 'HOUR' });
      expect(october).toHaveLength(31 * 24 + 1);
      const year = await installationConsumption('C-1002', { from: '2026-01-01T00:00:00+01:00', to: '2027-01-01T00:00:00+01:00', resolution: 'MONTH' });
      expect(year.map((bucket: { importedWh: number }) => bucket.importedWh)).toEqual([0, 0, 3900, 0, 0, 0, 0, 0, 0, 3900, 0, 0]);
    });

    it.each([
      ['first: 0', { first: 0 }, 'first'],
      ['first: 1001', { first: 1001 }, 'first'],
      ['an invented cursor', { after: 'bm90LWEtY3Vyc29y' }, 'after'],
    ])('rejects readingHistory with %s as BAD_USER_INPUT', async (_case, args, field) => {
      const { body } = await query(gql.history, { externalId: 'C-1001', from: '2026-01-14T00:00:00Z', to: '2026-01-17T00:00:00Z', ...args });
      expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    });

    it('rejects a malformed DateTime and an unknown resolution before anything runs', async () => {
      const badTime = await query(gql.installationConsumption, { externalId: 'C-1001', ...JAN_15_HOURS, from: 'yesterday' });
      expect(badTime.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const badResolution = await query(gql.installationConsumption, { externalId: 'C-1001', ...JAN_15_HOURS, resolution: 'WEEK' });
      expect(badResolution.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('scoping', () => {
    it('a customer sees their own consumption and history through me, as staff see it', async () => {
      const own = await query(gql.myConsumption, JAN_15_16_DAYS, CUSTOMER_A);
      expect(own.body.errors).toBeUndefined();
      expect(own.body.data.me.consumption).toEqual(expectedJan15And16Days);

      const nested = await query(
        `query ($from: DateTime!, $to: DateTime!) { me { installation {
           consumption(from: $from, to: $to, resolution: HOUR) { importedWh cost }
           readingHistory(from: $from, to: $to) { edges { node { meterNumber } } } } } }`,
        { from: JAN_15_HOURS.from, to: JAN_15_HOURS.to },
        CUSTOMER_A,
      );
      expect(nested.body.errors).toBeUndefined();
      expect(nested.body.data.me.installation.consumption).toEqual(expectedJan15Hours.map(({ importedWh, cost }) => ({ importedWh, cost })));
      expect(sorted(nested.body.data.me.installation.readingHistory.edges.map((edge: any) => edge.node.meterNumber))).toEqual(
        sorted(['1ISK0000000001', '1ISK0000000001', '1ISK0000000001', '1ISK0000000002', '1ISK0000000002']),
      );
    });

    it('a bad cursor under me nulls only readingHistory, with the client\'s own path in the error', async () => {
      const { body } = await query(
        `query ($from: DateTime!, $to: DateTime!) { me { installation { id
           readingHistory(from: $from, to: $to, after: "bm90LWEtY3Vyc29y") { edges { node { meterNumber } } } } } }`,
        { from: JAN_15_HOURS.from, to: JAN_15_HOURS.to },
        CUSTOMER_A,
      );
      expect(body.data.me.installation).toEqual({ id: expect.any(String), readingHistory: null });
      expect(body.errors).toEqual([
        expect.objectContaining({ path: ['me', 'installation', 'readingHistory'], extensions: { code: 'BAD_USER_INPUT', field: 'after' } }),
      ]);
    });

    it('an error that nulls the installation under me names the client\'s path, not the gateway\'s batching alias', async () => {
      const { body } = await query(
        `{ me { installation { id consumption(from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z", resolution: HOUR) { importedWh } } } }`,
        {},
        CUSTOMER_A,
      );
      expect(body.data.me.installation).toBeNull();
      expect(body.errors).toEqual([expect.objectContaining({ path: ['me', 'installation', 'consumption'], extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    });

    it('another customer sees only their own installation\'s energy, and no cost without a contract', async () => {
      const { body } = await query(gql.myConsumption, JAN_15_16_DAYS, CUSTOMER_B);
      expect(body.errors).toBeUndefined();
      expect(body.data.me.consumption.map((bucket: any) => [bucket.importedWh, bucket.readings, bucket.cost])).toEqual([
        [0, 0, null],
        [0, 0, null],
      ]);
    });

    it('a customer cannot reach another customer or installation', async () => {
      for (const document of [gql.customerConsumption, gql.installationConsumption]) {
        const response = await query(document, { externalId: 'C-1001', ...JAN_15_16_DAYS }, CUSTOMER_B);
        expect(response.status).toBe(403);
        expect(response.body.data ?? null).toBeNull();
        expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
    });
  });

  describe('response cache', () => {
    it('keeps closed ranges and caps a range that is still open at the short TTL', async () => {
      const now = Date.now();
      const open = { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 3_600_000).toISOString(), resolution: 'HOUR' };
      // A range no other test asks for: an entry cached earlier could be close to its own TTL by now.
      const closed = { ...JAN_15_HOURS, from: '2026-01-15T04:00:00+01:00', to: '2026-01-15T06:00:00+01:00' };
      const cacheOf = async (range: Record<string, string>) => {
        const response = await query(gql.installationConsumption, { externalId: 'C-1001', ...range });
        expect(response.body.errors).toBeUndefined();
        return response.headers.get('x-cache');
      };
      expect([await cacheOf(open), await cacheOf(closed)]).toEqual(['MISS', 'MISS']);
      expect([await cacheOf(open), await cacheOf(closed)]).toEqual(['HIT', 'HIT']);
      await sleep(OPEN_RANGE_TTL_MS + 500);
      expect([await cacheOf(open), await cacheOf(closed)]).toEqual(['MISS', 'HIT']);
    });
  });
});

describe('consumption in another configured time zone', () => {
  let testDb: TestDatabase;
  let stack: Stack;

  beforeAll(async () => {
    testDb = await backends[1]![1].open();
    stack = await startStack({
      database: testDb.db,
      env: { ...AUTH_ENV, CONSUMPTION_TIME_ZONE: 'Asia/Kolkata' },
      simulator: { installations: 3, readingIntervalMs: 5_000 },
    });
    const { body } = await postGraphQL(stack.gateway.url, '{ provider { installation(externalId: "C-1002") { id } } }', undefined, STAFF);
    await archiveReadings(testDb.db, customerBReadings(body.data.provider.installation.id));
  });
  afterAll(async () => {
    await stack?.close();
    await testDb?.cleanup();
  });

  it('starts days at local midnight of CONSUMPTION_TIME_ZONE (UTC+05:30, no DST): 24 hours', async () => {
    const { body } = await postGraphQL(
      stack.gateway.url,
      `{ provider { installation(externalId: "C-1002") {
         consumption(from: "2026-03-29T00:00:00+05:30", to: "2026-03-31T00:00:00+05:30", resolution: DAY) { start end importedWh readings } } } }`,
      undefined,
      STAFF,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.provider.installation.consumption).toEqual([
      // Readings at 19:00Z … 18:00Z next day: 24 × 100 Wh; Berlin's DST change does not apply here.
      { start: '2026-03-28T18:30:00Z', end: '2026-03-29T18:30:00Z', importedWh: 2400, readings: 24 },
      // The fixture's last reading is 2026-03-30T03:00Z: 09:00 local, so 9 readings.
      { start: '2026-03-29T18:30:00Z', end: '2026-03-30T18:30:00Z', importedWh: 900, readings: 9 },
    ]);
  });
});
