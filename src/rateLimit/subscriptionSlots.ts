import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../redis/connection';
import { CounterUnavailableError } from './counters';

export interface SubscriptionSlot {
  /** Idempotent. */
  release(): void;
}

export interface SubscriptionSlots {
  /**
   * A slot for one more open subscription of the client, or undefined when it is at the cap.
   * Throws CounterUnavailableError when Redis is down and RATE_LIMIT_ON_REDIS_ERROR=closed.
   */
  acquire(clientKey: string): Promise<SubscriptionSlot | undefined>;
}

export interface SubscriptionSlotOptions {
  max: number;
  redis?: RedisConnection;
  onRedisError: 'open' | 'closed';
  /** How long a slot outlives the last renewal of the replica holding it (a crashed replica's slots expire). */
  leaseMs: number;
}

/** Redis server time in ms, so replicas with skewed clocks agree on which leases have expired. */
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] = the client's lease set; ARGV = max, member, leaseMs. 1 if a slot was taken, else 0. */
const ACQUIRE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** KEYS[1] = the client's lease set; ARGV = leaseMs, members…: extends (or restores, after an outage) the leases. */
const RENEW = `${NOW}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/**
 * The cap on concurrent subscriptions per client (RATE_LIMIT_MAX_SUBSCRIPTIONS). With Redis it holds
 * across replicas: each open subscription is a lease in a sorted set per client, taken atomically by a
 * Lua script, renewed by the replica holding it and dropped when the subscription ends; a replica that
 * dies without releasing its leases loses them after `leaseMs`. Without Redis, or while Redis is down
 * with RATE_LIMIT_ON_REDIS_ERROR=open, the cap counts this process's subscriptions only.
 */
export function createSubscriptionSlots({ max, redis, onRedisError, leaseMs }: SubscriptionSlotOptions): SubscriptionSlots {
  /** This process's open subscriptions: client key → lease ids. */
  const open = new Map<string, Set<string>>();
  let renewal: NodeJS.Timeout | undefined;
  const redisKey = (client: string) => `${redis!.keyPrefix}rl:subscriptions:${client}`;

  function renewAll(): void {
    for (const [client, members] of open) {
      redis!.client.eval(RENEW, 1, redisKey(client), leaseMs, ...members).catch(() => {
        // Redis is down (RedisConnection logs that once); the leases are restored on the next renewal.
      });
    }
  }

  function hold(client: string, member: string): SubscriptionSlot {
    const members = open.get(client) ?? new Set<string>();
    members.add(member);
    open.set(client, members);
    if (redis && !renewal) renewal = setInterval(renewAll, leaseMs / 3).unref();
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        members.delete(member);
        if (members.size === 0) open.delete(client);
        if (open.size === 0 && renewal) {
          clearInterval(renewal);
          renewal = undefined;
        }
        redis?.client.zrem(redisKey(client), member).catch(() => {
          // The lease expires on its own.
        });
      },
    };
  }

  const openHere = (client: string) => open.get(client)?.size ?? 0;

  return {
    async acquire(client) {
      const member = randomUUID();
      if (redis) {
        try {
          if (!redis.isReady()) throw new Error('Redis connection is not ready');
          const granted = await redis.client.eval(ACQUIRE, 1, redisKey(client), max, member, leaseMs);
          return granted === 1 ? hold(client, member) : undefined;
        } catch (error) {
          if (onRedisError === 'closed') throw new CounterUnavailableError(error);
          // Open: fall back to this process's own count.
        }
      }
      return openHere(client) < max ? hold(client, member) : undefined;
    },
  };
}
