/**
 * HTTP caching of GraphQL answers, for a phone's HTTP cache and a CDN: `Cache-Control` from the
 * response cache's TTL and scope, and ETags a client can send back as HTTP says (quoted, weak, lists).
 */

/** What the response cache said about one operation of an HTTP request. */
export interface CacheOutcome {
  hit: boolean;
  /** Seconds the cached answer stays fresh; undefined when it was not cached (errors, TTL 0). */
  freshForS?: number;
}

/** The response cache's metadata on a result: `ttl` and `storedAt` (ms) ride along in the stored entry. */
export interface CacheMetadata {
  hit?: boolean;
  didCache?: boolean;
  ttl?: number;
  storedAt?: number;
}

/** For the query a result answers; undefined for results that are no query answer (mutations). */
export function cacheOutcomeOf(metadata: CacheMetadata, now: number): CacheOutcome | undefined {
  if (metadata.hit === undefined) return undefined;
  if (metadata.hit) {
    const { ttl, storedAt } = metadata;
    const freshForS = ttl === undefined || storedAt === undefined ? undefined : Math.max(0, Math.floor((storedAt + ttl - now) / 1_000));
    return { hit: true, freshForS };
  }
  return { hit: false, freshForS: metadata.didCache && metadata.ttl !== undefined ? Math.floor(metadata.ttl / 1_000) : undefined };
}

/**
 * `Cache-Control` of a GraphQL HTTP response. Only an answer made entirely of cached query results
 * may be kept, for as long as the shortest of them stays fresh; anything else (mutations, errors,
 * uncached results, refusals) is `no-store`. `public` only for callers without credentials (sandbox
 * mode), whose answers depend on no one; every other answer depends on who asked, so `private`: a
 * phone's or browser's own cache keeps it, a CDN does not. A 304 gets the remaining life of the entry
 * it confirmed (`outcomes`), or, when that is unknown, `no-cache`: keep the copy, ask again next time.
 */
export function cacheControlFor(status: number, outcomes: ReadonlyArray<CacheOutcome> | undefined, anonymous: boolean): string {
  const scope = anonymous ? 'public' : 'private';
  if (status === 304 && (!outcomes || outcomes.length === 0)) return `${scope}, no-cache`;
  if ((status !== 200 && status !== 304) || !outcomes || outcomes.length === 0) return 'no-store';
  let maxAge = Infinity;
  for (const outcome of outcomes) {
    if (outcome.freshForS === undefined) return 'no-store';
    maxAge = Math.min(maxAge, outcome.freshForS);
  }
  return `${scope}, max-age=${maxAge}`;
}

/**
 * The ETag of a cached answer: its cache key and when it was stored, quoted as HTTP requires. The
 * key alone names the question, not the answer: once an entry expires and is stored anew, an old copy
 * must not revalidate against it, so the tag carries the entry's Last-Modified second.
 */
export function etagOf(cacheKey: string, lastModified: string | null): string {
  const seconds = lastModified ? Math.floor(Date.parse(lastModified) / 1_000) : 0;
  return `"${cacheKey}@${seconds}"`;
}

/** Longest If-None-Match header read; a client lists a few tags, not thousands. */
const MAX_IF_NONE_MATCH_LENGTH = 4_096;

/**
 * The cache key and entry time of the first tag in an If-None-Match header that belongs to `session`
 * (strong or weak, as a CDN that compressed the answer may have made it): what yoga's response cache
 * needs to answer 304 (the key as If-None-Match, the time as If-Modified-Since).
 */
export function revalidationOf(ifNoneMatch: string, session: string): { cacheKey: string; storedSince: string } | undefined {
  if (ifNoneMatch.length > MAX_IF_NONE_MATCH_LENGTH) return undefined;
  for (const entry of ifNoneMatch.split(',')) {
    const tag = /^\s*(?:W\/)?"([^"]*)"\s*$/.exec(entry)?.[1];
    const at = tag?.lastIndexOf('@') ?? -1;
    if (!tag || at < 0 || !tag.startsWith(`${session}:`)) continue;
    const seconds = Number(tag.slice(at + 1));
    if (!Number.isSafeInteger(seconds) || seconds <= 0) continue;
    return { cacheKey: tag.slice(0, at), storedSince: new Date(seconds * 1_000).toUTCString() };
  }
  return undefined;
}
