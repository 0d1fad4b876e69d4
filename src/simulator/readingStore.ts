import type { StoredReading } from './model';
import { DAY_MS } from './time';

/**
 * Readings in receive order, kept for the retention window. Order is (receiveTime, meter id, time),
 * which is total and the same in every simulator with the same seed, so a position in it can be
 * handed out as a cursor.
 */

export const RETENTION_MS = DAY_MS;

/** A position in the order; every StoredReading is one. */
export interface ReadingKey {
  receiveTime: number;
  time: number;
  meter: { id: string };
}

export function compareKeys(a: ReadingKey, b: ReadingKey): number {
  if (a.receiveTime !== b.receiveTime) return a.receiveTime - b.receiveTime;
  if (a.meter.id !== b.meter.id) return a.meter.id < b.meter.id ? -1 : 1;
  return a.time - b.time;
}

export interface PageQuery {
  startTime?: number;
  /** Return readings strictly after this position. */
  after?: ReadingKey;
  limit: number;
}

// Pruning advances a start index; the array is compacted only once the dead prefix is large.
const COMPACT_THRESHOLD = 4_096;

export class ReadingStore {
  private entries: StoredReading[] = [];
  private head = 0;
  /** Outlives retention: a meter's latest reading stays known after its log entries expire. */
  private readonly latestByMeter = new Map<string, StoredReading>();

  /** The batch must be sorted and must not precede anything already stored. */
  append(batch: readonly StoredReading[]): void {
    for (const reading of batch) {
      this.entries.push(reading);
      this.recordLatest(reading);
    }
  }

  recordLatest(reading: StoredReading): void {
    const latest = this.latestByMeter.get(reading.meter.id);
    if (!latest || latest.time < reading.time) this.latestByMeter.set(reading.meter.id, reading);
  }

  latest(meterId: string): StoredReading | undefined {
    return this.latestByMeter.get(meterId);
  }

  prune(now: number): void {
    const oldest = now - RETENTION_MS;
    this.head = this.lowerBound((reading) => reading.receiveTime >= oldest);
    if (this.head >= COMPACT_THRESHOLD && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  page(query: PageQuery): { readings: StoredReading[]; hasMore: boolean } {
    const { startTime, after, limit } = query;
    const start = Math.max(
      startTime === undefined ? this.head : this.lowerBound((reading) => reading.receiveTime >= startTime),
      after === undefined ? this.head : this.lowerBound((reading) => compareKeys(reading, after) > 0),
    );
    const end = Math.min(start + limit, this.entries.length);
    return { readings: this.entries.slice(start, end), hasMore: end < this.entries.length };
  }

  /** Snapshot of everything received at or after startTime. */
  since(startTime: number): StoredReading[] {
    return this.entries.slice(this.lowerBound((reading) => reading.receiveTime >= startTime));
  }

  /** First retained index whose entry satisfies a predicate that is monotonic over the order. */
  private lowerBound(isAtOrAfter: (reading: StoredReading) => boolean): number {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (isAtOrAfter(this.entries[middle])) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
