import { CustomerStore } from '../src/customers/store';
import { apiKeyEnv } from './helpers/apiKeys';
import { postGraphQL } from './helpers/clients';
import { postgresBackend, type TestDatabase } from './helpers/database';
import { archiveReadings, type ArchiveFixture } from './helpers/readingArchive';
import { startStack, type Stack } from './helpers/stack';

/*
 * A customer's consumption needs their installation id, which IOmeter knows; the archive keeps the
 * history IOmeter no longer has, so it must answer while IOmeter is down, through the installation
 * the archive last recorded for the customer.
 */

const CUSTOMERS = ['C-1001', 'C-1002', 'C-1003'];
const keyOf = (externalId: string) => `key-${externalId}`;
const AUTH_ENV = {
  ...apiKeyEnv({ staff: 'staff-key', customers: Object.fromEntries(CUSTOMERS.map((externalId) => [externalId, keyOf(externalId)])) }),
  // Each outage is one failed attempt, and the circuit stays open for the rest of the file once open.
  IOMETER_RETRIES: '0',
  IOMETER_BREAKER_FAILURES: '3',
  IOMETER_BREAKER_COOLDOWN: '1h',
};
const STAFF = { 'x-api-key': 'staff-key' };

const JAN_15 = { from: '2026-01-15T00:00:00+01:00', to: '2026-01-16T00:00:00+01:00' };
/** The same day spelled in UTC: a response cached while IOmeter was up cannot answer for it. */
const JAN_15_UTC = { from: '2026-01-14T23:00:00Z', to: '2026-01-15T23:00:00Z' };
const MY_CONSUMPTION = `query ($from: DateTime!, $to: DateTime!) {
  me { consumption(from: $from, to: $to, resolution: DAY) { start end importedWh readings } } }`;
const bucket = (importedWh: number, readings: number) => ({ start: '2026-01-14T23:00:00Z', end: '2026-01-15T23:00:00Z', importedWh, readings });

/** Hourly readings of one meter from 01:00Z on 2026-01-15 (or `fromHour`), one per register value. */
function hourly(installationId: string, externalId: string, meterId: string, registers: number[], fromHour = 1): ArchiveFixture[] {
  return registers.map((importedWh, index) => ({
    meterId,
    meterNumber: meterId.toUpperCase(),
    installationId,
    externalId,
    time: `2026-01-15T${String(fromHour + index).padStart(2, '0')}:00:00Z`,
    importedWh,
  }));
}

