import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/logger';
import type { RedisConnection } from '../redis/connection';
import type { AlertMessage } from './types';

/**
 * Carries alerts from the one place rules are evaluated (the process holding the upstream readings
 * subscription) to every replica, whose clients of `myUsageAlerts` receive them, and rule changes
 * the other way. Delivery is at most once: an alert published while Redis is away is lost (and logged).
 */
export interface AlertBus {
  publish(message: AlertMessage): void;
  /** Calls listener for every message, this process's own included; returns the unsubscribe. */
  listen(listener: (message: AlertMessage) => void): () => void;
  close(): Promise<void>;
}

/** Without Redis: one process. */
export function createLocalAlertBus(): AlertBus {
  const emitter = new EventEmitter().setMaxListeners(0);
  return {
    publish: (message) => emitter.emit('message', message),
    listen(listener) {
      emitter.on('message', listener);
      return () => emitter.off('message', listener);
    },
    close: async () => {
      emitter.removeAllListeners();
    },
  };
}

/** With Redis: a pub/sub channel under REDIS_KEY_PREFIX, on a connection of its own (a subscribed connection runs no other command). */
export function createRedisAlertBus(redis: RedisConnection, logger: Logger): AlertBus {
  const channel = `${redis.keyPrefix}alerts`;
  const local = createLocalAlertBus();
  // Queued until connected (the main connection fails fast instead); ioredis subscribes again after a reconnect.
  const subscriber = redis.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  subscriber.on('error', () => {}); // the main connection logs Redis outages
  subscriber.on('message', (_channel: string, text: string) => {
    try {
      local.publish(JSON.parse(text) as AlertMessage);
    } catch (error) {
      logger.warn({ err: error }, 'usage alerts: an unreadable message on the channel was dropped');
    }
  });
  void subscriber.subscribe(channel).catch((error: unknown) => logger.error({ err: error }, 'usage alerts: could not subscribe to the channel'));
  return {
    publish(message) {
      redis.client.publish(channel, JSON.stringify(message)).catch((error: unknown) => {
        logger.warn({ err: error, message: message.type }, 'usage alerts: a message could not be published and is lost');
      });
    },
    listen: local.listen,
    async close() {
      await local.close();
      subscriber.disconnect();
    },
  };
}
