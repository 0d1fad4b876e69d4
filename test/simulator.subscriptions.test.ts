import type { Client } from 'graphql-ws';
import { startSimulator, type RunningSimulator } from '../src/simulator';
import {
  READINGS_SUBSCRIPTION_EXAMPLE,
  SCHEDULED_READINGS_EXAMPLE,
  authorizedWsClient,
  basicAuth,
  collect,
  data,
  readingKey,
  simulatorAuth,
  waitFor,
  wsClient,
} from './helpers/simulator';

const INTERVAL_MS = 100;
let sim: RunningSimulator;
const clients: Client[] = [];
const track = (client: Client) => {
  clients.push(client);
  return client;
};

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, installations: 5, readingIntervalMs: INTERVAL_MS, historyMs: 30_000 });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await sim.close();
});

const PROVIDER_ID = { query: '{ provider { id } }' };
const untilFirst = (results: unknown[]) => results.length >= 1;

describe('WebSocket authentication', () => {
  it.each([
    ['no credentials', {}],
    ['a wrong secret in the payload', { connectionParams: { authorization: basicAuth('sandbox-token', 'nope') } }],
    ['a wrong upgrade header', { upgradeHeaders: { authorization: basicAuth('sandbox-token', 'nope') } }],
    ['a non-string payload value', { connectionParams: { authorization: 42 } }],
  ])('closes with 4403 for %s', async (_, options) => {
    await expect(collect(track(wsClient(sim, options)), PROVIDER_ID, untilFirst)).rejects.toMatchObject({
      code: 4403,
    });
  });

  it.each([
    ['authorization in the connection_init payload', (auth: string) => ({ connectionParams: { authorization: auth } })],
    ['Authorization in the connection_init payload', (auth: string) => ({ connectionParams: { Authorization: auth } })],
    ['the upgrade request header', (auth: string) => ({ upgradeHeaders: { authorization: auth } })],
  ])('accepts %s', async (_, options) => {
    const [result] = await collect(track(wsClient(sim, options(simulatorAuth(sim)))), PROVIDER_ID, untilFirst);
    expect(result).toEqual({ data: { provider: { id: sim.provider.id } } });
  });

  it('records every connection_init payload', async () => {
    sim.resetStats();
    const payload = { authorization: simulatorAuth(sim), client: 'test' };
    await collect(track(wsClient(sim, { connectionParams: payload })), PROVIDER_ID, untilFirst);
    expect(sim.stats.connectionInitPayloads).toEqual([payload]);
  });
});

