import type { Database } from '../database';
import type { Logger } from '../logging/logger';
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
  /**
   * Rows the writer holds in memory while the database is slow or down; beyond it the buffered rows
   * are dropped (IOmeter keeps them 24 h) and reported through `missing`. Default batchSize × 100.
   */
  maxPending?: number;
  /** Called after each committed batch (the bench measures lag with it). */
  onWritten?: (batch: readonly ArchiveRow[], inserted: number) => void;
  /** A batch committed while missing readings await refetching: the database takes writes. */
  onRecovered?: () => void;
}

/**
 * Receive times the archive knows it lacks, to refetch from IOmeter: readings dropped from memory,
 * or the gap left while no process held the upstream subscription.
 */
export interface MissingRange {
  fromMs: number;
  untilMs: number;
}

export interface ArchiveWriterStats {
  /** Rows committed by this writer (new ones; repeats excluded). */
  inserted: number;
  /** Rows that were already archived (upstream repeats, resume overlap, backfill overlap). */
  repeats: number;
  /** Rows refused for a reading time outside [now - retention, now + 1 day]. */
  outOfRange: number;
  /** Rows dropped from memory because the database could not keep up (see maxPending). */
  droppedFromMemory: number;
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
 * Batches written concurrently. Two keep the database busy while the next batch is sent and
 * index work of one overlaps the other's; ingest measured ~1.1-1.7x a single batch in flight
 * (bench/archiveIngest.ts, noisy machine). More would mostly contend on the same index pages.
 */
const MAX_IN_FLIGHT = 2;

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

const minReceive = (rows: readonly ArchiveRow[]) => rows.reduce((min, row) => Math.min(min, row.receiveTimeMs), Infinity);
const maxReceive = (rows: readonly ArchiveRow[]) => rows.reduce((max, row) => Math.max(max, row.receiveTimeMs), -Infinity);

/**
 * Buffers archive rows and writes them in batches: a full batch as soon as one is buffered, a
 * partial one after flushIntervalMs when nothing is being written, up to MAX_IN_FLIGHT at once.
 *
 * The checkpoint each batch sets says "every row received before this is stored". It is the
 * batch's newest receive time, lowered to just below the oldest row still unwritten elsewhere (in
 * the buffer or in another batch in flight), so a batch that overtakes an earlier one, or commits
 * while an earlier one failed, never claims that one's rows.
 *
 * A failed batch goes back to the head of the buffer and is retried with back-off. Rows lost with
 * the process (a crash, or close() while the database is down) are not lost for good: they are
 * newer than the checkpoint, so the next start fetches them again from IOmeter.
 */
export class ArchiveWriter {
  private buffer: ArchiveRow[] = [];
  private readonly inFlight = new Map<readonly ArchiveRow[], Promise<void>>();
  /** UTC day numbers whose partition is known to exist. */
  private readonly partitions = new Set<number>();
  private ensuring: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private backingOff = false;
  private retryMs = RETRY_INITIAL_MS;
  private closed = false;
  private roomWaiters: Array<() => void> = [];
  private flushWaiters: Array<() => void> = [];
  private readonly counters = { inserted: 0, repeats: 0, outOfRange: 0, droppedFromMemory: 0, batches: 0, failedBatches: 0 };
  private missingRange?: MissingRange;

  constructor(private readonly options: ArchiveWriterOptions) {}

  get stats(): ArchiveWriterStats {
    return { ...this.counters, pending: this.buffer.length + [...this.inFlight.keys()].reduce((sum, batch) => sum + batch.length, 0) };
  }

  /** Receive time of the oldest row not yet committed (missing ones included): a resume must not start after it. */
  get oldestPendingReceiveMs(): number | undefined {
    const oldest = Math.min(this.unwrittenOutsideMs(), ...[...this.inFlight.keys()].map(minReceive));
    return Number.isFinite(oldest) ? oldest : undefined;
  }

  /** After close(): rows added are ignored, so a backfill may as well stop. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Readings known to be missing and not yet refetched (the checkpoint stays below them). */
  get missing(): MissingRange | undefined {
    return this.missingRange;
  }

  /** Records readings the archive lacks; merged with any range already recorded. */
  markMissing(fromMs: number, untilMs: number): void {
    const previous = this.missingRange;
    this.missingRange = { fromMs: Math.min(previous?.fromMs ?? fromMs, fromMs), untilMs: Math.max(previous?.untilMs ?? untilMs, untilMs) };
  }

  /** The readings of `range` are back in the buffer (or were refetched as far as IOmeter had them). */
  refilled(range: MissingRange): void {
    // A range marked during the refetch replaced this one; that one still needs refetching.
    if (this.missingRange === range) this.missingRange = undefined;
  }

  add(row: ArchiveRow): void {
    if (this.closed) return;
    if (this.buffer.length >= (this.options.maxPending ?? this.options.batchSize * 100)) this.dropBuffer();
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
    if (this.isIdle || this.closed) return Promise.resolve();
    const flushed = new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    this.drain();
    return flushed;
  }

