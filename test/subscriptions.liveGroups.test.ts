import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { apiKeyEnv } from './helpers/apiKeys';
import { readSseEvents, subscribeSse, subscribeWs, UNTIL_CLOSED, type Subscribed } from './helpers/clients';
import { waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

/*
 * Shared live execution (issue 13): subscribers of the same operation in the same scope get the result
 * executed and serialized once. What a client sees must not change: its own operation id, every
 * reading of its scope and no other, and a neighbour leaving changes nothing for it.
 */

const STAFF = { 'x-api-key': 'staff-key' };
const CUSTOMER_A = { 'x-api-key': 'c1001-key' };
const CUSTOMER_B = { 'x-api-key': 'c1002-key' };
const READINGS = 'subscription { readings { meter { id } installation { externalId } time values { obisCode value } } }';
const MY_READINGS = 'subscription { myReadings { meter { id } installation { externalId } time } }';

type Reading = { meter: { id: string }; installation: { externalId: string }; time: string };
const keyOf = (reading: Reading) => `${reading.meter.id}@${reading.time}`;

/** Keys of the readings a subscription got, from the first one both lists hold on. */
function aligned(a: string[], b: string[]): [string[], string[]] {
  const start = b.indexOf(a[0]!);
  if (start >= 0) return [a, b.slice(start)];
  return [a.slice(a.indexOf(b[0]!)), b];
}

describe('live readings shared by subscribers of the same operation', () => {
  let stack: Stack;
  const open: Array<Subscribed<any>> = [];
  const live = (query: string, connectionParams: Record<string, string>) => {
    const subscription = subscribeWs(stack.gateway.wsUrl, query, UNTIL_CLOSED, { connectionParams });
    subscription.done.catch(() => undefined);
    open.push(subscription);
    return subscription;
  };
  const readingsOf = (subscription: Subscribed<any>, field: string): Reading[] =>
    subscription.results.map((result) => {
      expect(result.errors).toBeUndefined();
      return result.data[field];
    });

  beforeAll(async () => {
    stack = await startStack({
      simulator: { installations: 3 },
      env: apiKeyEnv({ staff: 'staff-key', customers: { 'C-1001': 'c1001-key', 'C-1002': 'c1002-key' } }),
    });
  });
  afterEach(() => {
    for (const subscription of open.splice(0)) subscription.close();
  });
  afterAll(() => stack.close());

  it('gives two operations with the same document on one socket the same readings, each under its own id', async () => {
    const client = createClient({ url: stack.gateway.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: STAFF });
    const first: Reading[] = [];
    const second: Reading[] = [];
    const failures: unknown[] = [];
    const sink = (into: Reading[]) => ({ next: (result: any) => into.push(result.data.readings), error: (error: unknown) => failures.push(error), complete: () => undefined });
    const stopFirst = client.subscribe({ query: READINGS }, sink(first));
    const stopSecond = client.subscribe({ query: READINGS }, sink(second));
    // A subscriber on another socket, in the same group.
    const other = live(READINGS, STAFF);
    await waitFor(() => first.length >= 12 && second.length >= 12 && other.results.length >= 12, 30_000, '12 readings for each client');
    stopFirst();
    stopSecond();
    await client.dispose();

    expect(failures).toEqual([]);
    const [a, b] = aligned(first.map(keyOf), second.map(keyOf));
    const length = Math.min(a.length, b.length);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(a.slice(0, length)).toEqual(b.slice(0, length));
    expect(new Set(a).size).toBe(a.length);
    // Whole payloads, not only keys: every member got the same result.
    const byKey = new Map(first.map((reading) => [keyOf(reading), reading]));
    for (const reading of readingsOf(other, 'readings')) if (byKey.has(keyOf(reading))) expect(reading).toEqual(byKey.get(keyOf(reading)));
  });

  it('never shares between scopes: each customer gets their own installation only, staff every installation', async () => {
    const staff = live(MY_READINGS.replace('myReadings', 'readings'), STAFF);
    const customerA = live(MY_READINGS, CUSTOMER_A);
    const customerA2 = live(MY_READINGS, CUSTOMER_A);
    const customerB = live(MY_READINGS, CUSTOMER_B);
    await waitFor(() => [customerA, customerA2, customerB].every((s) => s.results.length >= 4) && staff.results.length >= 12, 30_000, 'readings for every customer and staff');

    expect(new Set(readingsOf(customerA, 'myReadings').map((r) => r.installation.externalId))).toEqual(new Set(['C-1001']));
    expect(new Set(readingsOf(customerA2, 'myReadings').map((r) => r.installation.externalId))).toEqual(new Set(['C-1001']));
    expect(new Set(readingsOf(customerB, 'myReadings').map((r) => r.installation.externalId))).toEqual(new Set(['C-1002']));
    expect(new Set(readingsOf(staff, 'readings').map((r) => r.installation.externalId))).toEqual(new Set(['C-1001', 'C-1002', 'C-1003']));
  });

  it('gives every member of a refused operation its error, as a single subscription got it', async () => {
    // Valid for the schema, refused when subscribing: myReadings is a customer's field.
    const query = 'subscription { myReadings { time } }';
    const [first, second] = await Promise.all([
      subscribeWs(stack.gateway.wsUrl, query, 1, { connectionParams: STAFF }).done,
      subscribeWs(stack.gateway.wsUrl, query, 1, { connectionParams: STAFF }).done,
    ]);
    for (const results of [first, second]) {
      expect(results).toHaveLength(1);
      expect(results[0].errors[0]).toMatchObject({ message: 'Only a customer can use this field.', extensions: { code: 'FORBIDDEN' } });
    }
  });

  it('writes SSE members of one group the same events, each reading with its id, as a single SSE subscriber got them', async () => {
    const read = () => readSseEvents(stack.gateway.url, READINGS, 6, STAFF);
    const [first, second] = await Promise.all([read(), read()]);
    const byId = new Map(second.map((event) => [event.id, event.data]));
    const both = first.filter((event) => byId.has(event.id));
    expect(both.length).toBeGreaterThan(0);
    for (const event of [...first, ...second]) {
      expect(event.id).toMatch(/\S/);
      expect(Object.keys(event.data)).toEqual(['data']);
      expect(Object.keys(event.data.data.readings).sort()).toEqual(['installation', 'meter', 'time', 'values']);
    }
    for (const event of both) expect(byId.get(event.id)).toEqual(event.data);
  });

  it('keeps delivering to the others when a member leaves mid-stream', async () => {
    const staying = live(READINGS, STAFF);
    const leaving = live(READINGS, STAFF);
    const sse = subscribeSse(stack.gateway.url, READINGS, UNTIL_CLOSED, { headers: STAFF });
    sse.done.catch(() => undefined);
    open.push(sse);
    await waitFor(() => leaving.results.length >= 3 && sse.results.length >= 3, 30_000, 'three readings for the leaving and the SSE member');
    leaving.close();
    const leftAt = staying.results.length;
    await waitFor(() => staying.results.length >= leftAt + 10 && sse.results.length >= 13, 30_000, 'ten more readings for those who stayed');

    expect(staying.results.length).toBeGreaterThanOrEqual(leftAt + 10);
    const keys = readingsOf(staying, 'readings').map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    expect(readingsOf(sse, 'readings').length).toBeGreaterThanOrEqual(13);
  });
});

/** A reading's values many times over (aliases, within LIMIT_MAX_ALIASES): bytes at little cost per message. */
const WIDE_READINGS = `subscription { readings { time ${Array.from({ length: 19 }, (_, i) => `v${i}: values { obisCode value unit }`).join(' ')} } }`;

describe('a shared live reading subscriber that stops reading', () => {
  let stack: Stack;
  beforeAll(async () => {
    // 200 readings a second, each a few KB (WIDE_READINGS), fill a paused loopback socket's buffers (a
    // few MB) within seconds, and are few enough for the member that keeps up to keep up: it shares this
    // process with the simulator and the gateway, on a machine that may be busy.
    stack = await startStack({ simulator: { installations: 100, readingIntervalMs: 500 } });
  });
  afterAll(() => stack.close());

  it('is closed with SLOW_CONSUMER once its socket stays backed up, as a member of a group', async () => {
    // The member that keeps up only counts its messages: a test process parsing thousands of readings a
    // second on a busy machine would fall behind and be judged slow itself.
    const fast = new WebSocket(stack.gateway.wsUrl, 'graphql-transport-ws');
    let fastReadings = 0;
    let fastAcknowledged = false;
    fast.on('message', (data) => {
      const text = String(data);
      if (text.includes('"type":"next"')) fastReadings += 1;
      else if (text.includes('"type":"connection_ack"')) fastAcknowledged = true;
    });
    await new Promise((resolve) => fast.once('open', resolve));
    fast.send(JSON.stringify({ type: 'connection_init' }));
    await waitFor(() => fastAcknowledged, 30_000, 'connection_ack for the member that keeps up');
    fast.send(JSON.stringify({ id: 'fast', type: 'subscribe', payload: { query: WIDE_READINGS } }));
    await waitFor(() => fastReadings > 0, 30_000, 'a first reading for the member that keeps up');
    const slow = new WebSocket(stack.gateway.wsUrl, 'graphql-transport-ws');
    // Its readings are only counted too: once resumed it drains megabytes of them before the error.
    const messages: Array<{ id?: string; type: string; payload?: any }> = [];
    let slowReadings = 0;
    slow.on('message', (data) => {
      const text = String(data);
      if (text.includes('"type":"next"')) slowReadings += 1;
      else messages.push(JSON.parse(text));
    });
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init' }));
    await waitFor(() => messages.some((message) => message.type === 'connection_ack'), 30_000, 'connection_ack');
    slow.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: WIDE_READINGS } }));
    await waitFor(() => slowReadings > 0, 60_000, 'a first reading for the slow member').catch((error: Error) => {
      throw new Error(`${error.message}; it got ${JSON.stringify(messages.slice(0, 5))}`);
    });

    slow.pause();
    // The gateway's verdict, in its log: the paused member's socket stayed backed up (its kernel buffers,
    // a few MB on loopback, full and its unwritten messages over SUBSCRIPTION_BUFFER for the grace).
    const slowVerdict = () => stack.logs.some((line) => line.includes('SLOW_CONSUMER') && line.includes('/slow"'));
    await waitFor(slowVerdict, 100_000, 'the paused member to be judged a slow consumer');
    const fastReadingsAtVerdict = fastReadings;
    await waitFor(() => fastReadings > fastReadingsAtVerdict, 30_000, 'a reading for the member that keeps up, after the verdict').catch((error: Error) => {
      const verdicts = stack.logs.filter((line) => line.includes('SLOW_CONSUMER') && line.includes('requestId'));
      throw new Error(`${error.message}; the gateway's slow-consumer verdicts: ${verdicts.join(' ')}`);
    });
    // The member that kept up leaves first, so the slow socket drains its backlog without more arriving behind it.
    fast.terminate();
    slow.resume();
    await waitFor(() => messages.some((message) => message.type === 'error'), 120_000, 'the error message on the slow socket');
    slow.terminate();

    const error = messages.find((message) => message.type === 'error');
    expect(error).toMatchObject({ id: 'slow', payload: [{ extensions: { code: 'SLOW_CONSUMER' } }] });
  });
});
