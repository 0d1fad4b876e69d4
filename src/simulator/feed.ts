import { AsyncQueue } from './asyncQueue';
import type { StoredReading } from './model';
import type { ReadingStore } from './readingStore';
import type { SimulatorStats } from './stats';

type Listener = (batch: readonly StoredReading[]) => void;

/** Live readings as they are received, including the duplicates the real API may send. */
export class ReadingFeed {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(batch: readonly StoredReading[]): void {
    for (const listener of this.listeners) listener(batch);
  }
}

export interface StreamSources {
  store: ReadingStore;
  feed: ReadingFeed;
  stats: SimulatorStats;
}

export interface StreamOptions<T> {
  /** Replay stored readings received at or after this time, and only stream those live. */
  startTime?: number;
  /** Turns one reading into the subscription's payloads (none to skip it). */
  expand: (reading: StoredReading) => T[];
}

export function openReadingStream<T>(sources: StreamSources, options: StreamOptions<T>): AsyncIterableIterator<T> {
  const { startTime, expand } = options;
  const queue = new AsyncQueue<T>(() => {
    unsubscribe();
    sources.stats.activeSubscriptions -= 1;
  });
  const enqueue = (reading: StoredReading) => {
    for (const item of expand(reading)) queue.push(item);
  };
  // Taking the snapshot and subscribing in one synchronous step means no generator tick can run in
  // between: the replay ends exactly where the live part begins, with no gap and no overlap.
  if (startTime !== undefined) sources.store.since(startTime).forEach(enqueue);
  const unsubscribe = sources.feed.subscribe((batch) => {
    for (const reading of batch) {
      if (startTime === undefined || reading.receiveTime >= startTime) enqueue(reading);
    }
  });
  sources.stats.activeSubscriptions += 1;
  return queue;
}
