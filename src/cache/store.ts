import { createInMemoryCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { servedEntryOf } from './servedEntry';

/** `{ typename, id? }` as the response cache collects it: `Customer` + id, or a bare type name. */
export type CacheEntity = Parameters<Cache['invalidate']>[0] extends Iterable<infer Entity> ? Entity : never;

/**
 * A response cache store (the plugin's `Cache`: get, set, invalidate) that the gateway can also wait
 * on. `set` and `invalidate` never reject and `get` answers null instead of failing: a store problem
 * costs a cache miss, never a failed request.
 */
export interface ResponseStore extends Cache {
  /** Resolves once every invalidation started so far has been applied (or queued for replay). */
  settled(): Promise<void>;
}

/** Entries the in-memory store keeps (least recently used go first). */
export const IN_MEMORY_MAX_ENTRIES = 1_000;

/** The embedded default when REDIS_URL is unset: per process, lost on restart. */
export function createMemoryResponseStore(): ResponseStore {
  const cache = createInMemoryCache({ max: IN_MEMORY_MAX_ENTRIES });
  return {
    get: (id) => cache.get(id),
    set: (id, result, entities, ttl) => cache.set(id, servedEntryOf(result), entities, ttl),
    invalidate: (entities) => cache.invalidate(entities),
    settled: async () => {},
  };
}
