import { getOperationAST, type ExecutionArgs, type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Identity } from '../identity';
import type { Logger } from '../logging/logger';
import type { FieldBudgets } from '../rateLimit/budgets';
import { clientKey } from '../rateLimit/clientKey';
import { CounterUnavailableError, createCounter, type Counter, type Verdict } from '../rateLimit/counters';
import { rateLimitedError, rateLimitUnavailableError, tooManySubscriptionsError } from '../rateLimit/errors';
import { countSelections } from '../rateLimit/selections';
import { createSubscriptionSlots, type SubscriptionSlot } from '../rateLimit/subscriptionSlots';
import type { RedisConnection } from '../redis/connection';
import { coordinateProblem } from '../shared/schemaCoordinates';
import { identityOf } from './useAuthentication';

/** RATE_LIMIT_* (src/config.ts). */
export interface RateLimitConfig {
  /** RATE_LIMIT_ENABLED=false switches every rate limit off (benchmarks, a trusted internal deployment). */
  enabled: boolean;
  /** Operations per client and window (RATE_LIMIT_MAX / RATE_LIMIT_WINDOW). */
  max: number;
  windowMs: number;
  /** Per-field budgets: the defaults merged with RATE_LIMIT_FIELDS. */
  fields: FieldBudgets;
  onRedisError: 'open' | 'closed';
  /** Concurrent subscriptions per client. */
  maxSubscriptions: number;
}

export interface RateLimitOptions {
  config: RateLimitConfig;
  redis?: RedisConnection;
  logger: Logger;
  /** Called for every refusal by a budget or the subscription cap (metrics). */
  onRefused?: () => void;
}

/**
 * Per-client budgets, enforced before anything executes, so a refused operation costs neither a
 * resolver nor an IOmeter call and never returns partial data:
 * - every operation (query, mutation, subscription; each operation of a batch) spends one of
 *   RATE_LIMIT_MAX per RATE_LIMIT_WINDOW, response-cache hits included;
 * - each selection of a budgeted field (DEFAULT_FIELD_BUDGETS, RATE_LIMIT_FIELDS) spends one of that
 *   field's budget when the operation executes (a cache hit costs IOmeter nothing, so it is free);
 * - a client holds at most RATE_LIMIT_MAX_SUBSCRIPTIONS open subscriptions.
 * A refusal is a 429 with Retry-After and `extensions.code: RATE_LIMITED`. The client is the JWT
 * subject or API key name, or the IP address of an anonymous sandbox caller, hashed in every key.
 *
 * Where the checks run:
 * - onParams (HTTP): the operation budget, before the response cache can answer. Every onParams hook
 *   runs even after one has set a result, so a refusal is re-applied in onExecutionResult, where it
 *   replaces a cache hit that a later hook (the response cache) may have set.
 * - onExecute / onSubscribe (HTTP and WebSocket): field budgets, found by walking the operation
 *   about to run, the operation budget for WebSocket operations (which have no onParams), and the
 *   subscription cap. A refusal replaces the whole execution (setResultAndStopExecution).
 *
 * Why not @envelop/rate-limiter's useRateLimiter: its Store contract is read-all-timestamps then
 * write-all-timestamps, which cannot be made atomic, so the limit leaks under concurrency and across
 * replicas; it keys counters by field name without the type, walks every operation of a document
 * rather than the one being executed, answers with `http.statusCode` (yoga reads `http.status`) and a
 * window string as Retry-After, and sees neither subscriptions nor response-cache hits. Its approach
 * (check before execution, stop the whole execution on any refusal, budgets by type and field) is
 * kept; the counting is rate-limiter-flexible's.
 */
