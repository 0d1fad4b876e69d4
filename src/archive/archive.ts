import type { Database } from '../customers/database';
import type { Logger } from '../logger';
import type { MeterReading, PageFetcher, UpstreamConsumer } from '../subscriptions';
import { catchUp, repairDropped } from './catchUp';
import { dropExpiredPartitions } from './retention';
import { toArchiveRow } from './rows';
import { ArchiveWriter, type ArchiveWriterOptions } from './writer';

export interface ReadingArchiveOptions {
  db: Database;
  logger: Logger;
  /** provider.readings pages, for the catch-up after downtime. */
  fetchPage: PageFetcher;
  /** ARCHIVE_RETENTION: partitions wholly older than this are dropped. */
  retentionMs: number;
  batchSize: number;
  flushIntervalMs: number;
  /** How often retention runs (also once at start). Default 1 h: partitions are a day long. */
  retentionIntervalMs?: number;
  onWritten?: ArchiveWriterOptions['onWritten'];
  maxPending?: ArchiveWriterOptions['maxPending'];
}

const RETENTION_INTERVAL_MS = 3_600_000;
/** After a failed refetch of dropped readings (IOmeter unreachable), wait this long before the next try. */
const REPAIR_RETRY_MS = 60_000;

/**
 * Keeps every reading IOmeter sends beyond its 24 h, in reading_archive. Attached to the readings
 * feed as its permanent consumer (createLocalFeed / createClusterFeed `consumer`), so it is fed
 * by whichever process holds the upstream subscription, and catches up before that opens.
 */
export class ReadingArchive implements UpstreamConsumer {
  readonly writer: ArchiveWriter;
  private readonly retentionTimer: NodeJS.Timeout;
  private retention?: Promise<void>;
  private repairing?: Promise<void>;
  private repairNotBeforeMs = 0;

  constructor(private readonly options: ReadingArchiveOptions) {
    this.writer = new ArchiveWriter({ ...options, onRecovered: () => this.repair() });
    this.retentionTimer = setInterval(() => this.applyRetention(), options.retentionIntervalMs ?? RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
    this.applyRetention();
  }

  catchUp(): Promise<number | undefined> {
    const { db, fetchPage, logger } = this.options;
    return catchUp({ db, writer: this.writer, fetchPage, logger });
  }

  onReading(reading: MeterReading): void {
    const row = toArchiveRow(reading);
    if (row) this.writer.add(row);
    else this.options.logger.warn({ archive: true }, 'reading lacks meter, installation or valid times; not archived');
  }

  /** Writes what is buffered and stops; call after the readings feed is closed. */
  async close(): Promise<void> {
    clearInterval(this.retentionTimer);
    await this.retention;
    // The writer first: closing it releases a refetch waiting for room, which then stops.
    await this.writer.close();
    await this.repairing;
  }

  private repair(): void {
    if (this.repairing || Date.now() < this.repairNotBeforeMs) return;
    const { fetchPage, logger } = this.options;
    this.repairing = repairDropped({ writer: this.writer, fetchPage, logger })
      .catch((error) => {
        this.repairNotBeforeMs = Date.now() + REPAIR_RETRY_MS;
        logger.error({ archive: true, err: error }, 'reading archive could not refetch dropped readings; retrying later');
      })
      .finally(() => (this.repairing = undefined));
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
