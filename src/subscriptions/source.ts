import type { Logger } from '../logging/logger';
import type { MeterReading } from './payload';
import type { CatchUpRounds } from './replay';
import type { UpstreamFeedOptions } from './upstreamFeed';
import { UpstreamReadingFeed } from './upstreamFeed';

/**
 * Where a hub's live readings come from. The hub needs only this shape, so the one process-local
 * upstream subscription (the default) and the cluster-wide one shared through Redis
 * (createClusterFeed) are interchangeable.
 */
export interface ReadingSource {
  /** The hub has clients: deliver readings through onReading from now on (with the look-back). */
  start(): void;
  /** The hub has had no clients for its grace period. */
  stop(): Promise<void>;
  /** The hub is shutting down for good; defaults to stop(). */
  close?(): Promise<void>;
  /** Upstream `readings` subscriptions this process holds open or is opening (0 or 1). */
  readonly subscriptions: number;
  /** Between start() and stop() or a failure reported through onFailure. */
  readonly isRunning: boolean;
  /**
   * For sources whose readings carry positions (HubReading.position): catch-up rounds after one of
   * them, or undefined when it is not retained.
   */
  catchUpAfter?(position: string): Promise<CatchUpRounds | undefined>;
}

/** Builds a hub's source from the hub's settings and its sinks (onReading, onFailure). */
export type ReadingSourceFactory = (options: UpstreamFeedOptions) => ReadingSource;

/** Without Redis: this process's own upstream subscription. */
export const localReadingSource: ReadingSourceFactory = (options) => new UpstreamReadingFeed(options);

/**
 * Something that needs every reading IOmeter sends, whether or not any client listens (the
 * reading archive). Only the process holding the upstream subscription feeds it, and while one is
 * attached that subscription stays open.
 */
export interface UpstreamConsumer {
  /**
   * Runs before the upstream subscription opens, or reopens after a failure, so the consumer can
   * note what it missed while none was open. Live readings wait for it: keep it short.
   */
  beforeOpen(): Promise<void>;
  /** Every reading as IOmeter sent it, repeats included. */
  onReading(reading: MeterReading): void;
}

/** The consumer's beforeOpen; a failure is logged, not thrown: clients must not go without live readings for it. */
export async function prepareConsumer(consumer: UpstreamConsumer, logger: Logger): Promise<void> {
  try {
    await consumer.beforeOpen();
  } catch (error) {
    logger.error({ upstream: 'iometer', err: error }, 'readings consumer failed before the feed opened; opening anyway');
  }
}
