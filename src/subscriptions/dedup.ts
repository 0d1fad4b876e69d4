/**
 * Remembers the readings seen within the last `windowMs` of receive time, so a repeat is dropped
 * with memory bounded by the reading rate times the window, not by uptime.
 *
 * Repeats come from IOmeter itself (the API warns a reading may arrive twice), from resuming after
 * a reconnect with an overlap, and from the seam between a client's replay and the live feed. All
 * of them re-send readings received at most `overlap` before the newest one, so a window of
 * overlap plus a margin catches every repeat.
 */
export class DedupWindow {
  private readonly seen = new Map<string, number>();
  /** Keys in insertion order, pruned from the head; `head` avoids shifting the array on every prune. */
  private order: Array<{ key: string; receiveMs: number }> = [];
  private head = 0;
  private newestMs = -Infinity;

  constructor(private readonly windowMs: number) {}

  /**
   * True the first time a reading is offered. False for a repeat, and for a reading received
   * before the window: its first copy may already have been forgotten, and nothing legitimately
   * arrives that late (the upstream streams in receive order), so it is treated as a repeat.
   */
  admit(key: string, receiveMs: number): boolean {
    if (receiveMs < this.newestMs - this.windowMs || this.seen.has(key)) return false;
    this.seen.set(key, receiveMs);
    this.order.push({ key, receiveMs });
    if (receiveMs > this.newestMs) {
      this.newestMs = receiveMs;
      this.prune();
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(): void {
    const horizon = this.newestMs - this.windowMs;
    // Insertion order is receive order except for the few re-sent readings, which only linger a
    // little longer; everything still in the window stays.
    while (this.head < this.order.length && this.order[this.head].receiveMs < horizon) {
      this.seen.delete(this.order[this.head].key);
      this.head += 1;
    }
    if (this.head > 1_024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
