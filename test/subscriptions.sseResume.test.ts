import { readSseEvents, subscribeWs, type SseEvent, UNTIL_CLOSED, type Subscribed } from './helpers/clients';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { sleep, waitFor } from './helpers/simulator';
import { startStack, type Stack } from './helpers/stack';

const READINGS = 'subscription { readings { meter { id } time receiveTime } }';
const keyOf = (reading: { meter: { id: string }; time: string }) => `${reading.meter.id}@${Date.parse(reading.time)}`;
const keysOf = (events: SseEvent[]) => events.map((event) => keyOf(event.data.data.readings));

/**
 * Reads 30 events from one gateway, stays away for a second, reconnects (maybe to another replica)
 * with the last event id, and checks the two halves against a client that stayed connected.
 */
async function expectSeamless(reference: Subscribed<any>, firstUrl: string, secondUrl: string): Promise<string[]> {
  const before = await readSseEvents(firstUrl, READINGS, 30);
  expect(before.every((event) => typeof event.id === 'string' && event.id.length > 0)).toBe(true);
  const lastId = before.at(-1)!.id!;
  // Offline long enough for several upstream ticks to pass by.
  await sleep(1_000);
  const after = await readSseEvents(secondUrl, READINGS, 150, { 'last-event-id': lastId });
  const seen = [...keysOf(before), ...keysOf(after)];
  const referenceKeys = () => reference.results.map((result) => keyOf(result.data.readings));
  // The reference may be a few events behind the SSE client it is compared with.
  await waitFor(() => referenceKeys().includes(seen.at(-1)!), 15_000, 'the resumed client\'s last reading at the reference client');
  reference.close();

  const expected = referenceKeys();
  const start = expected.indexOf(seen[0]!);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(seen).toEqual(expected.slice(start, start + seen.length));
  expect(new Set(seen).size).toBe(seen.length);
  return before.map((event) => event.id!);
}

describe('SSE resume with Last-Event-ID', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('gives every reading event an id, and a reconnect with Last-Event-ID continues with no gap and no repeat', async () => {
    // A subscriber that stays connected throughout: the sequence the resumed client must match.
    const reference = subscribeWs(stack.gateway.wsUrl, READINGS, UNTIL_CLOSED);
    await waitFor(() => reference.results.length > 0, 15_000, 'a first reading for the reference client');

    await expectSeamless(reference, stack.gateway.url, stack.gateway.url);
  });

  it('falls back to a replay by receive time when the position is not held here (another replica or a restart)', async () => {
    const startedMs = Date.now();
    await sleep(500);
    const foreignId = `${startedMs}.feedbeef.42`;
    const connectingMs = Date.now();
    const events = await readSseEvents(stack.gateway.url, READINGS, 20, { 'last-event-id': foreignId });
    const receiveTimes = events.map((event) => Date.parse(event.data.data.readings.receiveTime));
    expect(Math.min(...receiveTimes)).toBeGreaterThanOrEqual(startedMs);
    // Replayed from the upstream's store: readings received before this connection opened.
    expect(Math.min(...receiveTimes)).toBeLessThan(connectingMs);
    expect(new Set(keysOf(events)).size).toBe(events.length);
  });
});

describe('SSE resume across replicas sharing a Redis', () => {
  const prefix = uniqueKeyPrefix('test-sse-resume');
  let first: Stack;
  let second: Stack;
  beforeAll(async () => {
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix };
    first = await startStack({ env });
    second = await startStack({ env, sharedSimulator: first.simulator });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
    await deleteKeysWithPrefix(SHARED_REDIS_URL, prefix);
  });

  it('continues exactly on another replica from the stream position in Last-Event-ID', async () => {
    const reference = subscribeWs(first.gateway.wsUrl, READINGS, UNTIL_CLOSED);
    await waitFor(() => reference.results.length > 0, 15_000, 'a first reading for the reference client');
    const ids = await expectSeamless(reference, first.gateway.url, second.gateway.url);
    // Positions are entries of the cluster's Redis stream, which every replica can read.
    expect(ids.every((id) => /^\d+\.s\.\d+-\d+$/.test(id))).toBe(true);
  });
});
