import { CustomerStore } from '../src/customers/store';
import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { METER_READING_FIELDS } from '../src/subscriptions/payload';
import { postGraphQL, subscribeSse, subscribeWs } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

const READINGS = `subscription { readings { ${METER_READING_FIELDS} } }`;

/** Waits (up to 5 s) for the upstream side to reach a state, e.g. a grace period to end. */
async function settled(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('subscriptions through the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SUBSCRIPTION_LOOKUP_TTL: '300ms' } });
  });
  afterAll(() => stack.close());

  it.each([
    ['WebSocket', (query: string, count: number) => subscribeWs(stack.gateway.wsUrl, query, count)],
    ['SSE', (query: string, count: number) => subscribeSse(stack.gateway.url, query, count)],
  ])('streams live readings over %s', async (_transport, subscribe) => {
    // A subscriber that opens the upstream feed first: the measured one joins a running feed.
    const holder = subscribeWs(stack.gateway.wsUrl, 'subscription { readings { time } }', 1_000_000);
    while (holder.results.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    const results = await subscribe(READINGS, 5).done.finally(() => holder.close());
    expect(results).toHaveLength(5);
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      const reading = result.data.readings;
      expect(reading.installation.externalId).toMatch(/^C-\d+$/);
      expect(Date.parse(reading.receiveTime)).toBeGreaterThanOrEqual(Date.parse(reading.time));
      expect(reading.values.map((value: { obisCode: string }) => value.obisCode)).toContain('1-0:1.8.0');
    }
    // Live, not only replayed history: the newest reading was received after the subscription opened.
    expect(Math.max(...results.map((result) => Date.parse(result.data.readings.receiveTime)))).toBeGreaterThan(started - 1_000);
  });

  it('replays from startTime before going live', async () => {
    const startTime = new Date(Date.now() - 60_000).toISOString();
    const results = await subscribeWs(
      stack.gateway.wsUrl,
      `subscription($startTime: DateTime) { readings(startTime: $startTime) { receiveTime } }`,
      30,
      { variables: { startTime } },
    ).done;
    const times = results.map((result) => Date.parse(result.data.readings.receiveTime));
    expect(times[0]).toBeLessThan(Date.now() - 30_000);
    expect(times.every((time) => time >= Date.parse(startTime))).toBe(true);
  });

  it('filters scheduledReadings by OBIS code, given in hex', async () => {
    const results = await subscribeSse(
      stack.gateway.url,
      `subscription { scheduledReadings(obisCodes: ["01-00:10.07.00*ff"]) { obisCode hex: obisCode(format: hex) value unit meter { number installation { externalId } } } }`,
      6,
    ).done;
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.data.scheduledReadings).toMatchObject({ obisCode: '1-0:16.7.0', hex: '01-00:10.07.00*ff', unit: 'W' });
    }
  });

  it('serves scheduledReadings from the same upstream subscription, with the meter fetched once per tick, not per reading', async () => {
    const installations = await postGraphQL(stack.gateway.url, '{ provider { installations { externalId } } }');
    const externalIds = installations.body.data.provider.installations.map((each: { externalId: string }) => each.externalId);
    await seedSandboxCustomers(new CustomerStore(stack.database), { onboardedExternalIds: externalIds });
    await settled(() => stack.simulator.stats.activeSubscriptions === 0);
    const requestsBefore = stack.simulator.stats.graphqlRequests;
    const query = `subscription {
      scheduledReadings(obisCodes: ["1-0:1.8.0"]) {
        value
        meter {
          number
          installation { id externalId owner: customer { name } }
          recent: latestReadings { code: obisCode(format: hex) unit }
        }
      }
    }`;
    const clients = [
      ...Array.from({ length: 4 }, () => subscribeWs(stack.gateway.wsUrl, query, 6)),
      subscribeSse(stack.gateway.url, query, 6),
      subscribeWs(stack.gateway.wsUrl, READINGS, 6),
    ];
    const [first, ...others] = await Promise.all(clients.map((client) => client.done));
    expect(stack.simulator.stats.activeSubscriptions).toBe(1);
    for (const results of [first!, ...others.slice(0, 4)]) {
      expect(results).toHaveLength(6);
      for (const result of results) {
        expect(result.errors).toBeUndefined();
        const { meter } = result.data.scheduledReadings;
        expect(meter.installation.externalId).toMatch(/^C-\d+$/);
        expect(meter.installation.owner.name).toEqual(expect.any(String));
        expect(meter.recent.length).toBeGreaterThan(0);
        expect(meter.recent[0].code).toMatch(/^01-00:/);
      }
    }
    // 5 clients x 6 readings would be 30 lookups per field if each event asked upstream on its own.
    expect(stack.simulator.stats.graphqlRequests - requestsBefore).toBeLessThan(30);
  });

  it('resolves the stitched customer of live readings from a shared cache that expires, so a renamed customer shows', async () => {
    const upsert = `mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { name } }`;
    const rename = (name: string) => postGraphQL(stack.gateway.url, upsert, { input: { externalId: 'C-1001', name } });
    expect((await rename('Ada Before')).body.data.upsertCustomer.name).toBe('Ada Before');
    const live = subscribeWs(stack.gateway.wsUrl, 'subscription { readings { installation { externalId customer { name } } } }', 1_000_000);
    live.done.catch(() => undefined);
    const namesOfC1001 = () =>
      live.results
        .map((result) => result.data?.readings.installation)
        .filter((installation) => installation?.externalId === 'C-1001')
        .map((installation) => installation.customer?.name);
    try {
      await settled(() => namesOfC1001().includes('Ada Before'));
      expect(namesOfC1001()).toContain('Ada Before');
      await rename('Ada After');
      await settled(() => namesOfC1001().includes('Ada After'));
      expect(namesOfC1001().at(-1)).toBe('Ada After');
    } finally {
      live.close();
    }
  });

  it('serves many clients, staff and customers, from one upstream subscription', async () => {
    await settled(() => stack.simulator.stats.activeSubscriptions === 0);
    const clients = [
      ...Array.from({ length: 10 }, () => subscribeWs(stack.gateway.wsUrl, READINGS, 3)),
      ...Array.from({ length: 5 }, () => subscribeSse(stack.gateway.url, READINGS, 3)),
    ];
    const all = await Promise.all(clients.map((client) => client.done));
    expect(all.every((results) => results.length === 3 && results.every((result) => !result.errors))).toBe(true);
    expect(stack.simulator.stats.activeSubscriptions).toBe(1);
  });

  it('logs one line per WebSocket operation when it ends, like the HTTP request line', async () => {
    await subscribeWs(stack.gateway.wsUrl, 'subscription LogMe { readings { time } }', 3).done;
    await settled(() => stack.logs.some((line) => line.includes('"operationName":"LogMe"')));
    const line = JSON.parse(stack.logs.find((each) => each.includes('"operationName":"LogMe"'))!);
    expect(line).toMatchObject({ msg: 'operation completed', transport: 'ws', operationName: 'LogMe', identity: expect.any(String) });
    // The connection's request id, then the operation id the client chose.
    expect(line.requestId).toMatch(/^[\w-]+\/[\w-]+$/);
    expect(line.results).toBeGreaterThanOrEqual(3);
    expect(line.durationMs).toEqual(expect.any(Number));
  });

  it('closes the upstream subscription when the client leaves', async () => {
    const subscription = subscribeWs(stack.gateway.wsUrl, READINGS, 1);
    await subscription.done;
    await settled(() => stack.simulator.stats.activeSubscriptions === 0);
    expect(stack.simulator.stats.activeSubscriptions).toBe(0);
  });
});
