import type { ReadingFeed } from './feed';
import type { Meter, StoredReading } from './model';
import { hashUnit } from './random';
import { compareKeys, type ReadingStore } from './readingStore';
import type { World } from './world';

/**
 * Produces readings from timestamps, not from timer callbacks: meter m takes reading k at
 * k * interval + phase(m) and the backend receives it a deterministic 50..900 ms later. Each tick
 * emits every reading received in (previous tick, now], so late or skipped timers only delay
 * readings, never lose or repeat them, and the backfill at start-up is just one long tick.
 */

export interface GeneratorOptions {
  readingIntervalMs: number;
  /** `aligned`: every meter reads at multiples of the interval and is received RECEIVE_DELAY_MIN_MS later. */
  readingSchedule: 'spread' | 'aligned';
  /** Fraction of live readings the feed delivers twice. */
  duplicateRate: number;
  /** Readings to backfill at start. */
  historyMs: number;
}

const RECEIVE_DELAY_MIN_MS = 50;
const RECEIVE_DELAY_MAX_MS = 900;

export class ReadingGenerator {
  private watermark = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly world: World,
    private readonly store: ReadingStore,
    private readonly feed: ReadingFeed,
    private readonly options: GeneratorOptions,
    private readonly clock: () => number,
  ) {}

  start(): void {
    this.watermark = this.clock() - this.options.historyMs;
    // Meters retired before the backfill window still have a latest reading.
    for (const meter of this.world.meters()) {
      const latest = this.lastReceivedBy(meter, this.watermark);
      if (latest) this.store.recordLatest(latest);
    }
    this.tick();
    // Tick a few times per interval so readings surface close to their receive time.
    const tickMs = Math.min(Math.max(this.options.readingIntervalMs / 4, 10), 250);
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = this.clock();
    if (now <= this.watermark) return;
    const batch = this.world.meters().flatMap((meter) => this.receivedBetween(meter, this.watermark, now));
    batch.sort(compareKeys);
    this.watermark = now;
    this.store.append(batch);
    this.store.prune(now);
    this.feed.publish(batch.flatMap((reading) => (this.isDuplicated(reading) ? [reading, reading] : [reading])));
  }

  private phase(meter: Meter): number {
    if (this.options.readingSchedule === 'aligned') return 0;
    return Math.floor(hashUnit(meter.id, 'phase') * this.options.readingIntervalMs);
  }

  private reading(meter: Meter, time: number): StoredReading {
    if (this.options.readingSchedule === 'aligned') return { meter, time, receiveTime: time + RECEIVE_DELAY_MIN_MS };
    const delay = Math.floor(hashUnit(meter.id, time, 'receive') * (RECEIVE_DELAY_MAX_MS - RECEIVE_DELAY_MIN_MS + 1));
    return { meter, time, receiveTime: time + RECEIVE_DELAY_MIN_MS + delay };
  }

  /** Reading indexes k the meter takes while active that may be received in (after, upTo]. */
  private candidates(meter: Meter, after: number, upTo: number) {
    const interval = this.options.readingIntervalMs;
    const phase = this.phase(meter);
    const first = Math.max(
      Math.ceil((after - RECEIVE_DELAY_MAX_MS - phase) / interval),
      Math.ceil((meter.activeFrom - phase) / interval),
    );
    let last = Math.floor((upTo - RECEIVE_DELAY_MIN_MS - phase) / interval);
    if (meter.activeUntil !== undefined) last = Math.min(last, Math.ceil((meter.activeUntil - phase) / interval) - 1);
    return { first, last, readingAt: (k: number) => this.reading(meter, k * interval + phase) };
  }

  private receivedBetween(meter: Meter, after: number, upTo: number): StoredReading[] {
    const { first, last, readingAt } = this.candidates(meter, after, upTo);
    const readings: StoredReading[] = [];
    for (let k = first; k <= last; k++) {
      const reading = readingAt(k);
      if (reading.receiveTime > after && reading.receiveTime <= upTo) readings.push(reading);
    }
    return readings;
  }

  private lastReceivedBy(meter: Meter, upTo: number): StoredReading | undefined {
    const { first, last, readingAt } = this.candidates(meter, -Infinity, upTo);
    for (let k = last; k >= first; k--) {
      const reading = readingAt(k);
      if (reading.receiveTime <= upTo) return reading;
    }
    return undefined;
  }

  private isDuplicated(reading: StoredReading): boolean {
    return hashUnit(reading.meter.id, reading.time, 'duplicate') < this.options.duplicateRate;
  }
}
