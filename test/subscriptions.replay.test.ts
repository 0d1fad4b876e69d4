import type { MeterReadingPayload, PageFetcher, ReadingHub } from '../src/subscriptions';
import { upstreamError } from '../src/upstream/errors';
import { waitFor } from './helpers/simulator';
import { closedAfterEach, Collector, expectNoGapNoDuplicate, hubFor, simulatorForFile, simulatorPageFetcher } from './helpers/subscriptions';

// Duplicates on: the seam must cope with the upstream's repeats too.
const sim = simulatorForFile({ seed: 11, installations: 6, readingIntervalMs: 100, historyMs: 60_000, duplicateRate: 0.3 });
const hubs = closedAfterEach<ReadingHub>();

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const receiveMs = (reading: MeterReadingPayload) => Date.parse(reading.receiveTime);
const liveFor = (ms: number, since = Date.now()) => (items: MeterReadingPayload[]) =>
  items.length > 0 && receiveMs(items.at(-1)!) > since + ms;

function expectReceiveOrder(items: MeterReadingPayload[]) {
  const times = items.map(receiveMs);
  expect(times).toEqual([...times].sort((a, b) => a - b));
}

describe('replay from startTime, then live', () => {
  it('has no gap and no duplicate at the seam when the client opens the feed', async () => {
    const hub = hubFor(sim(), {}, hubs);
    const startTime = ago(4_000);
    const subscribedAt = Date.now();
    const client = new Collector(hub.subscribe({ startTime }));
    await client.until(liveFor(1_500, subscribedAt));
    await client.stop();

    expect(receiveMs(client.items[0])).toBeGreaterThanOrEqual(Date.parse(startTime));
    expect(receiveMs(client.items[0])).toBeLessThan(Date.parse(startTime) + 500);
    expectReceiveOrder(client.items);
    expect(await expectNoGapNoDuplicate(sim(), client.items)).toBeGreaterThan(250);
    // The feed's look-back overlaps the replay, and the upstream repeats some readings: both were dropped.
    expect(hub.stats.duplicatesDropped).toBeGreaterThan(0);
  });

  it('joins a running feed while slow pages are fetched', async () => {
    const pages: string[] = [];
    const hub = hubFor(sim(), { fetchPage: simulatorPageFetcher(sim(), { delayMs: 250, pages }) }, hubs);
    const live = new Collector(hub.subscribe());
    await live.until((items) => items.length >= 20);

    const subscribedAt = Date.now();
    const client = new Collector(hub.subscribe({ startTime: ago(6_000) }));
    await client.until(liveFor(1_500, subscribedAt));
    await Promise.all([client.stop(), live.stop()]);

    expect(pages.length).toBeGreaterThanOrEqual(4);
    expectReceiveOrder(client.items);
    expect(await expectNoGapNoDuplicate(sim(), client.items)).toBeGreaterThan(400);
  });

  it('pages again when held-back live readings overflow the buffer, and still has no gap', async () => {
    const pages: string[] = [];
    const slowPages = simulatorPageFetcher(sim(), { delayMs: 400, pages });
    let live: Collector<MeterReadingPayload> | undefined;
    let overflowed = false;
    // The first page comes back only after more live readings than the 5 held back have arrived, so
    // the first round overflows whatever the machine's load does to the simulator's ticks.
    const fetchPage: PageFetcher = async (startTime, cursor) => {
      const page = await slowPages(startTime, cursor);
      if (!overflowed) {
        overflowed = true;
        const seen = live!.items.length;
        await live!.until((items) => items.length >= seen + 6, 30_000);
      }
      return page;
    };
    const hub = hubFor(sim(), { bufferSize: 5, fetchPage }, hubs);
    live = new Collector(hub.subscribe());
    await live.until((items) => items.length > 0, 30_000);
    const subscribedAt = Date.now();
    const client = new Collector(hub.subscribe({ startTime: ago(5_000) }));
    // A second query from a startTime rather than a cursor: the re-page after the discard. (Replayed
    // pages alone may reach past subscribedAt, so "live for a while" is no sign the seam was crossed.)
    const startedPages = () => pages.filter((page) => page.startsWith('start:')).length;
    await waitFor(() => startedPages() > 1, 30_000, 'a second round of pages after the overflow');
    await client.until(liveFor(1_500, subscribedAt), 30_000);
    await Promise.all([client.stop(), live.stop()]);

    expectReceiveOrder(client.items);
    await expectNoGapNoDuplicate(sim(), client.items);
  });

  it('replays only the customer installation', async () => {
    const hub = hubFor(sim(), {}, hubs);
    const subscribedAt = Date.now();
    const client = new Collector(hub.subscribe({ externalId: 'C-1004', startTime: ago(5_000) }));
    await client.until(liveFor(1_500, subscribedAt));
    await client.stop();

    expect(new Set(client.items.map((reading) => reading.installation.externalId))).toEqual(new Set(['C-1004']));
    expect(receiveMs(client.items[0])).toBeLessThan(subscribedAt - 3_000);
    expect(await expectNoGapNoDuplicate(sim(), client.items, { externalId: 'C-1004' })).toBeGreaterThan(40);
  });
});

describe('replay failures', () => {
  it('fails only the replaying client, with the fetcher error code, or UPSTREAM_UNAVAILABLE for a non-GraphQL error', async () => {
    let failWith: Error = upstreamError('UPSTREAM_TIMEOUT');
    const hub = hubFor(sim(), { fetchPage: async () => Promise.reject(failWith) }, hubs);
    const live = new Collector(hub.subscribe());
    const timedOut = new Collector(hub.subscribe({ startTime: ago(1_000) }));
    await timedOut.ended();
    expect(timedOut.error).toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT' } });

    failWith = new Error('socket hang up');
    const broken = new Collector(hub.subscribe({ startTime: ago(1_000) }));
    await broken.ended();
    expect(broken.error).toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } });

    const before = live.items.length;
    await live.until((items) => items.length > before + 5);
    expect(hub.stats.clients).toBe(1);
  });

  it('rejects a startTime that is not a timestamp', () => {
    const hub = hubFor(sim(), {}, hubs);
    expect(() => hub.subscribe({ startTime: 'yesterday' })).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }));
  });
});
