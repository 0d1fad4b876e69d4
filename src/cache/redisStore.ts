import type Redis from 'ioredis';
import type { Logger } from '../logging/logger';
import type { RedisConnection } from '../redis/connection';
import { withTimeout } from '../shared/timeout';
import { decodeEntry, encodeEntry } from './servedEntry';
import type { CacheStats } from './stats';
import type { CacheEntity, ResponseStore } from './store';

/*
 * Response cache in Redis, shared by every gateway replica. Keys, all under REDIS_KEY_PREFIX + "cache:":
 *
 *   cache:r:<response id>   the response as a hit serves it (src/cache/servedEntry.ts), with its TTL (PX)
 *   cache:t:<tag>           sorted set of the response keys carrying the tag, scored by their expiry time
 *   cache:index             sorted set of every key above, scored by expiry, so the whole cache can be
 *                           dropped (flush) without KEYS or SCAN
 *
 * Tags are what the response cache plugin collects: the type name (`Customer`) and `Type:id`
 * (`Customer:3f2…`) of every entity in the response, plus the gateway's lookup tags. Invalidating a tag
 * deletes the members of its set and the set itself, in one Lua script: O(responses carrying the tag),
 * never a scan of the keyspace. Every write prunes expired members, and every key has a TTL (a tag set
 * lives as long as its longest-lived response), so nothing accumulates.
 *
 * Requires Redis 6.2+ (ZADD GT). The scripts touch keys read from the sets, so on Redis Cluster every
 * key must share one hash slot: use a hash tag in REDIS_KEY_PREFIX, e.g. `{iometer-gateway}:`.
 *
 * Failing open: while Redis is unreachable (or a command fails) `get` answers "not cached", `set` is
 * skipped and invalidations are queued; they are applied when the connection is ready again, and until
 * then nothing is served from the cache, so a mutation made during an outage can never be followed by
 * a stale hit. RedisConnection logs the outage itself; this store logs nothing per request.
 */

const SET_SCRIPT = `
local ttl = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expires = now + ttl
local function extend(key)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], expires, KEYS[1])
for i = 3, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  redis.call('ZADD', KEYS[i], expires, KEYS[1])
  extend(KEYS[i])
  redis.call('ZADD', KEYS[2], 'GT', expires, KEYS[i])
end
extend(KEYS[2])
return #KEYS - 2
`;

/** Deletes every key listed in the given sorted sets, then the sets. Used for tags and for the index. */
const DROP_SCRIPT = `
local dropped = 0
for i = 1, #KEYS do
  local members = redis.call('ZRANGE', KEYS[i], 0, -1)
  for first = 1, #members, 500 do
    redis.call('UNLINK', unpack(members, first, math.min(first + 499, #members)))
  end
  dropped = dropped + #members
  redis.call('UNLINK', KEYS[i])
end
return dropped
`;