export function useGatewayRateLimits({ config, redis, logger, onRefused }: RateLimitOptions): Plugin<{ spendReplayPage?: () => Promise<void> }> {
  if (!config.enabled) return {};
  const counterOptions = { redis, onRedisError: config.onRedisError };
  const operations = createCounter('ops', { max: config.max, windowMs: config.windowMs }, counterOptions);
  const fields = new Map<string, Counter>(
    [...config.fields].map(([coordinate, budget]) => [coordinate, createCounter(coordinate, budget, counterOptions)]),
  );
  const slots = createSubscriptionSlots({ max: config.maxSubscriptions, ...counterOptions });
  const connected = redis ? firstConnection(redis, FIRST_CONNECTION_WAIT_MS) : undefined;
  /** Operation contexts whose operation budget onParams has already spent. */
  const countedAtParams = new WeakSet<object>();
  /** Operation contexts onParams refused; their result must stay the refusal. */
  const refusedAtParams = new WeakMap<object, GraphQLError>();
  let storeDown = false;

  /** Spends budgets; the error to answer with instead of executing, if any. */
  async function spend(client: string, operation: boolean, selections: ReadonlyMap<string, number>): Promise<GraphQLError | undefined> {
    if (!operation && selections.size === 0) return undefined;
    await connected;
    let verdicts: Verdict[];
    try {
      verdicts = await Promise.all([
        ...(operation ? [operations.consume(client, 1)] : []),
        ...[...selections].map(([coordinate, count]) => fields.get(coordinate)!.consume(client, count)),
      ]);
    } catch (error) {
      return unavailable(error);
    }
    if (storeDown) {
      storeDown = false;
      logger.info({ rateLimit: 'redis' }, 'rate limits are counted in Redis again');
    }
    const refused = verdicts.filter((verdict) => !verdict.admitted);
    if (refused.length === 0) return undefined;
    const retryAfterSeconds = Math.max(...refused.map((verdict) => verdict.retryAfterSeconds));
    logger.debug({ rateLimit: 'refused', client, retryAfterSeconds }, 'rate limit exceeded');
    onRefused?.();
    return rateLimitedError(retryAfterSeconds);
  }

  /** The budgets of an operation about to execute or subscribe. */
  function admit(args: ExecutionArgs, client: string): Promise<GraphQLError | undefined> {
    const operation = getOperationAST(args.document, args.operationName);
    const selections = operation
      ? countSelections(args.schema, args.document, operation, (coordinate) => fields.has(coordinate))
      : new Map<string, number>();
    return spend(client, !countedAtParams.has(args.contextValue as object), selections);
  }

  /** Only reachable with RATE_LIMIT_ON_REDIS_ERROR=closed; logged once per outage, not per request. */
  function unavailable(error: unknown): GraphQLError {
    if (!(error instanceof CounterUnavailableError)) throw error;
    if (!storeDown) {
      storeDown = true;
      logger.error(
        { rateLimit: 'redis', reason: (error.cause as Error | undefined)?.message },
        'rate limits cannot be counted: refusing operations until Redis is back (RATE_LIMIT_ON_REDIS_ERROR=closed)',
      );
    }
    return rateLimitUnavailableError();
  }

  const clientOf = (context: unknown) =>
    clientKey(identityOf(context as { identity?: Identity; request?: Request }), context);

  /** What a page of stored readings a replay fetches costs: one of the readings page budget, else one operation. */
  const replayPageCost = (client: string) =>
    fields.has(REPLAY_PAGE_COORDINATE) ? spend(client, false, new Map([[REPLAY_PAGE_COORDINATE, 1]])) : spend(client, true, new Map());

  return {
    onContextBuilding({ context, extendContext }) {
      // Read when a replay pages, by then the context carries the identity.
      extendContext({
        spendReplayPage: async () => {
          const refusal = await replayPageCost(clientOf(context));
          if (refusal) throw refusal;
        },
      });
    },

    onSchemaChange({ schema }) {
      const unknown = [...fields.keys()].filter((coordinate) => coordinateProblem(schema, coordinate) !== undefined);
      if (unknown.length) logger.warn({ rateLimit: 'config', unknown }, 'RATE_LIMIT_FIELDS names fields the schema does not have');
    },

    async onParams({ request, context, setResult }) {
      countedAtParams.add(context);
      const refusal = await spend(clientKey(identityOf({ request }), context), true, new Map());
      if (!refusal) return;
      refusedAtParams.set(context, refusal);
      setResult({ errors: [refusal] });
    },

    onExecutionResult({ context, setResult }) {
      const refusal = refusedAtParams.get(context);
      if (refusal) setResult({ errors: [refusal] });
    },

    async onExecute({ args, setResultAndStopExecution }) {
      const refusal = await admit(args, clientOf(args.contextValue));
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },

    async onSubscribe({ args, setResultAndStopExecution, setSubscribeFn, subscribeFn }) {
      const refuse = (error: GraphQLError) => setResultAndStopExecution({ errors: [error] });
      const client = clientOf(args.contextValue);
      const refusal = await admit(args, client);
      if (refusal) {
        refuse(refusal);
        return undefined;
      }
      let slot: SubscriptionSlot | undefined;
      try {
        slot = await slots.acquire(client);
      } catch (error) {
        refuse(unavailable(error));
        return undefined;
      }
      if (!slot) {
        logger.debug({ rateLimit: 'subscriptions', client }, 'subscription cap reached');
        onRefused?.();
        refuse(tooManySubscriptionsError(config.maxSubscriptions));
        return undefined;
      }
      const { release } = slot;
      // A subscribe function that throws leaves no result for onSubscribeResult to see.
      setSubscribeFn(async (subscribeArgs) => {
        try {
          return await subscribeFn(subscribeArgs);
        } catch (error) {
          release();
          throw error;
        }
      });
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable<ExecutionResult>(result)) setResult(releasingAtEnd(result, release));
          else release();
        },
      };
    },
  };
}

/**
 * A live-readings replay (startTime, or an SSE resume IOmeter's store serves) pages through
 * `provider.readings` for the client: each page spends this field's budget, as the query would.
 */
const REPLAY_PAGE_COORDINATE = 'IometerProvider.readings';

/** Backstop for the first connection; ioredis's own connect timeout normally ends the wait sooner. */
const FIRST_CONNECTION_WAIT_MS = 10_000;

/**
 * Resolves once Redis's first connection is ready, or after `timeoutMs`. Requests arriving while the
 * gateway's connection is still being set up wait for it instead of being counted by the in-process
 * fallback (which would admit up to twice the budget); later outages fall back at once. A failed first
 * attempt does not end the wait: ioredis keeps retrying, and on a loaded machine the first connect can
 * time out although Redis is up. Only a Redis that stays away for `timeoutMs` gets the fallback.
 */
function firstConnection(redis: RedisConnection, timeoutMs: number): Promise<void> {
  if (redis.isReady()) return Promise.resolve();
  return new Promise((resolve) => {
    const events = ['ready', 'end'] as const;
    const done = () => {
      clearTimeout(timer);
      for (const event of events) redis.client.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs).unref();
    for (const event of events) redis.client.once(event, done);
  });
}

/** The stream, releasing the slot when it completes, fails or the client unsubscribes (return). */
function releasingAtEnd(
  source: AsyncIterable<ExecutionResult>,
  release: () => void,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () =>
      iterator.next().then(
        (step) => {
          if (step.done) release();
          return step;
        },
        (error: unknown) => {
          release();
          throw error;
        },
      ),
    return: (value?: unknown) => {
      release();
      return iterator.return ? iterator.return(value) : Promise.resolve({ done: true, value: undefined });
    },
    throw: (error?: unknown) => {
      release();
      return iterator.throw ? iterator.throw(error) : Promise.reject(error);
    },
  };
}
