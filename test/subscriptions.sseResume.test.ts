import { readSseEvents, subscribeWs, type SseEvent } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

const READINGS = 'subscription { readings { meter { id } time receiveTime } }';
const keyOf = (reading: { meter: { id: string }; time: string }) => `${reading.meter.id}@${Date.parse(reading.time)}`;
const keysOf = (events: SseEvent[]) => events.map((event) => keyOf(event.data.data.readings));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SSE resume with Last-Event-ID', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('gives every reading event an id, and a reconnect with Last-Event-ID continues with no gap and no repeat', async () => {
    // A subscriber that stays connected throughout: the sequence the resumed client must match.
    const reference = subscribeWs(stack.gateway.wsUrl, READINGS, 100_000);
    while (reference.results.length === 0) await sleep(20);

    const before = await readSseEvents(stack.gateway.url, READINGS, 30);
    expect(before.every((event) => typeof event.id === 'string' && event.id.length > 0)).toBe(true);
    const lastId = before.at(-1)!.id!;
    // Offline long enough for several upstream ticks to pass by.
    await sleep(1_000);
    const after = await readSseEvents(stack.gateway.url, READINGS, 150, { 'last-event-id': lastId });
    const seen = [...keysOf(before), ...keysOf(after)];
    const referenceKeys = () => reference.results.map((result) => keyOf(result.data.readings));
    // The reference may be a few events behind the SSE client it is compared with.
    for (let waited = 0; !referenceKeys().includes(seen.at(-1)!) && waited < 5_000; waited += 20) await sleep(20);
    reference.close();

    const expected = referenceKeys();
    const start = expected.indexOf(seen[0]!);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual(expected.slice(start, start + seen.length));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('falls back to a replay by receive time when the position is not held here (another replica or a restart)', async () => {
    const startedMs = Date.now();
    await sleep(500);
    const foreignId = `${startedMs}.feedbeef.42`;
    const events = await readSseEvents(stack.gateway.url, READINGS, 20, { 'last-event-id': foreignId });
    const receiveTimes = events.map((event) => Date.parse(event.data.data.readings.receiveTime));
    expect(Math.min(...receiveTimes)).toBeGreaterThanOrEqual(startedMs);
    // Replayed from the upstream's store: readings received before this connection opened.
    expect(Math.min(...receiveTimes)).toBeLessThan(startedMs + 500);
    expect(new Set(keysOf(events)).size).toBe(events.length);
  });
});
