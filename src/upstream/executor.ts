import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { getOperationASTFromRequest, type ExecutionRequest, type Executor } from '@graphql-tools/utils';
import { GraphQLError } from 'graphql';
import type { GatewayConfig, UpstreamConfig } from '../config';
import type { Logger } from '../logging/logger';
import { createUpstreamCircuit, type UpstreamCircuit } from './circuitBreaker';
import { basicAuthorization } from './credentials';
import { ConcurrencyGate } from './concurrencyGate';
import { createUpstreamFetch, type UpstreamExchange } from './httpFetch';

export type UpstreamProtection = GatewayConfig['upstreamProtection'];

export interface IometerExecutor {
  executor: Executor;
  /** The circuit breaker every IOmeter HTTP request goes through. */
  circuit: UpstreamCircuit;
}

/** Hooks for metrics; the executor works the same without them. */
export interface UpstreamObservers {
  exchange?: (operationType: 'query' | 'mutation') => (exchange: UpstreamExchange) => void;
}

/**
 * The transport for the IOmeter source: queries and mutations over HTTP. (Live readings come from
 * one upstream subscription of the gateway's own, src/subscriptions/.) Credentials are added here
 * and nowhere else, so no client ever holds them.
 * All HTTP requests share one concurrency gate and one circuit breaker. Queries and mutations get
 * separate HTTP executors so that "mutations are never retried" holds by construction: a mutation
 * IOmeter answered with 429/503 may still have been applied, and creating a second registration token
 * or license is worse than telling the client to try again.
 */
export function createIometerExecutor(
  upstream: UpstreamConfig,
  logger: Logger,
  protection: UpstreamProtection,
  observers: UpstreamObservers = {},
): IometerExecutor {
  const authorization = basicAuthorization(upstream.token, upstream.secret);
  const gate = new ConcurrencyGate(protection.maxConcurrency);
  const circuit = createUpstreamCircuit({ failures: protection.breakerFailures, cooldownMs: protection.breakerCooldownMs }, logger);
  const http = (operationType: 'query' | 'mutation', retries: number) =>
    buildHTTPExecutor({
      endpoint: upstream.endpoint,
      fetch: circuit.guard(
        createUpstreamFetch({
          authorization,
          timeoutMs: upstream.timeoutMs,
          gate,
          queueTimeoutMs: protection.queueTimeoutMs,
          retries,
          retryMaxDelayMs: protection.retryMaxDelayMs,
          logger,
          onExchange: observers.exchange?.(operationType),
        }),
      ),
    });
  const queries = http('query', protection.retries);
  const mutations = http('mutation', 0);

  const executor: Executor = (request: ExecutionRequest) => {
    const { operation } = getOperationASTFromRequest(request);
    if (operation === 'mutation') return mutations(request);
    if (operation === 'query') return queries(request);
    // Every Subscription field has a gateway resolver on the readings hub (resolvers/subscriptions.ts).
    return { errors: [new GraphQLError('Subscriptions are served by the gateway, not forwarded.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
  };

  return { executor, circuit };
}
