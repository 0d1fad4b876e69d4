import { CustomerStore } from '../src/customers/store';
import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { resetStats } from '../src/simulator/stats';
import { METER_READING_FIELDS } from '../src/subscriptions/payload';
import { postGraphQL, subscribeSse, subscribeWs, UNTIL_CLOSED } from './helpers/clients';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

const READINGS = `subscription { readings { ${METER_READING_FIELDS} } }`;

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
    const holder = subscribeWs(stack.gateway.wsUrl, 'subscription { readings { time } }', UNTIL_CLOSED);
    await waitFor(() => holder.results.length > 0, 10_000, 'a first reading for the holder');
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
    expect(results).toHaveLength(30);
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

  it('resolves the stitched customer of live readings from a shared cache that expires, so a renamed customer shows', async () => {
    const upsert = `mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { name } }`;
    const rename = (name: string) => postGraphQL(stack.gateway.url, upsert, { input: { externalId: 'C-1001', name } });
    expect((await rename('Ada Before')).body.data.upsertCustomer.name).toBe('Ada Before');
    const live = subscribeWs(stack.gateway.wsUrl, 'subscription { readings { installation { externalId customer { name } } } }', UNTIL_CLOSED);
    live.done.catch(() => undefined);
    const namesOfC1001 = () =>
      live.results
        .map((result) => result.data?.readings.installation)
        .filter((installation) => installation?.externalId === 'C-1001')
        .map((installation) => installation.customer?.name);
    try {
      await waitFor(() => namesOfC1001().includes('Ada Before'), 10_000, 'a reading of C-1001 with the name before');
      expect(namesOfC1001()).toContain('Ada Before');
      await rename('Ada After');
      await waitFor(() => namesOfC1001().includes('Ada After'), 10_000, 'a reading of C-1001 with the renamed customer');
      expect(namesOfC1001().at(-1)).toBe('Ada After');
    } finally {
      live.close();
    }
  });

  it('serves many clients, staff and customers, from one upstream subscription', async () => {
    await waitFor(() => stack.simulator.stats.activeSubscriptions === 0, 10_000, 'the upstream subscription to close');
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
    await waitFor(() => stack.logs.some((line) => line.includes('"operationName":"LogMe"')), 10_000, 'the LogMe operation line');
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
    await waitFor(() => stack.simulator.stats.activeSubscriptions === 0, 10_000, 'the upstream subscription to close');
    expect(stack.simulator.stats.activeSubscriptions).toBe(0);
  });
});

describe('stitched fields of live readings', () => {
  let lookupStack: Stack;
  beforeAll(async () => {
    lookupStack = await startStack({ env: { SUBSCRIPTION_LOOKUP_TTL: '1h' } });
  });
  afterAll(() => lookupStack.close());

  it('serves scheduledReadings from the same upstream subscription, with each installation looked up once, not once per client or reading', async () => {
    const installations = await postGraphQL(lookupStack.gateway.url, '{ provider { installations { externalId } } }');
    const externalIds = installations.body.data.provider.installations.map((each: { externalId: string }) => each.externalId);
    await seedSandboxCustomers(new CustomerStore(lookupStack.database), { onboardedExternalIds: externalIds });
    resetStats(lookupStack.simulator.stats);
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
      ...Array.from({ length: 4 }, () => subscribeWs(lookupStack.gateway.wsUrl, query, 6)),
      subscribeSse(lookupStack.gateway.url, query, 6),
      subscribeWs(lookupStack.gateway.wsUrl, READINGS, 6),
    ];
    const [first, ...others] = await Promise.all(clients.map((client) => client.done));
    expect(lookupStack.simulator.stats.activeSubscriptions).toBe(1);
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
    // The design: an installation is looked up once while its entry lives (here the whole test), in one
    // request for all the fields the clients select, whatever the number of clients and readings.
    const lookups = lookupStack.simulator.stats.queries;
    expect(lookups).toHaveLength(lookupStack.simulator.stats.graphqlRequests); // none fell out of the kept window
    // Each query names its installation once per selected field; across queries, no installation twice.
    const lookedUp = lookups.flatMap((query) => [...new Set([...query.matchAll(/installation\(id:"([^"]+)"\)/g)].map((match) => match[1]!))]);
    expect(lookedUp.length).toBeGreaterThan(0);
    expect(lookedUp).toHaveLength(new Set(lookedUp).size);
  });
});
