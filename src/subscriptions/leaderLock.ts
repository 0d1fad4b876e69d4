import type Redis from 'ioredis';

/** Extends the lock only if this replica still holds it: a lapsed lock may already be someone else's. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/** Deletes the lock only if this replica still holds it, for the same reason. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * A lease on one Redis key: whoever set it holds it until it stops renewing and the TTL runs out.
 * A crashed holder therefore loses it within `ttlMs`, without anyone having to notice the crash.
 * Redis errors propagate: a holder that cannot confirm its lease must act as if it lost it.
 */
export class LeaderLock {
  constructor(
    private readonly client: Redis,
    private readonly key: string,
    /** Unique per process, so a replica never renews or releases another's lease. */
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /**
   * True if the lock was free and is now ours, or was still ours: a holder that gave up after an
   * error it could not judge may take its own lease straight back instead of waiting out the TTL.
   */
  async acquire(): Promise<boolean> {
    return (await this.client.set(this.key, this.owner, 'PX', this.ttlMs, 'NX')) === 'OK' || (await this.renew());
  }

  /** True if we still hold it, now for another `ttlMs`. */
  async renew(): Promise<boolean> {
    return (await this.client.eval(RENEW, 1, this.key, this.owner, String(this.ttlMs))) === 1;
  }

  /** Hands the lock over at once instead of after the TTL; a no-op if it is no longer ours. */
  async release(): Promise<void> {
    await this.client.eval(RELEASE, 1, this.key, this.owner);
  }
}
