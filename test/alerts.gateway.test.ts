import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { signAlert } from '../src/alerts/webhook';
import { CustomerStore } from '../src/customers/store';
import { apiKeyEnv } from './helpers/apiKeys';
import { postGraphQL, subscribeSse, subscribeWs, UNTIL_CLOSED, type Subscribed } from './helpers/clients';
import { postgresBackend, type TestDatabase } from './helpers/database';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

/*
 * Usage alerts (issue 19 §2) through the public surface: a customer's rules over HTTP, alerts over
 * WebSocket and SSE, on a simulator whose power the test drives over and under the threshold.
 */

const AUTH_ENV = { ...apiKeyEnv({ staff: 'staff-key', customers: { 'C-1001': 'c1001-key' } }), USAGE_ALERTS_ENABLED: 'true' };
const CUSTOMER = { 'x-api-key': 'c1001-key' };
const STAFF = { 'x-api-key': 'staff-key' };
const SET_RULES = `mutation ($input: UsageAlertRulesInput!) { setMyUsageAlerts(input: $input) { powerAboveW dailyEnergyAboveKwh noReadingForMinutes } }`;
const ALERTS = 'subscription { myUsageAlerts { kind state at value threshold } }';
const READINGS = 'subscription { myReadings { values { obisCode value } } }';

/** Resolves once the customer's live readings report this power: the evaluator has seen such a reading by then. */
async function readingWithPower(wsUrl: string, powerW: number): Promise<void> {
  const readings = subscribeWs(wsUrl, READINGS, UNTIL_CLOSED, { connectionParams: CUSTOMER });
  try {
    const reports = (result: any) => result.data?.myReadings.values.some((value: any) => value.obisCode === '1-0:16.7.0' && value.value === powerW);
    await waitFor(() => readings.results.some(reports), 10_000, `a live reading with ${powerW} W`);
  } finally {
    readings.close();
  }
}

const waitForCount = async <T>(subscription: Subscribed<T>, count: number) => {
  await waitFor(() => subscription.results.length >= count, 10_000, `${count} alerts`);
  return subscription.results.slice(0, count);
};

