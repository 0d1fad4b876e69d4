/**
 * The slow-consumer rule: a backlog may go over `limit` (readings arrive in bursts: a fresh start or
 * a resume delivers seconds of readings in one event-loop turn); only one that stays over it for
 * longer than `overLimitMs` belongs to a consumer that is not keeping up. The backlog is a client's
 * queued results, or the frames its socket has not yet written out.
 */
export class OverLimit {
  private since?: number;

  constructor(
    private readonly limit: number,
    private readonly overLimitMs: number,
  ) {}

  /** False when the backlog has now been over the limit for longer than allowed. */
  allows(backlog: number): boolean {
    if (backlog <= this.limit) {
      this.since = undefined;
      return true;
    }
    const now = Date.now();
    this.since ??= now;
    return now - this.since <= this.overLimitMs;
  }
}
