import type { Database } from '../customers/database';
import type { Logger } from '../logger';
import type { ArchiveRow } from './rows';

export interface ArchiveWriterOptions {
  db: Database;
  logger: Logger;
  /** Rows per INSERT; a batch is written as soon as this many are buffered. */
  batchSize: number;
  /** Longest a buffered row waits for a batch to fill. */
  flushIntervalMs: number;
  /** Rows older than this are not written: retention would drop their partition anyway. */
  retentionMs: number;
  /** Called after each committed batch (the bench measures lag with it). */
  onWritten?: (batch: readonly ArchiveRow[], inserted: number) => void;
}

export interface ArchiveWriterStats {
  /** Rows committed by this writer (new ones; repeats excluded). */
  inserted: number;
  /** Rows that were already archived (upstream repeats, resume overlap, backfill overlap). */
  repeats: number;
  /** Rows refused for a reading time outside [now - retention, now + 1 day]. */
  outOfRange: number;
  batches: number;
  failedBatches: number;
  /** Rows waiting to be written. */
  pending: number;
}

const DAY_MS = 86_400_000;
/** A meter clock further ahead than this is wrong; accepting it would create a partition per day up to it. */
const FUTURE_TOLERANCE_MS = DAY_MS;
const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * One statement per batch: the rows as ten parallel arrays (so the parameter count does not grow
 * with the batch, unlike VALUES lists), ON CONFLICT DO NOTHING for idempotency on (meter, time),
 * and the checkpoint advanced in the same statement, hence the same transaction: the checkpoint
 * never claims a row that is not durably stored. Works unchanged on PGlite.
 */
const INSERT_BATCH = `
  WITH inserted AS (
    INSERT INTO reading_archive (meter_id, meter_number, installation_id, external_id, reading_time, receive_time,
                                 imported_wh, exported_wh, power_w, reading_values)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
                         $7::float8[], $8::float8[], $9::float8[], $10::jsonb[])
    ON CONFLICT (meter_id, reading_time) DO NOTHING
    RETURNING 1
  ), checkpoint AS (
    INSERT INTO reading_archive_checkpoint (receive_time) VALUES ($11)
    ON CONFLICT (singleton) DO UPDATE
      SET receive_time = GREATEST(reading_archive_checkpoint.receive_time, EXCLUDED.receive_time), updated_at = now()
  )
  SELECT count(*)::integer AS inserted FROM inserted`;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Buffers archive rows and writes them in batches, one batch in flight at a time and in arrival
 * order: readings arrive in receive order, so when a batch commits, everything received before
 * it is stored too, and the checkpoint it sets is a safe place to resume from.
 *
 * A failed batch stays at the head of the buffer and is retried with back-off. Rows lost with the
 * process (a crash, or close() while the database is down) are not lost for good: they are newer
 * than the checkpoint, so the next start fetches them again from IOmeter.
 */
export class ArchiveWriter {
  private buffer: ArchiveRow[] = [];
  /** UTC day numbers whose partition is known to exist. */
  private readonly partitions = new Set<number>();
  private draining?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private retryMs = RETRY_INITIAL_MS;
  private closed = false;
  private roomWaiters: Array<() => void> = [];
  private flushWaiters: Array<() => void> = [];
  private readonly counters = { inserted: 0, repeats: 0, outOfRange: 0, batches: 0, failedBatches: 0 };

  constructor(private readonly options: ArchiveWriterOptions) {}

  get stats(): ArchiveWriterStats {
    return { ...this.counters, pending: this.buffer.length };
  }

  /** Receive time of the oldest row not yet committed: an in-process resume must not start after it. */
  get oldestPendingReceiveMs(): number | undefined {
    return this.buffer[0]?.receiveTimeMs;
  }

  add(row: ArchiveRow): void {
    if (this.closed) return;
    this.buffer.push(row);
    if (this.buffer.length >= this.options.batchSize) this.drain();
    else this.timer ??= setTimeout(() => this.drain(), this.options.flushIntervalMs);
  }

