import { makeExecutableSchema } from '@graphql-tools/schema';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, subscribe, type ExecutionResult } from 'graphql';
import { iometerScalars } from '../src/iometer/scalars';
import type { MeterReadingPayload, ReadingHub, ReadingPayload } from '../src/subscriptions';
import { data, waitFor } from './helpers/simulator';
import { closedAfterEach, Collector, hubFor, simulatorForFile } from './helpers/subscriptions';

const sim = simulatorForFile({ seed: 7, installations: 6, readingIntervalMs: 100, historyMs: 30_000 });
const hubs = closedAfterEach<ReadingHub>();

describe('one upstream subscription per process', () => {
  it('serves 50 clients from one upstream subscription, kept through the grace period for a client coming back', async () => {
    // A grace period far longer than the test: that it is still open below is not a matter of timing.
    const hub = hubFor(sim(), { graceMs: 60_000 }, hubs);
    const clients = Array.from(
      { length: 50 },
      (_, index) => new Collector(hub.subscribe(index % 2 === 0 ? {} : { externalId: `C-${1001 + (index % 6)}` })),
    );
    await Promise.all(clients.map((client) => client.until((items) => items.length >= 2)));

    expect(sim().stats.activeSubscriptions).toBe(1);
    expect(sim().stats.connectionInitPayloads).toEqual([{ authorization: expect.stringMatching(/^Basic /) }]);
    expect(hub.stats).toMatchObject({ clients: 50, upstreamSubscriptions: 1 });

    await Promise.all(clients.map((client) => client.stop()));
    expect(hub.stats.clients).toBe(0);
    expect(sim().stats.activeSubscriptions).toBe(1);
    const returning = new Collector(hub.subscribe());
    await returning.until((items) => items.length >= 1);
    await returning.stop();
    expect(sim().stats.connectionInitPayloads).toHaveLength(1);
  });

  it('closes the upstream subscription once the grace period after the last client has passed, not before', async () => {
    const hub = hubFor(sim(), { graceMs: 400 }, hubs);
    const client = new Collector(hub.subscribe());
    await client.until((items) => items.length >= 1);
    await client.stop();
    const leftAt = Date.now();
    await waitFor(() => sim().stats.activeSubscriptions === 0, 15_000, 'the upstream subscription to close');
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(350);
    expect(hub.stats.upstreamSubscriptions).toBe(0);
  });

  it('delivers the same shared payload object to every client, once per reading', async () => {
    const hub = hubFor(sim(), {}, hubs);
    const a = new Collector(hub.subscribe());
    const b = new Collector(hub.subscribe());
    await b.until((items) => items.length >= 20);
    await Promise.all([a.stop(), b.stop()]);
    const common = Math.min(a.items.length, b.items.length);
    expect(common).toBeGreaterThanOrEqual(20);
    for (let index = 0; index < common; index++) expect(a.items[index]).toBe(b.items[index]);
    expect(hub.stats.delivered).toBe(a.items.length + b.items.length);
  });
});

