import { Fifo } from '../shared/fifo';

/**
 * A push-driven async iterator for subscriptions. Unlike an async generator, return() takes effect
 * immediately even while a consumer is waiting, so a client that unsubscribes (or a dropped socket)
 * releases its feed listener at once instead of after the next reading arrives.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items = new Fifo<T>();
  private waiting?: (result: IteratorResult<T>) => void;
  private closed = false;

  constructor(private readonly onClose: () => void) {}

  push(item: T): void {
    if (this.closed) return;
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.size > 0) return Promise.resolve({ value: this.items.take(), done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.items.clear();
      this.waiting?.({ value: undefined, done: true });
      this.waiting = undefined;
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
