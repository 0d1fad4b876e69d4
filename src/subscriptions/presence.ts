import type Redis from 'ioredis';

/**
 * Which replicas have clients: a sorted set of replica ids scored by when their claim expires.
 * A replica refreshes its claim while it has clients and withdraws it when it has none; a crashed
 * one simply stops refreshing, and its claim no longer counts once the score is in the past.
 */
export class Presence {
  constructor(
    private readonly client: Redis,
    private readonly key: string,
    private readonly replicaId: string,
    private readonly ttlMs: number,
  ) {}

  async refresh(): Promise<void> {
    // The key's own TTL only keeps a deployment that went away for good from leaving it behind.
    await this.client.multi().zadd(this.key, Date.now() + this.ttlMs, this.replicaId).pexpire(this.key, this.ttlMs * 10).exec();
  }

  async withdraw(): Promise<void> {
    await this.client.zrem(this.key, this.replicaId);
  }

  /** Replicas with clients now; expired claims are pruned on the way, so the set stays small. */
  async count(): Promise<number> {
    const now = Date.now();
    const results = await this.client.multi().zremrangebyscore(this.key, '-inf', now).zcard(this.key).exec();
    const [error, count] = results?.[1] ?? [new Error('presence count aborted')];
    if (error) throw error;
    return Number(count);
  }
}
