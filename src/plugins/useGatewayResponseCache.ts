import { createHash } from 'node:crypto';
import { useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { getOperationAST, GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { customerChangeEffects, mutationEffects, queryLookupTags, type MutationEffects } from '../cache/lookups';
import { cacheControlFor, cacheOutcomeOf, etagOf, revalidationOf, type CacheMetadata, type CacheOutcome } from '../cache/httpCaching';
import { createRedisResponseStore } from '../cache/redisStore';
import type { CacheStats } from '../cache/stats';
import { createMemoryResponseStore, type CacheEntity, type ResponseStore } from '../cache/store';
import { DEFAULT_TTLS, resolveTtls, unknownCoordinates, type TtlTable } from '../cache/ttl';
import type { GatewayContext } from '../context';
import { identityHash, type Identity } from '../identity';
import type { Logger } from '../logging/logger';
import type { RedisConnection } from '../redis/connection';
import { appendVary } from '../shared/vary';
import { composePlugins } from './compose';
import { identityOf } from './useAuthentication';

export interface ResponseCacheOptions {
  config: {
    /** Default TTL in ms (CACHE_TTL); 0 disables the response cache. */
    ttlMs: number;
    /** CACHE_TTL_OVERRIDES: TTL in ms per schema coordinate, applied over the built-in table (src/cache/ttl.ts). */
    overrides: TtlTable;
  };
  redis?: RedisConnection;
  logger: Logger;
  /** Hits, misses and store errors are counted here (metrics). */
  stats: CacheStats;
}

export const CACHE_HEADER = 'x-cache';

/** All staff see the same data, so they share one cache session; a customer has a session of their own. */
export const STAFF_SESSION = 'staff';

/** The cache session of an identity: never a credential, only the identity's pseudonym. */
export function cacheSession(identity: Identity): string {
  return identity.role === 'staff' ? STAFF_SESSION : identityHash(identity);
}

/**
 * Deepest nesting of variables a cache key is built from. The key walks them recursively, and a
 * client's variables (even ones the operation never declares) could otherwise nest deep enough to
 * overflow the stack; real input objects nest a few levels.
 */
export const MAX_VARIABLE_DEPTH = 64;

const tooDeep = () =>
  new GraphQLError(`Variables may nest at most ${MAX_VARIABLE_DEPTH} levels deep.`, {
    extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
  });

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` variables share an entry. */
function stableJson(value: unknown, depth = 0): string {
  if (depth > MAX_VARIABLE_DEPTH) throw tooDeep();
  if (Array.isArray(value)) return `[${value.map((item) => stableJson(item, depth + 1)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item, depth + 1)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `<session>:<sha256 of document, operation name, variables and session>`. The session prefix lets
 * the ETag check below refuse another session's key; it is a pseudonym, never a token.
 */
function responseCacheKey(documentString: string, operationName: string | null | undefined, variables: unknown, session: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([documentString, operationName ?? '', stableJson(variables ?? {}), session]))
    .digest('hex');
  return `${session}:${digest}`;
}

/** Per HTTP request, what the cache said about each query of it it answered. */
const outcomesByRequest = new WeakMap<Request, CacheOutcome[]>();

/**
 * The cache's verdict on an HTTP response (x-cache): HIT when every query of the request was a hit or
 * yoga answered If-None-Match with 304 from the cache, MISS when any was not; undefined when the cache
 * saw no query (mutations, subscriptions, refusals) or a rate limit refused the request (a batch whose
 * other operations were hits is still no cached answer).
 */
export function cacheVerdictOf(request: Request, response: Response): 'HIT' | 'MISS' | undefined {
  if (response.status === 429) return undefined;
  if (response.status === 304 && request.headers.has('if-none-match')) return 'HIT';
  const outcomes = outcomesByRequest.get(request);
  return outcomes && (outcomes.every((outcome) => outcome.hit) ? 'HIT' : 'MISS');
}

/** A private answer depends on the caller's credentials: a browser's cache must not hand it to the next sign-in. */
const PRIVATE_VARY = ['Authorization', 'X-Api-Key'];

/** A shared cache must not hand an answer fetched without CORS headers to a page on another origin. */
const PUBLIC_VARY = ['Origin'];

type OperationContext = Partial<GatewayContext> & { request?: Request };

/**
 * The response cache (issue: Redis-backed response cache): graphql-yoga's useResponseCache with
 *
 * - a Redis store when REDIS_URL is set (shared by replicas, invalidation without KEYS, fails open),
 *   else the in-memory store;
 * - sessions by identity: each customer has their own entries, staff (and anonymous sandbox traffic)
 *   share one; a key never contains a credential;
 * - TTLs per schema coordinate (src/cache/ttl.ts, CACHE_TTL_OVERRIDES), CACHE_TTL for the rest,
 *   lowered per response by resolvers through `context.responseTtl`; CACHE_TTL=0 installs nothing;
 * - invalidation by mutations: the entities in a mutation's result (plugin), plus what the gateway's
 *   mutations change beyond their result (src/cache/lookups.ts): updateLicense → its installation,
 *   upsertCustomer → lookups by that externalId and customer lists, onboardCustomer/registerMyMeter/
 *   createRegistrationToken → the customer and lookups by that externalId;
 * - `x-cache: HIT|MISS` on every response to a query over HTTP (cacheVerdictOf), and counters (`stats`).
 *
 * Never cached: results with errors (so no partial results), mutations, subscriptions, anything over
 * WebSocket, introspection. A hit is answered before parsing and validation: the entry was produced
 * for the same document, variables and session, so those steps would decide the same.
 */
export function useGatewayResponseCache({ config, redis, logger, stats }: ResponseCacheOptions): Plugin {
  if (config.ttlMs === 0) return {};

  const overrides = config.overrides;
  const ttls = resolveTtls(overrides);
  const store: ResponseStore = redis ? createRedisResponseStore({ redis, logger, stats }) : createMemoryResponseStore();
  // Lookup tags per response key until the response is stored: a pure function of the key, so bounded and shared.
  const lookupTags = new LRUCache<string, CacheEntity[]>({ max: 10_000 });
  const keyByContext = new WeakMap<object, string>();
  /** HTTP requests that carried GraphQL operations: their responses get Cache-Control. */
  const graphqlRequests = new WeakSet<Request>();
  const webSocketMutations = new WeakSet<object>();

  const sessionOf = (request: Request): string | undefined => {
    const identity = identityOf({ request });
    return identity && cacheSession(identity);
  };

  /**
   * A revalidation's entry, looked up once in onRequest and handed to yoga's 304 check (cache.get), so
   * the 304 can say how long the entry has left without a second store round trip.
   */
  const revalidationLookups = new Map<string, ReturnType<Cache['get']>>();
  const revalidationByRequest = new WeakMap<Request, { cacheKey: string; entry: ReturnType<Cache['get']> }>();

  const cache: Cache = {
    get(id) {
      const pending = revalidationLookups.get(id);
      if (!pending) return store.get(id) as ReturnType<Cache['get']>;
      revalidationLookups.delete(id);
      return pending;
    },
    set(id, result, entities, ttl) {
      const lookups = lookupTags.get(id);
      // Without its lookup tags an entry could outlive the data it shows: better not cache it.
      if (!lookups) return;
      // A hit's metadata carries these, so its Cache-Control tells how long the entry has left.
      const metadata: CacheMetadata = { ttl, storedAt: Date.now() };
      const stored = { ...result, extensions: { ...result.extensions, responseCache: metadata } };
      return store.set(id, stored, [...entities, ...lookups], ttl);
    },
    invalidate: (entities) => store.invalidate(entities),
  };

  async function invalidateEffects(documentEffects: MutationEffects, context: OperationContext): Promise<void> {
    // What the document says, plus the customers the resolvers recorded as changed (endContract names only a contract id).
    const changed = customerChangeEffects(context.changedCustomers ?? []);
    const effects = {
      entities: [...documentEffects.entities, ...changed.entities],
      customerExternalIds: [...documentEffects.customerExternalIds, ...changed.customerExternalIds],
    };
    const entities = [...effects.entities];
    const loader = context.customerLoaders?.customerByExternalId;
    if (loader && effects.customerExternalIds.length > 0) {
      const customers = await Promise.all(effects.customerExternalIds.map((externalId) => loader.load(externalId).catch(() => null)));
      for (const customer of customers) if (customer) entities.push({ typename: 'Customer', id: customer.id });
    }
    if (entities.length > 0) await store.invalidate(entities);
  }

  const gatewayPlugin: Plugin = {
    onSchemaChange({ schema }) {
      const unknown = unknownCoordinates(schema, overrides);
      if (unknown.length > 0) throw new Error(`CACHE_TTL_OVERRIDES: ${unknown.join('; ')}`);
      const stale = unknownCoordinates(schema, DEFAULT_TTLS);
      if (stale.length > 0) logger.warn({ stale }, 'response cache: built-in TTLs name coordinates the schema lacks');
    },
    onRequest({ request }) {
      // yoga answers `If-None-Match: <key>` with 304 when that entry exists and is no newer than
      // If-Modified-Since: both come from the caller's own tag (etagOf), never another session's.
      const ifNoneMatch = request.headers.get('if-none-match');
      if (!ifNoneMatch) return;
      const session = sessionOf(request);
      const revalidation = session === undefined ? undefined : revalidationOf(ifNoneMatch, session);
      if (!revalidation) {
        request.headers.delete('if-none-match');
        return;
      }
      request.headers.set('if-none-match', revalidation.cacheKey);
      request.headers.set('if-modified-since', revalidation.storedSince);
      const entry = store.get(revalidation.cacheKey) as ReturnType<Cache['get']>;
      revalidationLookups.set(revalidation.cacheKey, entry);
      revalidationByRequest.set(request, { cacheKey: revalidation.cacheKey, entry });
    },
    onExecute({ args }) {
      const context = args.contextValue as OperationContext;
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return;
      if (operation.operation === 'query') {
        const key = keyByContext.get(context);
        if (!key) return;
        // The context's own list: resolvers add tags to it while executing (context.responseTags), before `set` reads it.
        const tags = context.responseTags ?? [];
        tags.push(...queryLookupTags(args.document, operation, args.variableValues, context.identity));
        lookupTags.set(key, tags);
        return;
      }
      if (operation.operation !== 'mutation') return;
      // Over WebSocket nothing is cached, but a mutation still invalidates what it changed.
      if (!context.request) webSocketMutations.add(context);
      const effects = mutationEffects(args.document, operation, args.variableValues, context.identity);
      return {
        onExecuteDone: () => invalidateEffects(effects, context),
      };
    },
    onExecutionResult({ request, result, setResult }) {
      if (!result || Array.isArray(result) || isAsyncIterable(result)) return;
      const single = result as ExecutionResult;
      const metadata = single.extensions?.responseCache as CacheMetadata | undefined;
      if (!metadata) return;
      const { responseCache: _metadata, ...extensions } = single.extensions!;
      const { extensions: _extensions, ...rest } = single;
      setResult(Object.keys(extensions).length > 0 ? { ...rest, extensions } : rest);
      const outcome = cacheOutcomeOf(metadata, Date.now());
      if (!outcome) return; // a mutation's invalidation report
      if (outcome.hit) stats.hits += 1;
      else stats.misses += 1;
      const outcomes = outcomesByRequest.get(request) ?? [];
      outcomes.push(outcome);
      outcomesByRequest.set(request, outcomes);
    },
    onParams({ request }) {
      graphqlRequests.add(request);
    },
    onResponse({ request, response }) {
      const revalidated = response.status === 304 && request.headers.has('if-none-match');
      if (revalidated) stats.hits += 1;
      const verdict = cacheVerdictOf(request, response);
      if (verdict) response.headers.set(CACHE_HEADER, verdict);
      if (!graphqlRequests.has(request) && !revalidated) return;
      const etag = response.headers.get('etag');
      if (etag) response.headers.set('etag', etagOf(etag, response.headers.get('last-modified')));
      const revalidation = revalidationByRequest.get(request);
      if (revalidation && revalidationLookups.get(revalidation.cacheKey) === revalidation.entry) revalidationLookups.delete(revalidation.cacheKey);
      // Streams (SSE, multipart) set their own.
      if (response.headers.has('cache-control')) return;
      const setCacheControl = (outcomes: ReadonlyArray<CacheOutcome> | undefined) => {
        const cacheControl = cacheControlFor(response.status, outcomes, identityOf({ request })?.via === 'anonymous');
        response.headers.set('cache-control', cacheControl);
        if (cacheControl.startsWith('private')) appendVary(response.headers, PRIVATE_VARY);
        else if (cacheControl.startsWith('public')) appendVary(response.headers, PUBLIC_VARY);
      };
      if (!revalidated || !revalidation) return setCacheControl(outcomesByRequest.get(request));
      // A 304: how long the entry it confirmed has left.
      return Promise.resolve(revalidation.entry).then((entry) => {
        const metadata = (entry as ExecutionResult | null | undefined)?.extensions?.responseCache as CacheMetadata | undefined;
        const outcome = metadata && cacheOutcomeOf({ ...metadata, hit: true }, Date.now());
        setCacheControl(outcome ? [outcome] : undefined);
      });
    },
  };

  const responseCache = useResponseCache<OperationContext>({
    cache,
    ttl: config.ttlMs,
    ttlPerSchemaCoordinate: { ...ttls },
    onTtl: ({ ttl, context }) => (context as OperationContext).responseTtl?.apply(ttl) ?? ttl,
    includeExtensionMetadata: true,
    session: (request) => sessionOf(request) ?? null,
    // HTTP requests with an identity; over WebSocket (no request) only mutations, for their invalidation.
    enabled: (request, context) => (request ? identityOf({ request }) !== undefined : webSocketMutations.has(context)),
    buildResponseCacheKey: ({ documentString, operationName, variableValues, sessionId, context }) => {
      const key = responseCacheKey(documentString, operationName, variableValues, sessionId ?? '');
      keyByContext.set(context as object, key);
      return key;
    },
  });

  /** After the plugin's own invalidation (from the mutation result): the response waits until it is applied. */
  const settlePlugin: Plugin = {
    onExecute({ args }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      return { onExecuteDone: () => store.settled() };
    },
  };

  logger.info({ store: redis ? 'redis' : 'memory', defaultTtlMs: config.ttlMs, overrides }, 'response cache enabled');
  return composePlugins([gatewayPlugin, responseCache, settlePlugin]);
}