interface CacheScripts {
  iometerResponseCacheSet(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  iometerResponseCacheDrop(numberOfKeys: number, ...keys: string[]): Promise<number>;
}

/**
 * A command not answered within this is treated as failed (the request proceeds uncached): a Redis
 * that hangs rather than refuses must not hold requests up. Well above a healthy round trip.
 */
export const STORE_TIMEOUT_MS = 500;

const timeout = <T>(command: Promise<T>): Promise<T> =>
  withTimeout(command, STORE_TIMEOUT_MS, `no answer from Redis within ${STORE_TIMEOUT_MS} ms`);

/** Invalidations remembered during an outage; beyond this the whole cache is dropped on reconnect instead. */
const MAX_PENDING_INVALIDATIONS = 10_000;
/** Responses larger than this (serialised) are not cached. */
export const MAX_ENTRY_CHARS = 1_000_000;

export interface RedisResponseStore extends ResponseStore {
  /** Drops every cached response and tag of this deployment (REDIS_KEY_PREFIX) without KEYS or SCAN. */
  flush(): Promise<void>;
}

export interface RedisResponseStoreOptions {
  redis: RedisConnection;
  logger: Logger;
  stats: CacheStats;
}

function tagsOf(entities: Iterable<CacheEntity>): string[] {
  const tags = new Set<string>();
  for (const { typename, id } of entities) {
    tags.add(typename);
    if (id != null) tags.add(`${typename}:${id}`);
  }
  return [...tags];
}

function invalidationTagsOf(entities: Iterable<CacheEntity>): string[] {
  const tags = new Set<string>();
  for (const { typename, id } of entities) tags.add(id == null ? typename : `${typename}:${id}`);
  return [...tags];
}

export function createRedisResponseStore({ redis, logger, stats }: RedisResponseStoreOptions): RedisResponseStore {
  const client = redis.client as Redis & CacheScripts;
  client.defineCommand('iometerResponseCacheSet', { lua: SET_SCRIPT });
  client.defineCommand('iometerResponseCacheDrop', { lua: DROP_SCRIPT });

  const base = `${redis.keyPrefix}cache:`;
  const responseKey = (id: string) => `${base}r:${id}`;
  const tagKey = (tag: string) => `${base}t:${tag}`;
  const indexKey = `${base}index`;

  const pending = new Set<string>();
  let dropAllPending = false;
  let replaying: Promise<void> | undefined;
  const inflight = new Set<Promise<void>>();
  let failing = false;

  const succeeded = () => {
    failing = false;
  };
  const failed = (error: unknown) => {
    stats.storeErrors += 1;
    // While the connection is down RedisConnection has logged it; only a failure on a ready connection is news.
    if (!failing && redis.isReady()) {
      failing = true;
      logger.warn({ reason: (error as Error).message }, 'response cache: Redis command failed; serving uncached until it succeeds again');
    }
  };

  function queue(tags: string[]): void {
    if (dropAllPending) return;
    for (const tag of tags) pending.add(tag);
    if (pending.size > MAX_PENDING_INVALIDATIONS) {
      pending.clear();
      dropAllPending = true;
    }
  }

  const dropAll = () => client.iometerResponseCacheDrop(1, indexKey);

  /** Applies what was queued while Redis was unreachable; until it has, `get` serves nothing. */
  function replay(): Promise<void> {
    if (replaying || !redis.isReady() || (pending.size === 0 && !dropAllPending)) return replaying ?? Promise.resolve();
    replaying = (async () => {
      const tags = [...pending];
      const dropEverything = dropAllPending;
      try {
        if (dropEverything) await timeout(dropAll());
        else await timeout(client.iometerResponseCacheDrop(tags.length, ...tags.map(tagKey)));
        for (const tag of tags) pending.delete(tag);
        if (dropEverything) {
          dropAllPending = false;
          pending.clear();
        }
        succeeded();
        logger.info(
          dropEverything ? { dropped: 'all' } : { invalidations: tags.length },
          'response cache: applied the invalidations queued while Redis was unreachable',
        );
      } catch (error) {
        failed(error);
      } finally {
        replaying = undefined;
      }
    })();
    return replaying;
  }
  redis.client.on('ready', () => void replay());

  async function invalidateTags(tags: string[]): Promise<void> {
    if (!redis.isReady()) return queue(tags);
    try {
      await timeout(client.iometerResponseCacheDrop(tags.length, ...tags.map(tagKey)));
      succeeded();
    } catch (error) {
      queue(tags);
      failed(error);
    }
  }

  return {
    async get(id) {
      if (!redis.isReady()) return null;
      if (pending.size > 0 || dropAllPending) {
        void replay();
        return null;
      }
      try {
        const raw = await timeout(client.get(responseKey(id)));
        succeeded();
        return raw === null ? null : (decodeEntry(raw) ?? null);
      } catch (error) {
        failed(error);
        return null;
      }
    },

    async set(id, result, entities, ttl) {
      if (!redis.isReady() || !(ttl > 0) || !Number.isFinite(ttl)) return;
      const payload = encodeEntry(result);
      if (payload.length > MAX_ENTRY_CHARS) return;
      const tags = tagsOf(entities).map(tagKey);
      try {
        await timeout(client.iometerResponseCacheSet(2 + tags.length, responseKey(id), indexKey, ...tags, payload, Math.ceil(ttl)));
        succeeded();
      } catch (error) {
        failed(error);
      }
    },

    invalidate(entities) {
      const tags = invalidationTagsOf(entities);
      if (tags.length === 0) return;
      const done = invalidateTags(tags);
      inflight.add(done);
      void done.finally(() => inflight.delete(done));
      return done;
    },

    async settled() {
      await Promise.all([...inflight]);
    },

    async flush() {
      await dropAll();
      pending.clear();
      dropAllPending = false;
    },
  };
}
