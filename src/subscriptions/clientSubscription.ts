import { GraphQLError } from 'graphql';
import { ClientQueue } from './clientQueue';
import { DedupWindow } from './dedup';
import type { HubReading } from './payload';
import { isAfter, type Position } from './positions';

export const SLOW_CONSUMER = 'SLOW_CONSUMER';

export function slowConsumerError(bufferSize: number, slowConsumerMs: number): GraphQLError {
  return new GraphQLError(
    `The subscription stayed more than ${bufferSize} readings behind for over ${slowConsumerMs} ms and was closed. ` +
      'Subscribe again with startTime set to the last receiveTime you got to resume without a gap.',
    { extensions: { code: SLOW_CONSUMER } },
  );
}

/** Shared with the hub, which reports them as stats. */
export interface DeliveryCounters {
  delivered: number;
  duplicatesDropped: number;
}

export interface ClientSubscriptionOptions<T> {
  /** The installation this client is scoped to; undefined for every installation. */
  externalId?: string;
  /** Only readings received at or after this time (the client's startTime); set means a replay runs first. */
  sinceMs?: number;
  /** Only readings after this position, where their positions compare (a resume; see positions.ts). */
  after?: Position;
  /** What the client receives for one reading: the MeterReading itself, or filtered per-value Readings. */
  select: (reading: HubReading) => readonly T[];
  bufferSize: number;
  /** How long the queue may stay over bufferSize before the client is closed with SLOW_CONSUMER. */
  slowConsumerMs: number;
  /** Dedup window for the seam between replay and live; the hub's overlap plus margin. */
  seamWindowMs: number;
  counters: DeliveryCounters;
  onStop: () => void;
}

/**
 * One client subscription. Live readings arrive through offer(); a client with a startTime first
 * gets the replay (deliverReplayed) while its live readings wait in `pending`, then goLive() flushes
 * them. Both halves pass through one seam dedup window, so the client sees each reading once and
 * in order: replay first, then live.
 */
export class ClientSubscription<T> {
  readonly queue: ClientQueue<T>;
  readonly externalId?: string;
  /** Live readings held back while the replay runs. */
  private pending?: HubReading[];
  /**
   * Bumped whenever `pending` outgrows the buffer and is discarded. Discarded readings are stored
   * upstream, so the replay recovers them by paging once more (see replay.ts); memory stays bounded
   * however slow the replay is.
   */
  pendingDiscards = 0;
  private seam?: DedupWindow;
  /** Receive time of the last replayed reading; the seam is dropped once live is a window past it. */
  private replayedUpToMs = -Infinity;

  constructor(private readonly options: ClientSubscriptionOptions<T>) {
    this.externalId = options.externalId;
    this.queue = new ClientQueue<T>(options.bufferSize, options.slowConsumerMs, options.onStop);
    if (options.sinceMs !== undefined) {
      this.pending = [];
      this.seam = new DedupWindow(options.seamWindowMs);
    }
  }

  /** A live reading for this client's scope (the fan-out index already matched the installation). */
  offer(reading: HubReading): void {
    if (!this.queue.isOpen || !this.isSince(reading)) return;
    if (!this.pending) {
      this.deliver(reading);
      return;
    }
    this.pending.push(reading);
    if (this.pending.length > this.options.bufferSize) {
      this.pending = [];
      this.pendingDiscards += 1;
    }
  }

  get isOpen(): boolean {
    return this.queue.isOpen;
  }

  /** Resolves once the queue can take one more replayed reading, or the client has stopped. */
  async roomForReplay(): Promise<void> {
    while (this.queue.isOpen && !this.queue.hasRoomFor(1)) await this.queue.drained();
  }

  /**
   * Resolves once the queue can take every held-back live reading at once, or the client has
   * stopped. The flush in goLive() then cannot overflow a client that is merely behind because of
   * the replay. `pending` may grow (or be discarded) meanwhile, hence the re-check.
   */
  async roomForPending(): Promise<void> {
    while (this.queue.isOpen && !this.queue.hasRoomFor(this.pending?.length ?? 0)) await this.queue.drained();
  }

  /** A reading from the replay pages, which hold every installation. Call after roomForReplay(). */
  deliverReplayed(reading: HubReading): void {
    if (reading.receiveMs > this.replayedUpToMs) this.replayedUpToMs = reading.receiveMs;
    if (this.options.externalId !== undefined && reading.externalId !== this.options.externalId) return;
    if (this.isSince(reading)) this.deliver(reading);
  }

  /** The replay has caught up: release the held-back live readings (after roomForPending) and stream live. */
  goLive(): void {
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const reading of pending) {
      if (!this.queue.isOpen) return;
      this.deliver(reading);
    }
  }

  fail(error: Error): void {
    this.queue.fail(error);
  }

  end(): void {
    this.queue.end();
  }

  private isSince(reading: HubReading): boolean {
    const { sinceMs, after } = this.options;
    return (sinceMs === undefined || reading.receiveMs >= sinceMs) && (after === undefined || isAfter(reading.position, after));
  }

  private deliver(reading: HubReading): void {
    const { counters } = this.options;
    if (this.seam) {
      if (!this.seam.admit(reading.key, reading.receiveMs)) {
        counters.duplicatesDropped += 1;
        return;
      }
      // Once live readings are a full window past the replay, the seam can hold nothing the hub's
      // own dedup does not, so stop paying for it.
      if (!this.pending && reading.receiveMs - this.options.seamWindowMs > this.replayedUpToMs) this.seam = undefined;
    }
    for (const item of this.options.select(reading)) {
      if (!this.queue.push(item)) {
        this.queue.fail(slowConsumerError(this.options.bufferSize, this.options.slowConsumerMs));
        return;
      }
      counters.delivered += 1;
    }
  }
}
