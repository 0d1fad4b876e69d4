import { CustomerStore } from '../src/customers/store';
import { apiKeyEnv } from './helpers/apiKeys';
import { postGraphQL } from './helpers/clients';
import { backends, type TestDatabase } from './helpers/database';
import { archiveReadings, type ArchiveFixture } from './helpers/readingArchive';
import { startStack, type Stack } from './helpers/stack';

/*
 * Customer.forecast (issue 19 §3) on a fixture: C-1001's meter reads every hour at :30 for the last
 * 30 days, 500 Wh in the local hour from 18:00, 100 Wh in every other hour. So the weekday-hour
 * profile is 500 Wh at 18:00 and 100 Wh otherwise, and a month projects to exactly what its hours
 * would hold (the month's hourly average would give another figure). Tariff: 30 ct/kWh.
 */

const AUTH_ENV = apiKeyEnv({ staff: 'staff-key', customers: { 'C-1001': 'c1001-key' } });
const STAFF = { 'x-api-key': 'staff-key' };
const HOUR_MS = 3_600_000;
const FORECAST = `query ($month: String!) { customer(externalId: "C-1001") { forecast(month: $month) {
  month start end importedWhSoFar projectedImportedWh costSoFar projectedCost } } }`;

/** YYYY-MM of an instant in Europe/Berlin (CONSUMPTION_TIME_ZONE's default). */
const berlinHour = (time: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hourCycle: 'h23' }).format(time);
/** The energy the fixture puts in the hour starting at `time`. */
const hourWh = (time: number) => (berlinHour(time) === '18' ? 500 : 100);

