/** Taken items a Fifo may hold on to before it compacts: a queue hovering at a few items does not copy on every take. */
const COMPACT_AFTER = 1024;

/**
 * A first-in, first-out buffer that takes from a moving head rather than with Array#shift, which
 * moves every remaining item on each take. The taken front is let go in one copy once it is as long
 * as what is left and over COMPACT_AFTER (or at once when the head catches up), so a buffer that
 * never runs empty stays bounded by what it holds. Shared by the gateway's client queues, its resume
 * buffer and the simulator's subscriptions.
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

  /** The item `index` places after the oldest, left in place, or undefined past the newest. */
  at(index: number): T | undefined {
    return index >= 0 && index < this.size ? this.items[this.head + index] : undefined;
  }

  /** The oldest item; only call it while size > 0. */
  take(): T {
    const item = this.items[this.head++] as T;
    if (this.head === this.items.length) this.clear();
    else if (this.head >= COMPACT_AFTER && this.head >= this.items.length - this.head) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