  /** Waits for the batches in flight, writes the rest with one attempt per batch, then refuses further rows. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.all(this.inFlight.values());
    clearTimeout(this.retryTimer);
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.batchSize);
      try {
        await this.write(batch, this.checkpointFor(batch));
      } catch (error) {
        this.options.logger.error(
          { archive: true, err: error, unwritten: batch.length + this.buffer.length, from: iso(minReceive(batch)) },
          'archive could not write its last rows on shutdown; the next start fetches them again from IOmeter',
        );
        this.buffer = [];
      }
    }
    this.releaseWaiters();
  }

  /**
   * Memory is bounded; completeness is restored from IOmeter. The range dropped is recorded as
   * missing, so the checkpoint cannot pass it, and the archive refetches it once writes succeed.
   */
  private dropBuffer(): void {
    const fromMs = minReceive(this.buffer);
    const untilMs = maxReceive(this.buffer);
    this.markMissing(fromMs, untilMs);
    this.counters.droppedFromMemory += this.buffer.length;
    this.options.logger.warn(
      { archive: true, rows: this.buffer.length, from: iso(fromMs), until: iso(untilMs) },
      'archive buffer full (database slow or down); dropped readings from memory, to refetch from IOmeter',
    );
    this.buffer = [];
    this.releaseWaiters();
  }

  /** Oldest receive time not committed and not in flight: the buffer, or a missing range. */
  private unwrittenOutsideMs(): number {
    return Math.min(minReceive(this.buffer), this.missingRange?.fromMs ?? Infinity);
  }

  private get highWater(): number {
    return this.options.batchSize * 4;
  }

  private get isIdle(): boolean {
    return this.buffer.length === 0 && this.inFlight.size === 0;
  }

  /** Full batches while a slot is free; a partial one only when nothing is in flight, so batches stay large under load. */
  private drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.backingOff) return;
    while (
      this.inFlight.size < MAX_IN_FLIGHT &&
      (this.buffer.length >= this.options.batchSize || (this.buffer.length > 0 && this.inFlight.size === 0))
    ) {
      this.launch(this.buffer.splice(0, this.options.batchSize));
    }
  }

  private launch(batch: readonly ArchiveRow[]): void {
    const checkpointMs = this.checkpointFor(batch);
    const written = this.write(batch, checkpointMs).then(
      () => {
        this.retryMs = RETRY_INITIAL_MS;
        if (this.missingRange) this.options.onRecovered?.();
      },
      (error: unknown) => {
        this.counters.failedBatches += 1;
        this.options.logger.error(
          { archive: true, err: error, rows: batch.length, pending: this.buffer.length, retryMs: this.retryMs },
          'archive batch failed; retrying',
        );
        this.buffer = [...batch, ...this.buffer];
        this.backingOff = true;
        this.retryTimer = setTimeout(() => {
          this.backingOff = false;
          this.drain();
        }, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      },
    );
    this.inFlight.set(
      batch,
      written.finally(() => {
        this.inFlight.delete(batch);
        this.releaseWaiters();
        if (this.buffer.length > 0) this.drain();
      }),
    );
  }

  /** The batch's newest receive time, kept below every row still unwritten outside it (see the class comment). */
  private checkpointFor(batch: readonly ArchiveRow[]): number {
    let unwrittenMs = this.unwrittenOutsideMs();
    for (const other of this.inFlight.keys()) if (other !== batch) unwrittenMs = Math.min(unwrittenMs, minReceive(other));
    return Math.min(maxReceive(batch), unwrittenMs - 1);
  }

  private releaseWaiters(): void {
    const settled = (waiters: Array<() => void>) => {
      for (const resolve of waiters) resolve();
      return [];
    };
    if (this.buffer.length < this.highWater || this.closed) this.roomWaiters = settled(this.roomWaiters);
    if (this.isIdle || this.closed) this.flushWaiters = settled(this.flushWaiters);
  }

  private async write(batch: readonly ArchiveRow[], checkpointMs: number): Promise<void> {
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
      iso(checkpointMs),
    ]);
    const inserted = result[0]?.inserted ?? 0;
    this.counters.batches += 1;
    this.counters.inserted += inserted;
    this.counters.repeats += rows.length - inserted;
    this.options.onWritten?.(rows, inserted);
  }

  /**
   * Creates the partitions of the batch's days and of the day after each, so the next day's exists
   * before its first reading (no batch races another to create it at midnight). Serialised, since
   * two batches in flight may both meet a new day; the SQL function skips existing partitions.
   */
  private ensurePartitions(rows: readonly ArchiveRow[]): Promise<void> {
    const days = new Set(rows.map((row) => Math.floor(row.readingTimeMs / DAY_MS)));
    const ensured = this.ensuring.then(async () => {
      for (const day of days) {
        if (this.partitions.has(day)) continue;
        await this.options.db.query('SELECT reading_archive_ensure_partitions($1, $2)', [iso(day * DAY_MS), iso((day + 1) * DAY_MS)]);
        this.partitions.add(day);
        this.partitions.add(day + 1);
      }
    });
    this.ensuring = ensured.catch(() => undefined);
    return ensured;
  }
}
