import type { ReadingSource, ReadingSourceFactory, UpstreamConsumer } from './source';
import { localReadingSource, prepareConsumer } from './source';
import { UpstreamReadingFeed, type UpstreamFeedOptions } from './upstreamFeed';

export interface LocalFeedOptions {
  /** Keeps the upstream subscription open for good and feeds it every reading (the archive). */
  consumer?: UpstreamConsumer;
}

/** After the upstream failed for good, how long before the feed opens it again for its consumer. */
const REOPEN_AFTER_FAILURE_MS = 5_000;

/** Without Redis: this process's own upstream subscription, optionally with a permanent consumer. */
export function createLocalFeed({ consumer }: LocalFeedOptions = {}): ReadingSourceFactory {
  return consumer ? (feed) => new ConsumedReadingFeed(feed, consumer) : localReadingSource;
}

/**
 * The process's upstream subscription with a consumer that needs all of it: it opens at once
 * (after the consumer's beforeOpen), ignores the hub's stop() when clients leave, and reopens by
 * itself after a failure. The hub still gets every reading and every failure as before.
 */
class ConsumedReadingFeed implements ReadingSource {
  private readonly upstream: UpstreamReadingFeed;
  private opening = false;
  private closed = false;
  private reopenTimer?: NodeJS.Timeout;

  constructor(
    private readonly feed: UpstreamFeedOptions,
    private readonly consumer: UpstreamConsumer,
  ) {
    this.upstream = new UpstreamReadingFeed({
      ...feed,
      onReading: (reading, raw) => {
        consumer.onReading(raw);
        feed.onReading(reading, raw);
      },
      onFailure: (error) => {
        feed.onFailure(error);
        this.reopenTimer = setTimeout(() => void this.open(), REOPEN_AFTER_FAILURE_MS);
      },
    });
    void this.open();
  }

  get subscriptions(): number {
    return this.upstream.subscriptions;
  }

  get isRunning(): boolean {
    return this.opening || this.upstream.isRunning;
  }

  start(): void {
    void this.open();
  }

  /** The consumer still needs the readings: clients leaving changes nothing. */
  async stop(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    await this.upstream.stop();
  }

  private async open(): Promise<void> {
    if (this.closed || this.opening || this.upstream.isRunning) return;
    clearTimeout(this.reopenTimer);
    this.opening = true;
    try {
      await prepareConsumer(this.consumer, this.feed.logger);
    } finally {
      this.opening = false;
    }
    if (!this.closed) this.upstream.start();
  }
}
