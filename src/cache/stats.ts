/**
 * Response cache counters, per gateway instance. Counted per operation (a batched request of three
 * queries counts three times); a 304 Not Modified answered from the cache counts as a hit.
 * Mutations and subscriptions are neither.
 */
export class CacheStats {
  /** Queries answered from the cache. */
  hits = 0;
  /** Queries executed because the cache had no usable entry (including uncacheable ones, e.g. errors). */
  misses = 0;
  /** Cache store operations that failed (e.g. Redis down) and were skipped: the cache failed open. */
  storeErrors = 0;

  snapshot(): { hits: number; misses: number; storeErrors: number } {
    return { hits: this.hits, misses: this.misses, storeErrors: this.storeErrors };
  }
}