describe('usage alerts', () => {
  let testDb: TestDatabase;
  let stack: Stack;

  beforeAll(async () => {
    testDb = await postgresBackend.open();
    await new CustomerStore(testDb.db).upsertCustomer({ externalId: 'C-1001', name: 'Alma Alert' });
    stack = await startStack({ database: testDb.db, env: AUTH_ENV, simulator: { installations: 1, readingIntervalMs: 200 } });
  });
  afterAll(async () => {
    await stack.close();
    await testDb.cleanup();
  });

  it('a customer sets rules, reads them back through me, and removes one with null; bad values are BAD_USER_INPUT', async () => {
    const set = await postGraphQL(stack.gateway.url, SET_RULES, { input: { powerAboveW: 5000, noReadingForMinutes: 30 } }, CUSTOMER);
    expect(set.body.data.setMyUsageAlerts).toEqual({ powerAboveW: 5000, dailyEnergyAboveKwh: null, noReadingForMinutes: 30 });
    const read = await postGraphQL(stack.gateway.url, '{ me { usageAlerts { powerAboveW dailyEnergyAboveKwh noReadingForMinutes } } }', {}, CUSTOMER);
    expect(read.body.data.me.usageAlerts).toEqual({ powerAboveW: 5000, dailyEnergyAboveKwh: null, noReadingForMinutes: 30 });
    const cached = await postGraphQL(stack.gateway.url, '{ me { usageAlerts { powerAboveW dailyEnergyAboveKwh noReadingForMinutes } } }', {}, CUSTOMER);
    expect(cached.headers.get('x-cache')).toBe('HIT');
    const removed = await postGraphQL(stack.gateway.url, SET_RULES, { input: { powerAboveW: 5000, noReadingForMinutes: null } }, CUSTOMER);
    expect(removed.body.data.setMyUsageAlerts.noReadingForMinutes).toBeNull();
    const reread = await postGraphQL(stack.gateway.url, '{ me { usageAlerts { powerAboveW dailyEnergyAboveKwh noReadingForMinutes } } }', {}, CUSTOMER);
    expect(reread.body.data.me.usageAlerts).toEqual({ powerAboveW: 5000, dailyEnergyAboveKwh: null, noReadingForMinutes: null });

    for (const [input, field] of [[{ powerAboveW: -1 }, 'powerAboveW'], [{ noReadingForMinutes: 0 }, 'noReadingForMinutes']] as const) {
      const bad = await postGraphQL(stack.gateway.url, SET_RULES, { input }, CUSTOMER);
      expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const staff = await postGraphQL(stack.gateway.url, SET_RULES, { input: { powerAboveW: 1 } }, STAFF);
    expect(staff.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('fires once when power goes over the threshold and clears once it is below 95 % of it, over WebSocket and SSE', async () => {
    await postGraphQL(stack.gateway.url, SET_RULES, { input: { powerAboveW: 5000 } }, CUSTOMER);
    stack.simulator.setPowerW('C-1001', 6000);
    const ws = subscribeWs(stack.gateway.wsUrl, ALERTS, 3, { connectionParams: CUSTOMER });
    const sse = subscribeSse(stack.gateway.url, ALERTS, 3, { headers: CUSTOMER });
    try {
      const [started] = await waitForCount(ws, 1);
      expect(started.data.myUsageAlerts).toMatchObject({ kind: 'POWER_ABOVE', state: 'STARTED', value: 6000, threshold: 5000 });
      expect((await waitForCount(sse, 1))[0]).toEqual(started);

      // Below the threshold but within the hysteresis: still holds.
      stack.simulator.setPowerW('C-1001', 4900);
      await readingWithPower(stack.gateway.wsUrl, 4900);
      stack.simulator.setPowerW('C-1001', 4000);
      const [, ended] = await waitForCount(ws, 2);
      expect(ended.data.myUsageAlerts).toMatchObject({ kind: 'POWER_ABOVE', state: 'ENDED', value: 4000, threshold: 5000 });
      expect((await waitForCount(sse, 2))[1]).toEqual(ended);

      // Over again: one more STARTED, and nothing in between (a repeat would have come first).
      stack.simulator.setPowerW('C-1001', 7000);
      const [, , again] = await waitForCount(ws, 3);
      expect(again.data.myUsageAlerts).toMatchObject({ state: 'STARTED', value: 7000 });
    } finally {
      ws.close();
      sse.close();
      stack.simulator.setPowerW('C-1001', undefined);
    }
  });
});

describe('usage alerts across two replicas', () => {
  let testDb: TestDatabase;
  let replicas: Stack[];
  const keyPrefix = uniqueKeyPrefix('test-alerts');

  beforeAll(async () => {
    testDb = await postgresBackend.open();
    await new CustomerStore(testDb.db).upsertCustomer({ externalId: 'C-1001', name: 'Alma Alert' });
    const env = { ...AUTH_ENV, REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix };
    const first = await startStack({ database: testDb.db, env, simulator: { installations: 1, readingIntervalMs: 200 } });
    const second = await startStack({ database: testDb.db, env, sharedSimulator: first.simulator });
    replicas = [first, second];
  });
  afterAll(async () => {
    await replicas[1]?.close();
    await replicas[0]?.close();
    await testDb.cleanup();
    await deleteKeysWithPrefix(SHARED_REDIS_URL, keyPrefix);
  });

  it('evaluates each reading once: one alert per crossing on the shared channel, and a client on either replica gets each', async () => {
    const [first, second] = replicas as [Stack, Stack];
    // What the evaluators publish, seen on Redis itself: a second evaluation would publish every crossing twice.
    const channel = new Redis(SHARED_REDIS_URL);
    const published: string[] = [];
    channel.on('message', (_channel: string, text: string) => {
      const message = JSON.parse(text);
      if (message.type === 'alert') published.push(`${message.alert.state} ${message.alert.value}`);
    });
    await channel.subscribe(`${keyPrefix}alerts`);
    await postGraphQL(second.gateway.url, SET_RULES, { input: { powerAboveW: 3000 } }, CUSTOMER);
    const clients = [first, second].map((replica) => subscribeWs(replica.gateway.wsUrl, ALERTS, 10, { connectionParams: CUSTOMER }));
    try {
      const simulator = first.simulator;
      simulator.setPowerW('C-1001', 3500);
      for (const client of clients) await waitForCount(client, 1);
      simulator.setPowerW('C-1001', 1000);
      for (const client of clients) await waitForCount(client, 2);
      simulator.setPowerW('C-1001', 3600);
      for (const client of clients) {
        // A second evaluation would have sent each crossing twice, the repeat before the next crossing.
        const states = (await waitForCount(client, 3)).map((result: any) => [result.data.myUsageAlerts.state, result.data.myUsageAlerts.value]);
        expect(states).toEqual([['STARTED', 3500], ['ENDED', 1000], ['STARTED', 3600]]);
      }
      expect(published.slice(0, 3)).toEqual(['STARTED 3500', 'ENDED 1000', 'STARTED 3600']);
    } finally {
      channel.disconnect();
      for (const client of clients) client.close();
      first.simulator.setPowerW('C-1001', undefined);
    }
  });
});

describe('the alert webhook', () => {
  let testDb: TestDatabase;
  let stack: Stack;
  let receiver: Server;
  const received: Array<{ body: string; timestamp: string; signature: string }> = [];
  const SECRET = 'webhook-secret-0123456789';

  beforeAll(async () => {
    // The provider's push service: down for the first two attempts, then up.
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ body, timestamp: String(request.headers['x-iometer-timestamp']), signature: String(request.headers['x-iometer-signature']) });
        response.statusCode = received.length <= 2 ? 503 : 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    testDb = await postgresBackend.open();
    await new CustomerStore(testDb.db).upsertCustomer({ externalId: 'C-1001', name: 'Alma Alert' });
    const env = {
      ...AUTH_ENV,
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`,
      ALERT_WEBHOOK_SECRET: SECRET,
      ALERT_WEBHOOK_RETRY_DELAY: '20ms',
    };
    stack = await startStack({ database: testDb.db, env, simulator: { installations: 1, readingIntervalMs: 200 } });
  });
  afterAll(async () => {
    await stack.close();
    await testDb.cleanup();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('POSTs each alert, signed, retrying until the receiver takes it, and counts the delivery', async () => {
    await postGraphQL(stack.gateway.url, SET_RULES, { input: { powerAboveW: 2000 } }, CUSTOMER);
    stack.simulator.setPowerW('C-1001', 2500);
    try {
      await waitFor(() => received.length >= 3, 10_000, 'three webhook attempts');
      const [first, , delivered] = received as [(typeof received)[0], unknown, (typeof received)[0]];
      expect(delivered.body).toBe(first.body);
      expect(JSON.parse(delivered.body)).toMatchObject({ externalId: 'C-1001', alert: { kind: 'POWER_ABOVE', state: 'STARTED', value: 2500, threshold: 2000 } });
      for (const attempt of received.slice(0, 3)) expect(attempt.signature).toBe(signAlert(SECRET, attempt.timestamp, attempt.body));
      // Counted once the gateway has read the receiver's answer.
      const deliveredOnce = /iometer_gateway_alert_webhook_total\{outcome="delivered"\} 1/;
      const metrics = async () => (await fetch(stack.gateway.url.replace('/graphql', '/metrics'))).text();
      await waitFor(async () => deliveredOnce.test(await metrics()), 10_000, 'the delivery counted in /metrics');
      expect(received).toHaveLength(3);
    } finally {
      stack.simulator.setPowerW('C-1001', undefined);
    }
  });
});
