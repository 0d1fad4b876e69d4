import type { Database } from '../database';
import type { Logger } from '../logging/logger';
import type { MeterReading, PageFetcher, UpstreamConsumer } from '../subscriptions';
import { committedUntilMs, noteGap, refetchMissing } from './catchUp';
import { dropExpiredPartitions } from './retention';
import { toArchiveRow } from './rows';
import { ArchiveWriter, type ArchiveWriterOptions } from './writer';

export interface ReadingArchiveOptions {
  db: Database;
  logger: Logger;
  /** provider.readings pages, to refetch what the archive missed. */
  fetchPage: PageFetcher;
  /** ARCHIVE_RETENTION: partitions wholly older than this are dropped. */
  retentionMs: number;
  batchSize: number;
  flushIntervalMs: number;
  maxPending?: ArchiveWriterOptions['maxPending'];
}

/** How often retention runs (also once at start): hourly is plenty, partitions are a day long. */
const RETENTION_INTERVAL_MS = 3_600_000;
/** After a failed refetch (IOmeter unreachable), wait this long before the next try. */
const REFETCH_RETRY_MS = 60_000;

/**
 * Keeps every reading IOmeter sends beyond its 24 h, in reading_archive. Attached to the readings
 * feed as its permanent consumer (createLocalFeed / createClusterFeed `consumer`), so it is fed
 * by whichever process holds the upstream subscription. Whatever it misses (downtime, a failover,
 * readings dropped while the database was down) it refetches from provider.readings.
 */
export class ReadingArchive implements UpstreamConsumer {
  readonly writer: ArchiveWriter;
  private readonly retentionTimer: NodeJS.Timeout;
  private retention?: Promise<void>;
  private refetching?: Promise<void>;
  private refetchNotBeforeMs = 0;

  constructor(private readonly options: ReadingArchiveOptions) {
    this.writer = new ArchiveWriter({ ...options, onRecovered: () => this.refetch() });
    this.retentionTimer = setInterval(() => this.applyRetention(), RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
    this.applyRetention();
  }

  /** Notes the gap since the archive's last reading, then refetches it while live readings flow. */
  async beforeOpen(): Promise<void> {
    const { db, logger } = this.options;
    if (await noteGap({ db, writer: this.writer, logger })) this.refetch();
  }

  onReading(reading: MeterReading): void {
    const row = toArchiveRow(reading);
    if (row) this.writer.add(row);
    else this.options.logger.warn({ archive: true }, 'reading lacks meter, installation or valid times; not archived');
  }

  /**
   * Seconds from the receive time of the newest committed reading to now, from the checkpoint every
   * replica shares (whichever process archives); undefined before anything was archived.
   */
  async lagSeconds(): Promise<number | undefined> {
    const until = await committedUntilMs(this.options.db);
    return until === undefined ? undefined : Math.max(0, (Date.now() - until) / 1_000);
  }

  /** Writes what is buffered and stops; call after the readings feed is closed. */
  async close(): Promise<void> {
    clearInterval(this.retentionTimer);
    await this.retention;
    // The writer first: closing it releases a refetch waiting for room, which then stops.
    await this.writer.close();
    await this.refetching;
  }

  /** One refetch at a time; a range marked meanwhile is taken by the next (see ArchiveWriter.refilled). */
  private refetch(): void {
    if (this.refetching || Date.now() < this.refetchNotBeforeMs) return;
    const { fetchPage, logger } = this.options;
    this.refetching = refetchMissing({ writer: this.writer, fetchPage, logger })
      .then(
        () => true,
        (error: unknown) => {
          this.refetchNotBeforeMs = Date.now() + REFETCH_RETRY_MS;
          logger.error({ archive: true, err: error }, 'reading archive could not refetch missing readings; retrying later');
          return false;
        },
      )
      .then((succeeded) => {
        this.refetching = undefined;
        if (succeeded && this.writer.missing && !this.writer.isClosed) this.refetch();
      });
  }

  private applyRetention(): void {
    if (this.retention) return;
    const { db, logger, retentionMs } = this.options;
    this.retention = dropExpiredPartitions(db, retentionMs)
      .then((dropped) => {
        if (dropped.length > 0) logger.info({ archive: true, dropped, retentionMs }, 'reading archive partitions dropped by retention');
      })
      .catch((error) => logger.error({ archive: true, err: error }, 'reading archive retention failed; retrying at the next run'))
      .finally(() => (this.retention = undefined));
  }
}
