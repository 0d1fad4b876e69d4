import type { Queryable } from '../customers/database';
import type { Logger } from '../logger';
import type { PageFetcher } from '../subscriptions';
import { toArchiveRow } from './rows';
import type { ArchiveWriter } from './writer';

/** How long IOmeter keeps readings (provider.readings and the subscription's startTime). */
export const UPSTREAM_RETENTION_MS = 24 * 3_600_000;
/**
 * Backfill starts this far before the archive's last receive time. Rows are idempotent, so the
 * cost of a generous overlap is a few repeated pages; the gain is robustness to readings that
 * reach IOmeter slightly out of receive order.
 */
export const CATCH_UP_OVERLAP_MS = 60_000;
/** Asking for exactly 24 h ago could land just past IOmeter's horizon by the time it answers. */
const HORIZON_MARGIN_MS = 60_000;

export interface CatchUpOptions {
  db: Queryable;
  writer: ArchiveWriter;
  fetchPage: PageFetcher;
  logger: Logger;
}

const iso = (ms: number) => new Date(ms).toISOString();

interface BackfillResult {
  readings: number;
  pages: number;
  lastReceiveMs?: number;
}

/**
 * Pages provider.readings from fromMs into the writer, until IOmeter has no more or (with untilMs)
 * the pages pass untilMs. Waits for room in the writer after each page.
 */
async function backfill(fetchPage: PageFetcher, writer: ArchiveWriter, fromMs: number, untilMs = Infinity): Promise<BackfillResult> {
  const result: BackfillResult = { readings: 0, pages: 0 };
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
      result.lastReceiveMs = Math.max(result.lastReceiveMs ?? row.receiveTimeMs, row.receiveTimeMs);
    }
    await writer.whenRoom();
    cursor = page.cursor ?? undefined;
  } while (cursor !== undefined && !writer.isClosed);
  return result;
}

/**
 * Refetches the readings the writer dropped from memory while the database was down (see
 * ArchiveWriter's maxPending), as far as IOmeter still has them. The writer keeps its checkpoint
 * below them until this has put them back in its buffer.
 */
export async function repairDropped({ writer, fetchPage, logger }: Omit<CatchUpOptions, 'db'>): Promise<void> {
  const dropped = writer.dropped;
  if (!dropped) return;
  const fromMs = Math.max(dropped.fromMs - CATCH_UP_OVERLAP_MS, Date.now() - UPSTREAM_RETENTION_MS + HORIZON_MARGIN_MS);
  const range = { from: iso(dropped.fromMs), until: iso(dropped.untilMs) };
  logger.info({ archive: true, ...range }, 'reading archive refetching readings it dropped from memory');
  const { readings, pages } = await backfill(fetchPage, writer, fromMs, dropped.untilMs);
  writer.refilled(dropped);
  logger.info({ archive: true, ...range, backfilled: readings, pages }, 'reading archive refetched the dropped readings');
}

/** Where the archive is complete up to: the committed checkpoint, or earlier if rows are still buffered. */
async function archivedUntilMs(db: Queryable, writer: ArchiveWriter): Promise<number | undefined> {
  const { rows } = await db.query<{ receive_time: Date | string }>('SELECT receive_time FROM reading_archive_checkpoint');
  const checkpoint = rows[0] ? new Date(rows[0].receive_time).getTime() : undefined;
  const pending = writer.oldestPendingReceiveMs;
  if (checkpoint === undefined) return pending;
  return pending === undefined ? checkpoint : Math.min(checkpoint, pending);
}

/**
 * Fills the archive from provider.readings pages between its last receive time (minus an
 * overlap; at most IOmeter's 24 h back) and now. Returns the receive time the live subscription
 * should resume from, so pages and live readings meet without a gap; undefined for an empty
 * archive, which starts with live readings only.
 */
export async function catchUp({ db, writer, fetchPage, logger }: CatchUpOptions): Promise<number | undefined> {
  const lastMs = await archivedUntilMs(db, writer);
  if (lastMs === undefined) {
    logger.info({ archive: true }, 'reading archive is empty; archiving live readings from now');
    return undefined;
  }
  const startedMs = Date.now();
  const horizonMs = startedMs - UPSTREAM_RETENTION_MS + HORIZON_MARGIN_MS;
  const fromMs = Math.max(lastMs - CATCH_UP_OVERLAP_MS, horizonMs);
  const gap = { archivedUntil: iso(lastMs), gapMs: startedMs - lastMs, backfillFrom: iso(fromMs) };
  if (lastMs - CATCH_UP_OVERLAP_MS < horizonMs) {
    logger.warn({ archive: true, ...gap, lostUntil: iso(horizonMs) }, 'reading archive gap exceeds IOmeter\'s 24 h; older readings are lost');
  } else {
    logger.info({ archive: true, ...gap }, 'reading archive gap; backfilling from IOmeter');
  }

  const { readings, pages, lastReceiveMs } = await backfill(fetchPage, writer, fromMs);
  const resumeMs = Math.max(fromMs, lastReceiveMs ?? fromMs);
  logger.info(
    { archive: true, ...gap, backfilled: readings, pages, durationMs: Date.now() - startedMs, resumeFrom: iso(resumeMs) },
    'reading archive backfill done; going live',
  );
  return resumeMs;
}