const berlinMonth = (time: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit' }).format(time).slice(0, 7);

describe.each(backends)('Customer.forecast (%s)', (_name, backend) => {
  let testDb: TestDatabase;
  let stack: Stack;
  let fixtures: ArchiveFixture[];
  let dailyFixtures: ArchiveFixture[];

  const forecast = async (month: string) => {
    const { body } = await postGraphQL(stack.gateway.url, FORECAST, { month }, STAFF);
    return body;
  };

  beforeAll(async () => {
    testDb = await backend.open();
    const store = new CustomerStore(testDb.db);
    await store.upsertCustomer({ externalId: 'C-1001', name: 'Fiona Forecast' });
    const { after: tariff } = await store.upsertTariff({ name: 'Forecast 30', energyPriceCtPerKwh: 30, basePriceEurPerMonth: 10 });
    await store.upsertContract({ customerExternalId: 'C-1001', tariffId: tariff.id, startDate: '2020-01-01' });
    await store.upsertCustomer({ externalId: 'C-1002', name: 'Fritz Fallback' });
    stack = await startStack({ database: testDb.db, env: AUTH_ENV, simulator: { installations: 2, readingIntervalMs: 5_000 } });

    const { body } = await postGraphQL(stack.gateway.url, '{ provider { a: installation(externalId: "C-1001") { id } b: installation(externalId: "C-1002") { id } } }', {}, STAFF);
    const meter = { meterId: 'meter-f', meterNumber: '1ISK0000000042', installationId: body.data.provider.a.id, externalId: 'C-1001' };
    const lastHalfPast = Math.floor((Date.now() - HOUR_MS / 2) / HOUR_MS) * HOUR_MS + HOUR_MS / 2;
    let importedWh = 10_000;
    fixtures = Array.from({ length: 30 * 24 }, (_, n) => {
      const time = lastHalfPast - (30 * 24 - 1 - n) * HOUR_MS;
      importedWh += n === 0 ? 0 : hourWh(time - HOUR_MS / 2);
      return { ...meter, time: new Date(time).toISOString(), importedWh };
    });
    // C-1002 reads once a day, at 18:30 local: 2,400 Wh each, all in the hour from 18:00.
    const daily = { meterId: 'meter-g', meterNumber: '1ISK0000000043', installationId: body.data.provider.b.id, externalId: 'C-1002' };
    dailyFixtures = fixtures
      .filter((reading) => berlinHour(Date.parse(reading.time)) === '18')
      .map((reading, n) => ({ ...daily, time: reading.time, importedWh: 50_000 + n * 2_400 }));
    await archiveReadings(testDb.db, [...fixtures, ...dailyFixtures]);
  });
  afterAll(async () => {
    await stack.close();
    await testDb.cleanup();
  });

  it('projects the current month from the weekday-hour profile and prices it by the contract, in exact cents', async () => {
    const month = berlinMonth(new Date());
    const hourBefore = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const body = await forecast(month);
    const hourAfter = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    expect(body.errors).toBeUndefined();
    const result = body.data.customer.forecast;
    expect(result.month).toBe(month);
    const start = Date.parse(result.start);
    const whUntil = (end: number) => {
      let wh = 0;
      for (let hour = start; hour < end; hour += HOUR_MS) wh += hourWh(hour);
      return wh;
    };
    // Every hour of the month, elapsed or projected, holds what the fixture gives it; 100 Wh × 30 ct/kWh = 3 ct.
    const monthWh = whUntil(Date.parse(result.end));
    expect(result.projectedImportedWh).toBe(monthWh);
    expect(result.projectedCost).toBe(Math.round((monthWh / 100) * 3) / 100);
    expect([hourBefore, hourAfter].map(whUntil)).toContain(result.importedWhSoFar);
    expect(result.costSoFar).toBe(Math.round((result.importedWhSoFar / 100) * 3) / 100);
  });

  it('an hour the last 4 weeks have no readings for gets the month\'s hourly mean so far', async () => {
    const month = berlinMonth(new Date());
    const hourBefore = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const { body } = await postGraphQL(stack.gateway.url, FORECAST.replace('C-1001', 'C-1002'), { month }, STAFF);
    const hourAfter = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    expect(body.errors).toBeUndefined();
    const result = body.data.customer.forecast;
    const [start, end] = [Date.parse(result.start), Date.parse(result.end)];
    /** The figures for a request answered in the hour starting at currentHour. */
    const expected = (currentHour: number) => {
      // So far: the daily readings (after the first, which has nothing before it) in [start, current hour).
      const soFar = dailyFixtures.slice(1).filter((reading) => Date.parse(reading.time) >= start && Date.parse(reading.time) < currentHour).length * 2_400;
      const mean = Math.round((soFar / ((currentHour - start) / HOUR_MS)) * 1000) / 1000;
      let projected = soFar;
      for (let hour = currentHour; hour < end; hour += HOUR_MS) projected += berlinHour(hour) === '18' ? 2_400 : mean;
      return { importedWhSoFar: soFar, projectedImportedWh: Math.round(projected * 1000) / 1000 };
    };
    const answered = { importedWhSoFar: result.importedWhSoFar, projectedImportedWh: Math.round(result.projectedImportedWh * 1000) / 1000 };
    expect([expected(hourBefore), expected(hourAfter)]).toContainEqual(answered);
  });

  it('a month that is over projects exactly what it had', async () => {
    const month = berlinMonth(new Date(Date.now() - 32 * 24 * HOUR_MS));
    const body = await forecast(month);
    expect(body.errors).toBeUndefined();
    const result = body.data.customer.forecast;
    const [start, end] = [Date.parse(result.start), Date.parse(result.end)];
    // Readings in the month after the first fixture (which has nothing before it) carry their hour's energy.
    const wh = fixtures
      .slice(1)
      .map((reading) => Date.parse(reading.time))
      .filter((time) => time >= start && time < end)
      .reduce((sum, time) => sum + hourWh(time - HOUR_MS / 2), 0);
    expect(result).toMatchObject({ importedWhSoFar: wh, projectedImportedWh: wh });
    expect(result.projectedCost).toBe(result.costSoFar);
    expect(result.costSoFar).toBe(Math.round((wh / 100) * 3) / 100);
  });

  it('is cached like consumption, and refuses a malformed month with BAD_USER_INPUT', async () => {
    const past = berlinMonth(new Date(Date.now() - 32 * 24 * HOUR_MS));
    const cached = await postGraphQL(stack.gateway.url, FORECAST, { month: past }, STAFF);
    expect(cached.headers.get('x-cache')).toBe('HIT');
    const bad = await forecast('2026-13');
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'month' });
  });

  it('customers see their own forecast through me', async () => {
    const month = berlinMonth(new Date());
    const { body } = await postGraphQL(stack.gateway.url, `query ($month: String!) { me { forecast(month: $month) { projectedImportedWh } } }`, { month }, { 'x-api-key': 'c1001-key' });
    expect(body.errors).toBeUndefined();
    expect(body.data.me.forecast.projectedImportedWh).toBeGreaterThan(0);
  });
});
