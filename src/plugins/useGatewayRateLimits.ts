import type { ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Identity } from '../identity';
import type { Logger } from '../logging/logger';
import type { FieldBudgets } from '../rateLimit/budgets';
import { clientKey } from '../rateLimit/clientKey';
import { CounterUnavailableError, createCounter, type Verdict } from '../rateLimit/counters';
import { rateLimitedError, rateLimitUnavailableError, tooManySubscriptionsError } from '../rateLimit/errors';
import { createFieldLimiter, type FieldLimiter } from '../rateLimit/fieldLimiter';
import { createSubscriptionSlots, type SubscriptionSlot } from '../rateLimit/subscriptionSlots';
import type { RedisConnection } from '../redis/connection';
import { errorResponse } from './errorResponse';
import { identityOf, isGraphiQLPage } from './useAuthentication';

/** RATE_LIMIT_* (src/config.ts). */
export interface RateLimitConfig {
  /** RATE_LIMIT_ENABLED=false switches every rate limit off (benchmarks, a trusted internal deployment). */
  enabled: boolean;
  /** Operations per client and window (RATE_LIMIT_MAX / RATE_LIMIT_WINDOW). */
  max: number;
  windowMs: number;
  /** RATE_LIMIT_FIELDS over the defaults for IOmeter-owned fields (gateway-owned ones use @rateLimit). */
  fields: FieldBudgets;
  onRedisError: 'open' | 'closed';
  /** Concurrent subscriptions per client. */
  maxSubscriptions: number;
  /** How long a crashed replica's subscription slots stay taken (RATE_LIMIT_SUBSCRIPTION_LEASE). */
  subscriptionLeaseMs: number;
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
 *   RATE_LIMIT_MAX per RATE_LIMIT_WINDOW, response-cache hits and 304 revalidations included;
 * - each selection of a budgeted field spends one of that field's budget when the operation executes
 *   or subscribes (a cache hit costs IOmeter nothing, so it is free): @envelop/rate-limiter's
 *   useRateLimiter with the `@rateLimit` directives and RATE_LIMIT_FIELDS (src/rateLimit/fieldLimiter.ts);
 * - a client holds at most RATE_LIMIT_MAX_SUBSCRIPTIONS open subscriptions.
 * A refusal is a 429 with Retry-After and `extensions.code: RATE_LIMITED`. The client is the JWT
 * subject or API key name, or the IP address of an anonymous sandbox caller, hashed in every key.
 *
 * Where the checks run:
 * - onParams (HTTP): the operation budget, before the response cache can answer. Every onParams hook
 *   runs even after one has set a result, so a refusal is re-applied in onExecutionResult, where it
 *   replaces a cache hit that a later hook (the response cache) may have set.
 * - onExecute / onSubscribe (HTTP and WebSocket): the operation budget for WebSocket operations
 *   (which have no onParams), then the field budgets, then the subscription cap. A refusal replaces
 *   the whole execution (setResultAndStopExecution).
 *
 * The operation budget, subscription starts and the subscription cap stay outside the package,
 * which sees neither subscriptions nor anything answered before execution.
 */
export function useGatewayRateLimits({ config, redis, logger, onRefused }: RateLimitOptions): Plugin<{ spendReplayPage?: () => Promise<void> }> {
  if (!config.enabled) return {};
  const counterOptions = { redis, onRedisError: config.onRedisError };
  const operations = createCounter('ops', { max: config.max, windowMs: config.windowMs }, counterOptions);
  let fields: FieldLimiter | undefined;
  const slots = createSubscriptionSlots({ max: config.maxSubscriptions, leaseMs: config.subscriptionLeaseMs, ...counterOptions });
  const connected = redis ? firstConnection(redis, FIRST_CONNECTION_WAIT_MS) : undefined;
  /** Operation contexts whose operation budget onParams has already spent. */
  const countedAtParams = new WeakSet<object>();
  /** HTTP requests with If-None-Match whose first operation onRequest has paid for. */
  const prepaid = new WeakSet<Request>();
  /** Operation contexts onParams refused; their result must stay the refusal. */
  const refusedAtParams = new WeakMap<object, GraphQLError>();
  let storeDown = false;

  /** Spends one of the client's operation budget; the error to answer with instead of executing, if any. */
  async function spendOperation(client: string): Promise<GraphQLError | undefined> {
    await connected;
    try {
      const verdict = await operations.consume(client, 1);
      countedAgain();
      return verdict.admitted ? undefined : refused(client, verdict.retryAfterSeconds);
    } catch (error) {
      return unavailable(error);
    }
  }

  /** The budgets of an operation about to execute or subscribe. */
  async function admit(args: ExecutionArgs, client: string): Promise<GraphQLError | undefined> {
    if (!countedAtParams.has(args.contextValue as object)) {
      const refusal = await spendOperation(client);
      if (refusal) return refusal;
    }
    if (!fields) return undefined;
    await connected;
    try {
      const refusal = await fields.check(args);
      countedAgain();
      return refusal && refused(client, refusal.retryAfterSeconds, refusal.message);
    } catch (error) {
      return unavailable(error);
    }
  }

  function refused(client: string, retryAfterSeconds: number, message?: string): GraphQLError {
    logger.debug({ rateLimit: 'refused', client, retryAfterSeconds }, 'rate limit exceeded');
    onRefused?.();
    return rateLimitedError(retryAfterSeconds, message);
  }

  function countedAgain(): void {
    if (!storeDown) return;
    storeDown = false;
    logger.info({ rateLimit: 'redis' }, 'rate limits are counted in Redis again');
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
  async function replayPageCost(client: string): Promise<GraphQLError | undefined> {
    await connected;
    let verdict: Verdict | undefined;
    try {
      verdict = await fields?.spend(client, REPLAY_PAGE_COORDINATE);
    } catch (error) {
      return unavailable(error);
    }
    if (verdict === undefined) return spendOperation(client);
    countedAgain();
    return verdict.admitted ? undefined : refused(client, verdict.retryAfterSeconds);
  }

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

    // At start-up: a bad directive or RATE_LIMIT_FIELDS entry stops it, naming the coordinate.
    onSchemaChange({ schema }) {
      fields = createFieldLimiter(schema, config.fields, clientOf, counterOptions);
    },

    // yoga's response cache answers If-None-Match with 304 in its own onRequest, which runs after this
    // one and before any operation is seen: a revalidation spends an operation like a cache hit does.
    async onRequest({ request, serverContext, endResponse, fetchAPI }) {
      if (!request.headers.has('if-none-match') || isGraphiQLPage(request)) return;
      const refusal = await spendOperation(clientKey(identityOf({ request }), serverContext));
      if (refusal) endResponse(errorResponse(refusal, fetchAPI, 429));
      else prepaid.add(request);
    },

    async onParams({ request, context, setResult }) {
      countedAtParams.add(context);
      // Paid in onRequest: the cache had no entry for the tag (or dropped it), so the operation runs.
      if (prepaid.delete(request)) return;
      const refusal = await spendOperation(clientKey(identityOf({ request }), context));
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
