import type { Queryable } from '../database';
import type { Logger } from '../logging/logger';
import type { PageFetcher } from '../subscriptions';
import { toArchiveRow } from './rows';
import type { ArchiveWriter } from './writer';

/** How long IOmeter keeps readings (provider.readings and the subscription's startTime). */
const UPSTREAM_RETENTION_MS = 24 * 3_600_000;
/**
 * Backfill starts this far before the archive's last receive time. Rows are idempotent, so the
 * cost of a generous overlap is a few repeated pages; the gain is robustness to readings that
 * reach IOmeter slightly out of receive order.
 */
const CATCH_UP_OVERLAP_MS = 60_000;
/** Asking for exactly 24 h ago could land just past IOmeter's horizon by the time it answers. */
const HORIZON_MARGIN_MS = 60_000;
/**
 * A long gap is paged as this many stretches at once: pages of one query follow each other, but
 * stretches from different startTimes do not have to (well under the upstream concurrency cap).
 */
const BACKFILL_STRETCHES = 4;
/** Shorter stretches would mostly page the same readings twice. */
const MIN_STRETCH_MS = 60_000;

export interface CatchUpOptions {
  db: Queryable;
  writer: ArchiveWriter;
  fetchPage: PageFetcher;
  logger: Logger;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Pages [fromMs, untilMs] as up to BACKFILL_STRETCHES stretches concurrently. */
async function backfill(fetchPage: PageFetcher, writer: ArchiveWriter, fromMs: number, untilMs: number) {
  const count = Math.max(1, Math.min(BACKFILL_STRETCHES, Math.floor((untilMs - fromMs) / MIN_STRETCH_MS)));
  const lengthMs = (untilMs - fromMs) / count;
  const stretches = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      backfillStretch(fetchPage, writer, fromMs + i * lengthMs, i === count - 1 ? untilMs : fromMs + (i + 1) * lengthMs),
    ),
  );
  return stretches.reduce((sum, stretch) => ({ readings: sum.readings + stretch.readings, pages: sum.pages + stretch.pages }));
}

/**
 * Pages provider.readings from fromMs into the writer until IOmeter has no more or the pages pass
 * untilMs. Waits for room in the writer after each page, so a slow database slows paging down.
 */
async function backfillStretch(fetchPage: PageFetcher, writer: ArchiveWriter, fromMs: number, untilMs: number) {
  const result = { readings: 0, pages: 0 };
  const fromTime = iso(fromMs);
  let cursor: string | undefined;
  do {
    const page = await fetchPage(fromTime, cursor);
    result.pages += 1;
    for (const reading of page.readings) {
      const row = toArchiveRow(reading);
      if (!row) continue;
      if (row.receiveTimeMs > untilMs) return result;
      writer.add(row);
      result.readings += 1;
    }
    await writer.whenRoom();
    cursor = page.cursor ?? undefined;
  } while (cursor !== undefined && !writer.isClosed);
  return result;
}

/**
 * Refetches the writer's missing range from provider.readings, as far as IOmeter still has it.
 * The writer keeps its checkpoint below the range until this has put the readings in its buffer.
 */
export async function refetchMissing({ writer, fetchPage, logger }: Omit<CatchUpOptions, 'db'>): Promise<void> {
  const missing = writer.missing;
  if (!missing) return;
  const startedMs = Date.now();
  const horizonMs = startedMs - UPSTREAM_RETENTION_MS + HORIZON_MARGIN_MS;
  const fromMs = Math.max(missing.fromMs - CATCH_UP_OVERLAP_MS, horizonMs);
  const range = { from: iso(missing.fromMs), until: iso(missing.untilMs), backfillFrom: iso(fromMs) };
  if (missing.fromMs - CATCH_UP_OVERLAP_MS < horizonMs) {
    logger.warn({ archive: true, ...range, lostUntil: iso(horizonMs) }, "reading archive gap exceeds IOmeter's 24 h; older readings are lost");
  }
  const { readings, pages } = await backfill(fetchPage, writer, fromMs, missing.untilMs);
  if (writer.isClosed) return;
  writer.refilled(missing);
  logger.info({ archive: true, ...range, backfilled: readings, pages, durationMs: Date.now() - startedMs }, 'reading archive backfill done');
}

/** The receive time up to which batches are committed (shared by every replica); undefined before the first. */
export async function committedUntilMs(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ receive_time: Date | string }>('SELECT receive_time FROM reading_archive_checkpoint');
  return rows[0] ? new Date(rows[0].receive_time).getTime() : undefined;
}

/** Where the archive is complete up to: the committed checkpoint, or earlier if rows are still buffered. */
async function archivedUntilMs(db: Queryable, writer: ArchiveWriter): Promise<number | undefined> {
  const checkpoint = await committedUntilMs(db);
  const pending = writer.oldestPendingReceiveMs;
  if (checkpoint === undefined) return pending;
  return pending === undefined ? checkpoint : Math.min(checkpoint, pending);
}

/**
 * Runs before the upstream subscription (re)opens: records the gap since the archive's last
 * receive time as missing, before any live reading can move the checkpoint past it. Returns
 * whether there is a gap to refetch; an empty archive starts with live readings only.
 *
 * The gap is refetched in the background (refetchMissing) rather than before going live:
 * provider.readings gives 100 readings a page, about 4,000 readings/s from the local simulator,
 * while 25,000 installations send 12,500/s; paging first would hold live readings back for
 * longer than the gap itself, for every client too.
 */
export async function noteGap({ db, writer, logger }: Omit<CatchUpOptions, 'fetchPage'>): Promise<boolean> {
  const lastMs = await archivedUntilMs(db, writer);
  if (lastMs === undefined) {
    logger.info({ archive: true }, 'reading archive is empty; archiving live readings from now');
    return false;
  }
  const nowMs = Date.now();
  writer.markMissing(lastMs, nowMs);
  logger.info({ archive: true, archivedUntil: iso(lastMs), gapMs: nowMs - lastMs }, 'reading archive gap; backfilling from IOmeter');
  return true;
}