describe('customer consumption while IOmeter is unreachable (PostgreSQL)', () => {
  let testDb: TestDatabase;
  let stack: Stack;

  const myConsumption = (externalId: string, range: typeof JAN_15, requestId?: string) =>
    postGraphQL(stack.gateway.url, MY_CONSUMPTION, range, { 'x-api-key': keyOf(externalId), ...(requestId ? { 'x-request-id': requestId } : {}) });

  async function expectMyConsumption(externalId: string, range: typeof JAN_15, expected: unknown) {
    const { body, headers } = await myConsumption(externalId, range);
    expect(body.errors).toBeUndefined();
    expect(body.data.me.consumption).toEqual(expected);
    return headers.get('x-cache');
  }

  const fallbackLines = (requestId: string) =>
    stack.logs.filter((line) => line.includes('taken from the reading archive') && line.includes(`"requestId":"${requestId}"`));

  beforeAll(async () => {
    testDb = await postgresBackend.open();
    stack = await startStack({ database: testDb.db, env: AUTH_ENV, simulator: { installations: 3 }, upstream: { timeoutMs: 1_000 } });
    const store = new CustomerStore(testDb.db);
    for (const externalId of CUSTOMERS) await store.upsertCustomer({ externalId, name: `Customer ${externalId}` });

    const { body } = await postGraphQL(stack.gateway.url, '{ provider { a: installation(externalId: "C-1001") { id } b: installation(externalId: "C-1002") { id } } }', undefined, STAFF);
    const { a, b } = body.data.provider;
    await archiveReadings(testDb.db, [
      // C-1001, at its IOmeter installation: +100 +200 = 300 Wh in 3 readings.
      ...hourly(a.id, 'C-1001', 'meter-a', [1000, 1100, 1300]),
      // C-1002 at its IOmeter installation: +500 Wh in 2 readings ...
      ...hourly(b.id, 'C-1002', 'meter-b', [5000, 5500]),
      // ... and, later that day, at an installation its customer number has since left: +30 Wh in 3 readings.
      ...hourly('retired-installation', 'C-1002', 'meter-retired', [10, 20, 40], 10),
    ]);
    // C-1003 has an installation at IOmeter but nothing in the archive.
  });
  afterAll(async () => {
    await stack?.close();
    await testDb?.cleanup();
  });

  it('with IOmeter up, IOmeter\'s installation wins over the archive\'s newest one', async () => {
    await expectMyConsumption('C-1001', JAN_15, [bucket(300, 3)]);
    await expectMyConsumption('C-1002', JAN_15, [bucket(500, 2)]);
    await expectMyConsumption('C-1003', JAN_15, [bucket(0, 0)]);
    expect(stack.logs.some((line) => line.includes('taken from the reading archive'))).toBe(false);
  });

  it('when IOmeter times out, the archive\'s installation stands in, and that answer is not cached', async () => {
    let release = () => {};
    stack.simulator.faults.hold = new Promise<void>((resolve) => (release = resolve));
    try {
      const { body, headers } = await myConsumption('C-1002', JAN_15_UTC, 'timeout-1');
      expect(body.errors).toBeUndefined();
      // The newest archived reading under C-1002 is the retired installation's.
      expect(body.data.me.consumption).toEqual([bucket(30, 3)]);
      expect(headers.get('x-cache')).toBe('MISS');
      expect(fallbackLines('timeout-1').map((line) => JSON.parse(line))).toEqual([
        expect.objectContaining({ level: 40, code: 'UPSTREAM_TIMEOUT' }),
      ]);
    } finally {
      release();
      stack.simulator.faults.hold = undefined;
    }
  });

  it('when IOmeter answers 503, a customer still gets their buckets; one known to neither gets null', async () => {
    stack.simulator.faults.status = 503;
    try {
      const before = stack.simulator.stats.httpRequests;
      // Asked twice: a cached answer would show as a HIT, and the second request would not reach IOmeter.
      const answers = [await expectMyConsumption('C-1001', JAN_15_UTC, [bucket(300, 3)]), await expectMyConsumption('C-1001', JAN_15_UTC, [bucket(300, 3)])];
      expect(answers).toEqual(['MISS', 'MISS']);
      expect(stack.simulator.stats.httpRequests - before).toBe(2);
      const unknown = await myConsumption('C-1003', JAN_15_UTC);
      expect(unknown.body.errors).toBeUndefined();
      expect(unknown.body.data.me).toEqual({ consumption: null });
    } finally {
      stack.simulator.faults.status = undefined;
    }
  });

  it('with the circuit open, staff listing customers get every one from the archive, logged once for the request', async () => {
    const before = stack.simulator.stats.httpRequests;
    const { body } = await postGraphQL(
      stack.gateway.url,
      `query ($from: DateTime!, $to: DateTime!) { customers(first: 10) { edges { node { externalId
         consumption(from: $from, to: $to, resolution: DAY) { importedWh readings } } } } }`,
      JAN_15_UTC,
      { ...STAFF, 'x-request-id': 'open-circuit-1' },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.customers.edges.map((edge: any) => [edge.node.externalId, edge.node.consumption])).toEqual([
      ['C-1001', [{ importedWh: 300, readings: 3 }]],
      ['C-1002', [{ importedWh: 30, readings: 3 }]],
      ['C-1003', null],
    ]);
    // Failing fast: nothing reached IOmeter.
    expect(stack.simulator.stats.httpRequests).toBe(before);
    expect(fallbackLines('open-circuit-1').map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 40, code: 'UPSTREAM_UNAVAILABLE' }),
    ]);
    expect(stack.logs.some((line) => line.includes(stack.simulator.secret))).toBe(false);
  });
});
