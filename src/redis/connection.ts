import Redis from 'ioredis';
import type { Logger } from '../logging/logger';

/**
 * The gateway's shared Redis connection (REDIS_URL), or none for the in-memory embedded default.
 * Commands fail fast while Redis is down (no offline queue, one attempt), so callers can fail open
 * instead of piling up requests; the client keeps reconnecting in the background. Outages are
 * logged once when they start and once when they end, never per request.
 */
export interface RedisConnection {
  client: Redis;
  /** Keys of this deployment start with this (REDIS_KEY_PREFIX). */
  keyPrefix: string;
  /** False between a connection loss and the next successful reconnect. */
  isReady(): boolean;
  close(): Promise<void>;
}

/** The longest wait between two reconnect attempts: a replica may find Redis back this much later than another. */
export const MAX_RECONNECT_DELAY_MS = 2_000;

export function openRedis(url: string, keyPrefix: string, logger: Logger): RedisConnection {
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
  });
  let down = false;
  client.on('ready', () => {
    if (down) logger.warn({ redis: 'up' }, 'Redis is reachable again');
    down = false;
  });
  client.on('error', (error) => {
    if (down) return;
    down = true;
    logger.error({ redis: 'down', reason: error.message }, 'Redis is unreachable; cache fails open, rate limits fall back');
  });
  return {
    client,
    keyPrefix,
    isReady: () => client.status === 'ready',
    close: async () => {
      client.disconnect();
    },
  };
}
