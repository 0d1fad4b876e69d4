import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { getOperationASTFromRequest, mapMaybePromise, type ExecutionRequest, type ExecutionResult, type Executor } from '@graphql-tools/utils';
import { GraphQLError } from 'graphql';
import type { Logger } from '../logging/logger';
import { createUpstreamCircuit, type UpstreamCircuit } from './circuitBreaker';
import { ConcurrencyGate } from './concurrencyGate';
import { credentialRedactor } from './credentials';
import { rebuiltUpstreamError } from './errors';
import { createUpstreamFetch, type UpstreamExchange } from './httpFetch';
import { deduplicateInFlight, upstreamText } from './inFlightQueries';

/** Characters of one IOmeter error message the log keeps. */
const MAX_LOGGED_MESSAGE = 500;

/** How the gateway spares IOmeter: concurrency cap, queueing and retries of idempotent requests (IOMETER_*). */
export interface UpstreamProtection {
  /** Concurrent HTTP requests to IOmeter; more wait in a queue. */
  maxConcurrency: number;
  /** Longest wait for a free slot before UPSTREAM_UNAVAILABLE. */
  queueTimeoutMs: number;
  /** Retries of a query after IOmeter answered 429/503; mutations are never retried. */
  retries: number;
  /** Longest back-off (including a Retry-After) the gateway waits before a retry. */
  retryMaxDelayMs: number;
  /** Consecutive upstream outages (network error, timeout, 5xx) that open the circuit breaker. */
  breakerFailures: number;
  /** How long an open circuit fails fast before one probe request may try IOmeter again. */
  breakerCooldownMs: number;
  /** Longest answer body read from IOmeter, compressed or decoded (UPSTREAM_ERROR beyond it). */
  maxResponseBytes: number;
}

export interface IometerExecutor {
  executor: Executor;
  /** The circuit breaker every IOmeter HTTP request goes through. */
  circuit: UpstreamCircuit;
}

/** Hooks for metrics; the executor works the same without them. */
export interface UpstreamObservers {
  exchange?: (operationType: 'query' | 'mutation') => (exchange: UpstreamExchange) => void;
}

export interface IometerExecutorOptions {
  endpoint: string;
  /** The credentials' Authorization header (src/upstream/index.ts builds it). */
  authorization: string;
  /** Bound on every request, including queueing and retries (IOMETER_TIMEOUT). */
  timeoutMs: number;
  protection: UpstreamProtection;
  logger: Logger;
  observers?: UpstreamObservers;
}

/**
 * The transport for the IOmeter source: queries and mutations over HTTP, with the gateway's
 * credentials on every request. (Live readings come from one upstream subscription of the gateway's
 * own, src/subscriptions/.) All HTTP requests share one concurrency gate and one circuit breaker. Queries and mutations get
 * separate HTTP executors so that "mutations are never retried" holds by construction: a mutation
 * IOmeter answered with 429/503 may still have been applied, and creating a second registration token
 * or license is worse than telling the client to try again.
 */
export function createIometerExecutor({
  endpoint,
  authorization,
  timeoutMs,
  protection,
  logger,
  observers = {},
}: IometerExecutorOptions): IometerExecutor {
  const gate = new ConcurrencyGate(protection.maxConcurrency);
  const circuit = createUpstreamCircuit({ failures: protection.breakerFailures, cooldownMs: protection.breakerCooldownMs }, logger);
  const http = (operationType: 'query' | 'mutation', retries: number) =>
    buildHTTPExecutor({
      endpoint,
      print: upstreamText,
      // Queries are deduplicated below, without a copy of every result.
      deduplicateInflightRequests: false,
      fetch: circuit.guard(
        createUpstreamFetch({
          authorization,
          timeoutMs,
          gate,
          queueTimeoutMs: protection.queueTimeoutMs,
          retries,
          retryMaxDelayMs: protection.retryMaxDelayMs,
          maxResponseBytes: protection.maxResponseBytes,
          logger,
          onExchange: observers.exchange?.(operationType),
        }),
      ),
    });
  const redact = credentialRedactor(authorization);
  /** IOmeter's errors become the gateway's own; their text goes to the log only, credentials redacted. */
  const rebuildErrors = (result: ExecutionResult): ExecutionResult => {
    if (!result.errors?.length) return result;
    const upstream = result.errors.map((error) => ({ code: error.extensions?.code, message: redact(error.message).slice(0, MAX_LOGGED_MESSAGE) }));
    logger.info({ upstream: 'iometer', errors: upstream }, 'IOmeter answered with errors');
    return { ...result, errors: result.errors.map(rebuiltUpstreamError) };
  };
  const withRebuiltErrors =
    (execute: Executor): Executor =>
    (request) =>
      // Queries and mutations only: their result is one ExecutionResult, never a stream.
      mapMaybePromise(execute(request), (result) => rebuildErrors(result as ExecutionResult));
  const queries = withRebuiltErrors(deduplicateInFlight(http('query', protection.retries)));
  const mutations = withRebuiltErrors(http('mutation', 0));

  const executor: Executor = (request: ExecutionRequest) => {
    const { operation } = getOperationASTFromRequest(request);
    if (operation === 'mutation') return mutations(request);
    if (operation === 'query') return queries(request);
    // Every Subscription field has a gateway resolver on the readings hub (resolvers/subscriptions.ts).
    return { errors: [new GraphQLError('Subscriptions are served by the gateway, not forwarded.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
  };

  return { executor, circuit };
}