describe('subscription readings', () => {
  type Reading = {
    meter: { id: string; number: string };
    installation: { id: string; externalId: string };
    time: string;
    receiveTime: string;
    values: Array<{ obisCode: string; value: number; unit: string }>;
  };

  it('replays from startTime and continues live with no gap and no duplicate at the seam', async () => {
    const startTime = new Date(Date.now() - 3_000).toISOString();
    const subscribedAt = Date.now();
    const results = await collect<{ readings: Reading }>(
      track(authorizedWsClient(sim)),
      { query: READINGS_SUBSCRIPTION_EXAMPLE, variables: { startTime } },
      (all) => Date.parse(all.at(-1)!.data!.readings.receiveTime) > subscribedAt + 2_000,
    );
    const readings = results.map((result) => result.data!.readings);
    const receiveTimes = readings.map((reading) => Date.parse(reading.receiveTime));
    const lastReceived = receiveTimes.at(-1)!;

    expect(receiveTimes[0]).toBeGreaterThanOrEqual(Date.parse(startTime));
    expect(receiveTimes).toEqual([...receiveTimes].sort((a, b) => a - b));
    expect(receiveTimes.some((time) => time < subscribedAt)).toBe(true);
    expect(receiveTimes.some((time) => time > subscribedAt + 500)).toBe(true);

    const keys = readings.map(readingKey);
    expect(new Set(keys).size).toBe(keys.length);

    // Each meter reports every interval; every reading taken inside the window must have arrived.
    const windowStart = Date.parse(startTime);
    const windowEnd = lastReceived - 900;
    const byMeter = new Map<string, number[]>();
    for (const reading of readings) {
      const time = Date.parse(reading.time);
      if (time >= windowStart && time <= windowEnd) {
        byMeter.set(reading.meter.id, [...(byMeter.get(reading.meter.id) ?? []), time]);
      }
    }
    expect(byMeter.size).toBe(5);
    for (const times of byMeter.values()) {
      times.sort((a, b) => a - b);
      const steps = new Set(times.slice(1).map((time, index) => time - times[index]));
      expect(steps).toEqual(new Set([INTERVAL_MS]));
      expect(times.length).toBeGreaterThanOrEqual(Math.floor((windowEnd - windowStart) / INTERVAL_MS) - 1);
    }

    // The stream agrees with the paginated query over the same receive-time range.
    const queried: Reading[] = [];
    let cursor: string | null = null;
    do {
      const page: { readings: Reading[]; cursor: string | null } = (
        await data(
          sim,
          `query($s: DateTime, $c: String) { provider { readings(startTime: $s, cursor: $c) {
            cursor readings { meter { id number } installation { id externalId } time receiveTime values { obisCode value unit } }
          } } }`,
          { s: startTime, c: cursor },
        )
      ).provider.readings;
      queried.push(...page.readings);
      cursor = page.cursor;
    } while (cursor);
    const settled = (reading: Reading) => Date.parse(reading.receiveTime) < lastReceived;
    expect(readings.filter(settled)).toEqual(queried.filter(settled));
  });

  it('streams live only without startTime', async () => {
    const subscribedAt = Date.now();
    const results = await collect<{ readings: Reading }>(
      track(authorizedWsClient(sim)),
      { query: READINGS_SUBSCRIPTION_EXAMPLE },
      (all) => all.length >= 10,
    );
    // No replay: nothing from the 30 s of history, only readings received around subscription time or later.
    for (const result of results) {
      expect(Date.parse(result.data!.readings.receiveTime)).toBeGreaterThan(subscribedAt - 1_000);
    }
  });

  it('rejects a startTime more than 24h back with BAD_USER_INPUT', async () => {
    const startTime = new Date(Date.now() - 25 * 3_600_000).toISOString();
    const [result] = await collect(
      track(authorizedWsClient(sim)),
      { query: READINGS_SUBSCRIPTION_EXAMPLE, variables: { startTime } },
      untilFirst,
    );
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toContain('24h');
  });

  it('counts open subscriptions and releases them on completion', async () => {
    await waitFor(() => sim.stats.activeSubscriptions === 0);
    const client = track(authorizedWsClient(sim));
    let seen = 0;
    const unsubscribe = client.subscribe({ query: READINGS_SUBSCRIPTION_EXAMPLE }, {
      next: () => (seen += 1),
      error: () => undefined,
      complete: () => undefined,
    });
    await waitFor(() => seen > 0);
    expect(sim.stats.activeSubscriptions).toBe(1);
    unsubscribe();
    await waitFor(() => sim.stats.activeSubscriptions === 0);
  });

  it('dropConnections terminates open sockets and their subscriptions', async () => {
    const client = track(authorizedWsClient(sim));
    const outcome = collect(client, { query: READINGS_SUBSCRIPTION_EXAMPLE }, () => false, 10_000);
    await waitFor(() => sim.stats.activeSubscriptions === 1);
    sim.dropConnections();
    await expect(outcome).rejects.toMatchObject({ code: 1006 });
    await waitFor(() => sim.stats.activeSubscriptions === 0);
  });
});