  /** Resolves once the buffer is below a few batches: a backfill awaits it, so a slow database slows paging down. */
  whenRoom(): Promise<void> {
    if (this.buffer.length < this.highWater) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves once everything buffered is committed (retrying while the database fails) or the writer is closed. */
  flush(): Promise<void> {
    if (this.buffer.length === 0 || this.closed) return Promise.resolve();
    const flushed = new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    this.drain();
    return flushed;
  }

  /** Writes what is buffered with one attempt per batch, then refuses further rows. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.draining;
    this.closed = true;
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.options.batchSize);
      try {
        await this.write(batch);
        this.buffer.splice(0, batch.length);
      } catch (error) {
        this.options.logger.error(
          { archive: true, err: error, unwritten: this.buffer.length, from: iso(this.buffer[0]!.receiveTimeMs) },
          'archive could not write its last rows on shutdown; the next start fetches them again from IOmeter',
        );
        this.buffer = [];
      }
    }
    this.releaseWaiters();
  }

  private get highWater(): number {
    return this.options.batchSize * 4;
  }

  private drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.draining || this.closed) return;
    this.draining = this.writeAll().finally(() => {
      this.draining = undefined;
      if (this.buffer.length > 0 && !this.closed) this.timer = setTimeout(() => this.drain(), this.retryMs);
    });
  }

  /** Writes batches back to back until the buffer is empty or a batch fails. */
  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0 && !this.closed) {
      const batch = this.buffer.slice(0, this.options.batchSize);
      try {
        await this.write(batch);
      } catch (error) {
        this.counters.failedBatches += 1;
        this.options.logger.error(
          { archive: true, err: error, rows: batch.length, pending: this.buffer.length, retryMs: this.retryMs },
          'archive batch failed; retrying',
        );
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        return;
      }
      this.retryMs = this.options.flushIntervalMs;
      this.buffer.splice(0, batch.length);
      this.releaseWaiters();
    }
  }

  private releaseWaiters(): void {
    const settled = (waiters: Array<() => void>) => {
      for (const resolve of waiters) resolve();
      return [];
    };
    if (this.buffer.length < this.highWater || this.closed) this.roomWaiters = settled(this.roomWaiters);
    if (this.buffer.length === 0 || this.closed) this.flushWaiters = settled(this.flushWaiters);
  }

  private async write(batch: readonly ArchiveRow[]): Promise<void> {
    const now = Date.now();
    const rows = batch.filter(
      (row) => row.readingTimeMs >= now - this.options.retentionMs && row.readingTimeMs <= now + FUTURE_TOLERANCE_MS,
    );
    if (rows.length < batch.length) {
      this.counters.outOfRange += batch.length - rows.length;
      this.options.logger.warn({ archive: true, rows: batch.length - rows.length }, 'archive skipped readings timed outside retention or in the future');
    }
    if (rows.length === 0) return;
    await this.ensurePartitions(rows);
    const { rows: result } = await this.options.db.query<{ inserted: number }>(INSERT_BATCH, [
      rows.map((row) => row.meterId),
      rows.map((row) => row.meterNumber),
      rows.map((row) => row.installationId),
      rows.map((row) => row.externalId),
      rows.map((row) => iso(row.readingTimeMs)),
      rows.map((row) => iso(row.receiveTimeMs)),
      rows.map((row) => row.importedWh),
      rows.map((row) => row.exportedWh),
      rows.map((row) => row.powerW),
      rows.map((row) => row.valuesJson),
      iso(rows.reduce((newest, row) => Math.max(newest, row.receiveTimeMs), 0)),
    ]);
    const inserted = result[0]?.inserted ?? 0;
    this.counters.batches += 1;
    this.counters.inserted += inserted;
    this.counters.repeats += rows.length - inserted;
    this.options.onWritten?.(rows, inserted);
  }

  private async ensurePartitions(rows: readonly ArchiveRow[]): Promise<void> {
    const days = new Set(rows.map((row) => Math.floor(row.readingTimeMs / DAY_MS)));
    for (const day of days) {
      if (this.partitions.has(day)) continue;
      const dayStart = iso(day * DAY_MS);
      // Idempotent, so replicas or a restarted process creating the same day do not conflict.
      await this.options.db.query('SELECT reading_archive_ensure_partitions($1, $1)', [dayStart]);
      this.partitions.add(day);
    }
  }
}
