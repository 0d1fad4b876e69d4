/**
 * A first-in, first-out buffer that takes from a moving head rather than with Array#shift, which
 * moves every remaining item on each take; the array is let go whenever the head catches up.
 * Shared by the gateway's client queues and the simulator's subscriptions.
 */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place; only call it while size > 0. */
  peek(): T {
    return this.items[this.head] as T;
  }

  /** The oldest item; only call it while size > 0. */
  take(): T {
    const item = this.items[this.head++] as T;
    if (this.head === this.items.length) this.clear();
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