describe('subscription scheduledReadings (deprecated)', () => {
  type ScheduledReading = {
    meter: { id: string; number: string; installation: { id: string; externalId: string }; latestReadings: unknown[] };
    time: string;
    obisCode: string;
    value: number;
    unit: string;
  };
  const scheduled = (obisCodes: string[] | null, count = 15) =>
    collect<{ scheduledReadings: ScheduledReading }>(
      track(authorizedWsClient(sim)),
      { query: SCHEDULED_READINGS_EXAMPLE, variables: { obisCodes } },
      (all) => all.length >= count,
    ).then((results) => results.map((result) => result.data!.scheduledReadings));

  it('filters by OBIS code given in hex', async () => {
    const readings = await scheduled(['01-00:10.07.00*ff']);
    for (const reading of readings) expect(reading).toMatchObject({ obisCode: '1-0:16.7.0', unit: 'W' });
  });

  it('filters by several decimal OBIS codes and carries the full meter', async () => {
    const readings = await scheduled(['1-0:1.8.0', '1-0:2.8.0'], 30);
    expect(new Set(readings.map((reading) => reading.obisCode))).toEqual(new Set(['1-0:1.8.0', '1-0:2.8.0']));
    for (const reading of readings) {
      expect(reading.unit).toBe('Wh');
      expect(reading.meter.number).toMatch(/^1[A-Z]{3}\d{10}$/);
      expect(reading.meter.installation.externalId).toMatch(/^C-10\d\d$/);
      expect(reading.meter.latestReadings.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('sends every code without a filter, one payload per value', async () => {
    const readings = await scheduled(null, 40);
    const codes = new Set(readings.map((reading) => reading.obisCode));
    expect(codes.has('1-0:1.8.0') && codes.has('1-0:16.7.0')).toBe(true);
    // Each reading's values arrive as consecutive payloads with the same meter and time.
    const first = readings.findIndex((reading) => reading.obisCode === '1-0:1.8.0');
    const { meter, time } = readings[first];
    expect(readings[first + 1]).toMatchObject({ meter: { id: meter.id }, time });
  });

  it('converts Reading.obisCode to hex', async () => {
    const [result] = await collect<{ scheduledReadings: { dec: string; hex: string } }>(
      track(authorizedWsClient(sim)),
      {
        query: `subscription { scheduledReadings(obisCodes: ["1-0:1.8.0"]) { dec: obisCode hex: obisCode(format: hex) } }`,
      },
      untilFirst,
    );
    expect(result.data!.scheduledReadings).toEqual({ dec: '1-0:1.8.0', hex: '01-00:01.08.00*ff' });
  });

  it('rejects an invalid OBIS code', async () => {
    const [result] = await collect(
      track(authorizedWsClient(sim)),
      { query: SCHEDULED_READINGS_EXAMPLE, variables: { obisCodes: ['1.8.0'] } },
      untilFirst,
    );
    expect(result.errors?.[0].message).toContain('ObisCode cannot represent "1.8.0"');
  });
});

describe('duplicateRate', () => {
  let noisy: RunningSimulator;
  beforeAll(async () => {
    noisy = await startSimulator({ seed: 3, installations: 5, readingIntervalMs: INTERVAL_MS, historyMs: 5_000, duplicateRate: 0.3 });
  });
  afterAll(() => noisy.close());

  it('sends that share of live readings twice, while the query returns each once', async () => {
    const results = await collect<{ readings: { meter: { id: string }; time: string; receiveTime: string } }>(
      track(authorizedWsClient(noisy)),
      { query: 'subscription { readings { meter { id } time receiveTime } }' },
      (all) => all.length >= 200,
    );
    const keys = results.map((result) => readingKey(result.data!.readings));
    const duplicates = keys.length - new Set(keys).size;
    expect(duplicates).toBeGreaterThan(200 * 0.1);
    expect(duplicates).toBeLessThan(200 * 0.4);

    const page = (await data(noisy, '{ provider { readings(limit: 100) { readings { meter { id } time } } } }')).provider
      .readings.readings;
    const queriedKeys = page.map(readingKey);
    expect(new Set(queriedKeys).size).toBe(queriedKeys.length);
  });
});

describe('readingSchedule aligned', () => {
  let aligned: RunningSimulator;
  beforeAll(async () => {
    aligned = await startSimulator({ seed: 3, installations: 5, readingIntervalMs: INTERVAL_MS, historyMs: 5_000, readingSchedule: 'aligned' });
  });
  afterAll(() => aligned.close());

  it('has every installation read at the same multiples of the interval, received 50 ms later', async () => {
    const results = await collect<{ readings: { installation: { id: string }; time: string; receiveTime: string } }>(
      track(authorizedWsClient(aligned)),
      { query: 'subscription { readings { installation { id } time receiveTime } }' },
      (all) => all.length >= 30,
    );
    const readings = results.map((result) => result.data!.readings);
    for (const reading of readings) {
      expect(Date.parse(reading.time) % INTERVAL_MS).toBe(0);
      expect(Date.parse(reading.receiveTime) - Date.parse(reading.time)).toBe(50);
    }
    const installationsByTime = new Map<string, Set<string>>();
    for (const reading of readings) installationsByTime.set(reading.time, (installationsByTime.get(reading.time) ?? new Set()).add(reading.installation.id));
    // Every tick but the first and last one seen is complete: all 5 installations at that time.
    const complete = [...installationsByTime.values()].filter((installations) => installations.size === 5);
    expect(complete.length).toBeGreaterThanOrEqual(4);
  });
});
