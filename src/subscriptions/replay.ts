import type { ClientSubscription } from './clientSubscription';
import { toHubReading, type HubReading, type MeterReading } from './payload';

/**
 * One page of stored readings received at or after startTime, in receive order. Backed by
 * IOmeter's `provider.readings(startTime, limit, cursor)`; cursor null means "no more for now".
 */
export type PageFetcher = (
  startTime: string,
  cursor?: string,
) => Promise<{ readings: MeterReading[]; cursor: string | null }>;

/**
 * What a client catches up on before going live. Each call is one round; a round after the first
 * must continue from what the previous rounds yielded (the caller may stop early).
 */
export type CatchUpRounds = () => AsyncIterable<HubReading> | Iterable<HubReading>;

/**
 * Gives a client everything it missed, then lets it join the live feed.
 *
 * Why this has no gap: the client was registered for live readings (held back in `pending`) before
 * the first round began, so every reading routed after that reaches it live, and the rounds hold
 * everything before. The overlap in between is removed by the client's seam dedup.
 *
 * If `pending` overflowed (and was discarded) after the last round, that round cannot contain what
 * was thrown away, so another round runs from where the last one ended; the readings it repeats are
 * within the seam window and dropped there.
 */
export async function catchUpThenGoLive<T>(client: ClientSubscription<T>, rounds: CatchUpRounds): Promise<void> {
  for (;;) {
    const discards = client.pendingDiscards;
    for await (const reading of rounds()) {
      await client.roomForReplay();
      if (!client.isOpen) return;
      client.deliverReplayed(reading);
    }
    if (!client.isOpen) return;
    await client.roomForPending();
    if (!client.isOpen) return;
    if (client.pendingDiscards === discards) {
      client.goLive();
      return;
    }
  }
}

/** Rounds of IOmeter's stored readings received since startTime; a later round pages again from the last one yielded. */
export function storedReadingRounds(fetchPage: PageFetcher, startTime: string): CatchUpRounds {
  let from = startTime;
  return async function* () {
    // A cursor continues the query it came from, so `from` only changes when paging starts over.
    let cursor: string | undefined;
    const start = from;
    do {
      const page = await fetchPage(start, cursor);
      for (const stored of page.readings) {
        const reading = toHubReading(stored);
        if (!reading) continue;
        from = stored.receiveTime;
        yield reading;
      }
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined);
  };
}
