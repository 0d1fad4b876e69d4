import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { buildGraphQLWSExecutor } from '@graphql-tools/executor-graphql-ws';
import { getOperationASTFromRequest, isAsyncIterable, type ExecutionRequest, type ExecutionResult, type Executor } from '@graphql-tools/utils';
import { GraphQLError } from 'graphql';
import type { GatewayConfig, UpstreamConfig } from '../config';
import type { Logger } from '../logger';
import { basicAuthorization } from './credentials';
import { upstreamError } from './errors';
import { ConcurrencyGate } from './concurrencyGate';
import { createUpstreamFetch } from './httpFetch';
import { CREDENTIALS_REJECTED_CLOSE_CODES, createUpstreamWsClient, isCloseEvent } from './wsClient';

export interface IometerExecutor {
  executor: Executor;
  dispose(): Promise<void>;
}

/** What a failed upstream subscription tells the client: GraphQL errors as sent, transport failures masked. */
function toSubscriptionErrors(error: unknown, logger: Logger): GraphQLError[] {
  if (Array.isArray(error)) {
    return error.map((formatted) => new GraphQLError(formatted.message, { extensions: formatted.extensions }));
  }
  const detail = isCloseEvent(error) ? { closeCode: error.code } : { reason: (error as { message?: string })?.message };
  logger.warn({ upstream: 'iometer', ...detail }, 'upstream subscription failed');
  if (isCloseEvent(error) && CREDENTIALS_REJECTED_CLOSE_CODES.has(error.code)) return [upstreamError('UPSTREAM_UNAUTHORIZED')];
  return [upstreamError('UPSTREAM_UNAVAILABLE')];
}

async function* withTranslatedErrors(
  results: AsyncIterable<ExecutionResult>,
  logger: Logger,
): AsyncGenerator<ExecutionResult> {
  try {
    yield* results;
  } catch (error) {
    yield { errors: toSubscriptionErrors(error, logger) };
  }
}

export type UpstreamProtection = GatewayConfig['upstreamProtection'];

/**
 * The transport for the IOmeter source: queries and mutations over HTTP, subscriptions over
 * graphql-ws. Credentials are added here and nowhere else, so no client ever holds them.
 * All HTTP requests share one concurrency gate. Queries and mutations get separate HTTP executors so
 * that "mutations are never retried" holds by construction: a mutation IOmeter answered with 429/503
 * may still have been applied, and creating a second registration token or license is worse than
 * telling the client to try again.
 */
export function createIometerExecutor(upstream: UpstreamConfig, logger: Logger, protection: UpstreamProtection): IometerExecutor {
  const authorization = basicAuthorization(upstream.token, upstream.secret);
  const gate = new ConcurrencyGate(protection.maxConcurrency);
  const http = (retries: number) =>
    buildHTTPExecutor({
      endpoint: upstream.endpoint,
      fetch: createUpstreamFetch({
        authorization,
        timeoutMs: upstream.timeoutMs,
        gate,
        queueTimeoutMs: protection.queueTimeoutMs,
        retries,
        retryMaxDelayMs: protection.retryMaxDelayMs,
        logger,
      }),
    });
  const queries = http(protection.retries);
  const mutations = http(0);
  const wsClient = createUpstreamWsClient({ url: upstream.wsEndpoint, authorization, logger });
  const ws = buildGraphQLWSExecutor(wsClient);

  const executor: Executor = (request: ExecutionRequest) => {
    const { operation } = getOperationASTFromRequest(request);
    if (operation === 'query') return queries(request);
    if (operation === 'mutation') return mutations(request);
    const results = ws(request) as AsyncIterable<ExecutionResult> | ExecutionResult;
    return isAsyncIterable(results) ? withTranslatedErrors(results, logger) : results;
  };

  return {
    executor,
    dispose: async () => {
      await wsClient.dispose();
    },
  };
}
