import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RedisConnection } from '../redis/connection';
import type { Budget } from './budgets';

export type Verdict = { admitted: true } | { admitted: false; retryAfterSeconds: number };

/** Redis could not count, and RATE_LIMIT_ON_REDIS_ERROR=closed forbids counting anywhere else. */
export class CounterUnavailableError extends Error {
  constructor(cause: unknown) {
    super('rate-limit store unavailable', { cause });
    this.name = 'CounterUnavailableError';
  }
}

export interface Counter {
  /** Spends `points` of the key's budget; refused once the window's total exceeds the budget. */
  consume(key: string, points: number): Promise<Verdict>;
}

export interface CounterOptions {
  redis?: RedisConnection;
  onRedisError: 'open' | 'closed';
}

/**
 * A fixed-window counter per key. On Redis, rate-limiter-flexible increments and reads the counter
 * in one Lua script, so concurrent requests on any number of replicas are counted exactly (the
 * envelop plugin's RedisStore reads, then writes, and loses counts under concurrency). Without Redis,
 * or while Redis is down with RATE_LIMIT_ON_REDIS_ERROR=open, an in-process counter of the same
 * budget takes over (rate-limiter-flexible's insuranceLimiter); Redis takes back over once it answers.
 */
export function createCounter(name: string, budget: Budget, { redis, onRedisError }: CounterOptions): Counter {
  const options = { points: budget.max, duration: budget.windowMs / 1_000 };
  const inProcess = () => new RateLimiterMemory({ ...options, keyPrefix: name });
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({
        ...options,
        storeClient: redis.client,
        keyPrefix: `${redis.keyPrefix}rl:${name}`,
        // With no offline queue, a command fails at once anyway; this skips even the attempt.
        rejectIfRedisNotReady: true,
        insuranceLimiter: onRedisError === 'open' ? inProcess() : undefined,
      })
    : inProcess();

  return {
    async consume(key, points) {
      try {
        await limiter.consume(key, points);
        return { admitted: true };
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) {
          return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(outcome.msBeforeNext / 1_000)) };
        }
        throw new CounterUnavailableError(outcome);
      }
    },
  };
}
