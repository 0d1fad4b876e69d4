import type { ClientSubscription } from './clientSubscription';
import { toHubReading, type MeterReading } from './payload';

/**
 * One page of stored readings received at or after startTime, in receive order. Backed by
 * IOmeter's `provider.readings(startTime, limit, cursor)`; cursor null means "no more for now".
 */
export type PageFetcher = (
  startTime: string,
  cursor?: string,
) => Promise<{ readings: MeterReading[]; cursor: string | null }>;

/**
 * Gives a client with a startTime everything received since then, then lets it join the live feed.
 *
 * Why this has no gap: the client was registered for live readings (held back in `pending`) before
 * the first page was requested, so every reading stored upstream after that request reaches it live,
 * and every reading stored before the last page was requested is in the pages. The overlap in
 * between is removed by the client's seam dedup.
 *
 * If `pending` overflowed (and was discarded) after the last page was requested, that page cannot
 * contain what was thrown away, so the loop pages again from the last replayed receive time; the
 * readings it repeats are within the seam window and dropped there.
 */
export async function replayThenGoLive<T>(
  client: ClientSubscription<T>,
  fetchPage: PageFetcher,
  startTime: string,
): Promise<void> {
  let from = startTime;
  let cursor: string | undefined;
  // A cursor continues the query it came from, so `from` only changes when paging starts over.
  let lastReceiveTime = startTime;
  for (;;) {
    const discards = client.pendingDiscards;
    const page = await fetchPage(from, cursor);
    for (const stored of page.readings) {
      await client.roomForReplay();
      if (!client.isOpen) return;
      const reading = toHubReading(stored);
      if (!reading) continue;
      client.deliverReplayed(reading);
      lastReceiveTime = stored.receiveTime;
    }
    if (!client.isOpen) return;
    if (page.cursor !== null) {
      cursor = page.cursor;
      continue;
    }
    await client.roomForPending();
    if (!client.isOpen) return;
    if (client.pendingDiscards === discards) {
      client.goLive();
      return;
    }
    from = lastReceiveTime;
    cursor = undefined;
  }
}