describe('filters', () => {
  it('gives a customer only its installation and staff every installation', async () => {
    const hub = hubFor(sim(), {}, hubs);
    const staff = new Collector(hub.subscribe());
    const customer = new Collector(hub.subscribe({ externalId: 'C-1001' }));
    await customer.until((items) => items.length >= 10);
    await Promise.all([staff.stop(), customer.stop()]);

    expect(new Set(customer.items.map((reading) => reading.installation.externalId))).toEqual(new Set(['C-1001']));
    expect(new Set(staff.items.map((reading) => reading.installation.externalId)).size).toBe(6);
    // Both joined before the first reading, so up to the customer's last reading they saw the same C-1001 readings.
    const last = customer.items.at(-1)!;
    const staffView = staff.items.filter((reading) => reading.installation.externalId === 'C-1001');
    expect(staffView.slice(0, staffView.indexOf(last) + 1)).toEqual(customer.items);
  });

  it('filters scheduled readings by OBIS code given in hex, and obisCode(format) answers from the payload', async () => {
    const hub = hubFor(sim(), {}, hubs);
    const power = new Collector(hub.scheduled({ obisCodes: ['01-00:10.07.00*ff'] }));
    const twoCodes = new Collector(hub.scheduled({ externalId: 'C-1002', obisCodes: ['1-0:1.8.0', '01-00:02.08.00*FF'] }));
    const all = new Collector(hub.scheduled({ obisCodes: [] }));
    await Promise.all([power, twoCodes, all].map((client) => client.until((items) => items.length >= 10)));
    await Promise.all([power, twoCodes, all].map((client) => client.stop()));

    for (const reading of power.items) {
      expect(reading).toMatchObject({ meter: { id: expect.any(String), number: expect.any(String) }, unit: 'W' });
      expect(reading.obisCode({})).toBe('1-0:16.7.0');
      expect(reading.obisCode({ format: 'hex' })).toBe('01-00:10.07.00*ff');
      expect(typeof reading.value).toBe('number');
      expect(Number.isNaN(Date.parse(reading.time))).toBe(false);
    }
    // Export (2.8.0) exists only for installations with PV.
    const twoCodesSeen = new Set(twoCodes.items.map((reading) => reading.obisCode({ format: 'dec' })));
    expect(twoCodesSeen).toContain('1-0:1.8.0');
    expect([...twoCodesSeen].every((code) => ['1-0:1.8.0', '1-0:2.8.0'].includes(code))).toBe(true);
    const { provider } = await data(sim(), '{ provider { installation(externalId: "C-1002") { meters { id } } } }');
    const meterIds = provider.installation.meters.map((meter: { id: string }) => meter.id);
    for (const reading of twoCodes.items) expect(meterIds).toContain(reading.meter.id);
    const allSeen = new Set(all.items.map((reading) => reading.obisCode({})));
    expect(allSeen).toContain('1-0:1.8.0');
    expect(allSeen).toContain('1-0:16.7.0');
  });

  it('rejects an OBIS filter that is not an OBIS code', () => {
    const hub = hubFor(sim(), {}, hubs);
    expect(() => hub.scheduled({ obisCodes: ['1.8.0'] })).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }));
    expect(hub.stats.clients).toBe(0);
  });
});

describe('payloads through graphql-js', () => {
  // The contract's own SDL, with the hub as the subscription source and no field resolvers at all.
  const schemaWith = (hub: ReadingHub) =>
    makeExecutableSchema({
      typeDefs: readFileSync(join(__dirname, '..', 'src', 'iometer', 'iometer.graphql'), 'utf8'),
      resolvers: {
        ...iometerScalars,
        Subscription: {
          readings: { subscribe: () => hub.subscribe(), resolve: (reading: MeterReadingPayload) => reading },
          scheduledReadings: {
            subscribe: (_: unknown, args: { obisCodes?: string[] }) => hub.scheduled(args),
            resolve: (reading: ReadingPayload) => reading,
          },
        },
      },
    });

  async function first(hub: ReadingHub, query: string): Promise<ExecutionResult> {
    const stream = (await subscribe({ schema: schemaWith(hub), document: parse(query) })) as AsyncIterableIterator<ExecutionResult>;
    const { value } = await stream.next();
    await stream.return?.();
    return value;
  }

  it('resolves obisCode(format: hex) on MeterReading values and on scheduled Readings', async () => {
    const hub = hubFor(sim(), {}, hubs);
    const readings = await first(
      hub,
      'subscription { readings { meter { id number } installation { externalId } time receiveTime values { dec: obisCode hex: obisCode(format: hex) value unit } } }',
    );
    expect(readings.errors).toBeUndefined();
    const values = (readings.data as any).readings.values as Array<{ dec: string; hex: string }>;
    expect(values).toContainEqual(expect.objectContaining({ dec: '1-0:1.8.0', hex: '01-00:01.08.00*ff' }));

    const scheduled = await first(
      hub,
      'subscription { scheduledReadings(obisCodes: ["01-00:01.08.00*ff"]) { time obisCode(format: hex) value unit } }',
    );
    expect(scheduled.errors).toBeUndefined();
    expect((scheduled.data as any).scheduledReadings).toMatchObject({ obisCode: '01-00:01.08.00*ff', unit: 'Wh' });
  });
});

describe('close()', () => {
  it('completes every client iterator and closes the upstream subscription', async () => {
    const hub = hubFor(sim(), { graceMs: 60_000 }, hubs);
    const clients = [new Collector(hub.subscribe()), new Collector(hub.subscribe({ externalId: 'C-1003' })), new Collector(hub.scheduled())];
    await Promise.all(clients.map((client) => client.until((items) => items.length >= 1)));
    expect(sim().stats.activeSubscriptions).toBe(1);

    await hub.close();
    await Promise.all(clients.map((client) => client.ended()));
    for (const client of clients) expect(client).toMatchObject({ done: true, error: undefined });
    expect(hub.stats).toMatchObject({ clients: 0, upstreamSubscriptions: 0 });
    await waitFor(() => sim().stats.activeSubscriptions === 0, 2_000);
    expect(() => hub.subscribe()).toThrow(expect.objectContaining({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } }));
  });
});
