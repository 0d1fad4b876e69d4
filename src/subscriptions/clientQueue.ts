import { Fifo } from '../shared/fifo';
import { OverLimit } from './overLimit';

/**
 * One client's outbox: a push-driven async iterator with a soft bound. It is a class, not an async
 * generator, so return() takes effect at once even while the consumer is waiting, and the hub
 * stops routing to a client the moment it unsubscribes.
 *
 * The bound is soft (OverLimit): a queue may go over `limit` for up to `overLimitMs`.
 */
export class ClientQueue<T> implements AsyncIterableIterator<T> {
  private readonly items = new Fifo<T>();
  private readonly consumers: Array<{ resolve: (result: IteratorResult<T>) => void; reject: (error: Error) => void }> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private open = true;
  /** Delivered by the next next() call, then the iterator is done. */
  private failure?: Error;
  private readonly overLimit: OverLimit;

  /** `onStop` runs once, however the queue stops: unsubscribe, end or fail. */
  constructor(
    private readonly limit: number,
    overLimitMs: number,
    private readonly onStop: () => void,
  ) {
    this.overLimit = new OverLimit(limit, overLimitMs);
  }

  get isOpen(): boolean {
    return this.open;
  }

  get size(): number {
    return this.items.size;
  }

  hasRoomFor(count: number): boolean {
    return this.size + count <= this.limit;
  }

  /** False when the queue has now been over its limit for longer than allowed: the caller decides what follows. */
  push(item: T): boolean {
    if (!this.open) return true;
    const consumer = this.consumers.shift();
    if (consumer) {
      consumer.resolve({ value: item, done: false });
      return true;
    }
    this.items.push(item);
    return this.overLimit.allows(this.size);
  }

  /** Resolves when the consumer next takes an item, or the queue stops: producers that can wait (the replay) use it with hasRoomFor. */
  drained(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Completes the iterator now; readings still queued are dropped. */
  end(): void {
    this.stop();
  }

  /** The consumer's next (or pending) next() rejects with this error; then the iterator is done. */
  fail(error: Error): void {
    if (!this.open) return;
    const consumer = this.consumers.shift();
    if (consumer) consumer.reject(error);
    else this.failure = error;
    this.stop();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.items.take();
      this.overLimit.allows(this.size);
      this.drainWaiters.splice(0).forEach((resolve) => resolve());
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (!this.open) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.consumers.push({ resolve, reject }));
  }

  /** graphql-js and the transports call this when the client unsubscribes or disconnects. */
  return(): Promise<IteratorResult<T>> {
    this.failure = undefined;
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private stop(): void {
    if (!this.open) return;
    this.open = false;
    this.items.clear();
    this.consumers.splice(0).forEach((consumer) => consumer.resolve({ value: undefined, done: true }));
    this.drainWaiters.splice(0).forEach((resolve) => resolve());
    this.onStop();
  }
}
