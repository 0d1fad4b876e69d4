import { LRUCache } from 'lru-cache';
import { Fifo } from '../shared/fifo';
import type { MeterReading } from './payload';

/**
 * What the cluster leader could not publish while Redis was away: the readings, oldest first, to add
 * to the stream once it is back, and the keys of the readings its own hub was given directly
 * meanwhile, so that its reader does not hand them over a second time when they arrive through the
 * stream. Both are bounded: past `max` readings the oldest are dropped (and counted); the stream's
 * other readers would miss those, the leader's own clients never do.
 */
export class PublishBacklog {
  private readonly waiting = new Fifo<MeterReading>();
  private readonly direct: LRUCache<string, true>;
  dropped = 0;

  constructor(private readonly max: number) {
    this.direct = new LRUCache({ max: 2 * max });
  }

  get size(): number {
    return this.waiting.size;
  }

  hold(reading: MeterReading): void {
    this.waiting.push(reading);
    if (this.waiting.size > this.max) {
      this.waiting.take();
      this.dropped += 1;
    }
  }

  /** The oldest held reading, left in place until `published` (call only while size > 0). */
  oldest(): MeterReading {
    return this.waiting.peek();
  }

  /** The oldest held reading made it into the stream. */
  published(): void {
    this.waiting.take();
  }

  noteDeliveredDirectly(key: string): void {
    this.direct.set(key, true);
  }

  /** Whether the hub already had this reading directly; forgets it, as the stream brings it once. */
  takeDeliveredDirectly(key: string): boolean {
    return this.direct.delete(key);
  }
}
