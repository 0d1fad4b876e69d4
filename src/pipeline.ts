import type { MeshInstance } from '@graphql-mesh/runtime';
import type { Executor } from '@graphql-tools/utils';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import type { CacheStats } from './cache/stats';
import type { GatewayConfig } from './config';
import type { CustomerStore } from './customers/store';
import type { Authenticator } from './identity';
import type { Logger } from './logging/logger';
import { IOMETER_SOURCE } from './mesh';
import type { GatewayMetrics } from './metrics/gatewayMetrics';
import { useAuthentication } from './plugins/useAuthentication';
import { useAuthorization } from './plugins/useAuthorization';
import { useBatchRefusals } from './plugins/useBatchRefusals';
import { useCompression } from './plugins/useCompression';
import { useGatewayRateLimits } from './plugins/useGatewayRateLimits';
import { useGatewayResponseCache } from './plugins/useGatewayResponseCache';
import { useGraphiQLPage } from './plugins/useGraphiQLPage';
import { useIncrementalDelivery } from './plugins/useIncrementalDelivery';
import { useLiveLookups } from './plugins/useLiveLookups';
import { useMetrics } from './plugins/useMetrics';
import { useOperationLimits } from './plugins/useOperationLimits';
import { useQueryPlans } from './plugins/useQueryPlans';
import { useReadiness, type ReadinessCheck } from './plugins/useReadiness';
import { useRequestBodyLimit } from './plugins/useRequestBodyLimit';
import { useRequestSummary } from './plugins/useRequestSummary';
import { useSchemaVisibility } from './plugins/useSchemaVisibility';
import { useSharedLiveExecution } from './plugins/useSharedLiveExecution';
import { useSseResume } from './plugins/useSseResume';
import type { TrustedDocuments } from './persisted/trustedDocuments';
import { usePersistedDocuments } from './plugins/usePersistedDocuments';
import type { ApqStore } from './persisted/apqStore';
import type { RedisConnection } from './redis/connection';

/** What the request path's plugins are built from; startGateway (src/server.ts) makes each once. */
export interface PipelineParts {
  config: GatewayConfig;
  graphqlPath: string;
  logger: Logger;
  metrics: GatewayMetrics;
  cacheStats: CacheStats;
  readinessChecks: Record<string, ReadinessCheck>;
  isDraining: () => boolean;
  /** Mesh's own plugins (src/mesh.ts). */
  mesh: Plugin;
  /** `Type.field` of the fields the gateway defines itself; the rest are IOmeter's. */
  gatewayFields: ReadonlySet<string>;
  /** The unified schema Mesh built, for operation plans. */
  meshInstance: MeshInstance;
  /** IOmeter's HTTP transport (src/upstream/), for operations planned to go straight to it. */
  iometer: Executor;
  authenticate: Authenticator;
  trustedDocuments?: TrustedDocuments;
  /** Documents registered through automatic persisted queries. */
  apq: ApqStore;
  redis?: RedisConnection;
  customerStore: CustomerStore;
  /** yoga's maskedErrors.maskError, for results a plugin writes past yoga. */
  maskError: (error: unknown, message: string) => Error;
  /** GraphiQL's render options (title, example operations, subscription transport). */
  graphiqlPage: GraphiQLOptions;
}

/**
 * The request path: yoga runs each hook of these plugins in this order. WebSocket operations run the
 * envelop part of it (context, parse, validate, execute, subscribe; src/transport/webSocket.ts).
 */
export function requestPipeline(parts: PipelineParts): Array<Plugin<any>> {
  const { config, logger, metrics } = parts;
  // A summary holds only fields the gateway fills itself (RequestSummary: no header, parameter or config
  // object), so its line skips the logger's wildcard redaction, ≈ 25 µs of CPU per request (5 µs without).
  const requestLog = logger.child({}, { redact: [] });
  return [
    // Probes answer first: they carry no client credentials.
    useReadiness({ checks: parts.readinessChecks, isDraining: parts.isDraining }),
    // Scrapes too; and every operation is timed from its start.
    useMetrics({ metrics, serveEndpoint: config.metrics.port === undefined, token: config.metrics.token }),
    // A batch with an operation refused by a rate limit becomes a 429; before the summary reads the status.
    useBatchRefusals(),
    // Before anything can answer early, so the log line and request metrics count every request.
    useRequestSummary({
      graphqlPath: parts.graphqlPath,
      trustedDocument: (hash) => parts.trustedDocuments?.get(hash) ?? parts.apq.peek(hash) ?? null,
      onSummary: [(summary) => requestLog.info(summary, 'request completed'), metrics.countRequest],
    }),
    // A browser's page load: answered here, before any GraphQL work; logged and counted like any request.
    useGraphiQLPage({
      graphqlPath: parts.graphqlPath,
      enabled: config.graphiql,
      page: parts.graphiqlPage,
      authenticate: parts.authenticate,
      customerIntrospection: config.auth.customerIntrospection,
      pageLoadCounter: config.rateLimit.enabled ? { redis: parts.redis, onRedisError: config.rateLimit.onRedisError } : undefined,
    }),
    // The body's size, as it is parsed (yoga's maxRequestBodySize is off: this costs less per request).
    useRequestBodyLimit(),
    // Mesh's stitching and transforms, before the gateway's own rules see the unified schema.
    parts.mesh,
    // @defer and @stream; deferred IOmeter fields come inline. Before the query plans, which see the rewritten document.
    useIncrementalDelivery({ gatewayFields: parts.gatewayFields }),
    // Before parsing: a rejected credential costs no GraphQL work; everything below reads the identity.
    useAuthentication({ authenticate: parts.authenticate, logger }),
    // A hash becomes its document before parsing; who may send any document depends on the identity.
    usePersistedDocuments({ documents: parts.trustedDocuments, apq: parts.apq }),
    // Size before parsing, then tokens, depth, aliases and cost while parsing and validating.
    useOperationLimits(config.limits),
    // Validation: customers see no introspection and no "Did you mean" hints.
    useSchemaVisibility({ customerIntrospection: config.auth.customerIntrospection }),
    // Validation: a forbidden field refuses the whole operation before it executes.
    useAuthorization(),
    // Before the cache: a cache hit or a 304 revalidation still spends the operation budget.
    useGatewayRateLimits({ config: config.rateLimit, redis: parts.redis, logger, onRefused: metrics.countRateLimited }),
    // IOmeter-only queries go straight to IOmeter by a cached plan. Before the cache, which wraps the execute function this sets.
    useQueryPlans({ mesh: parts.meshInstance, sourceName: IOMETER_SOURCE, upstream: parts.iometer, maxPlans: config.queryPlans.maxPlans }),
    // Answers repeated queries before they execute; invalidates after mutations.
    useGatewayResponseCache({ config: config.cache, redis: parts.redis, logger, stats: parts.cacheStats }),
    // Subscriptions last hours: their events share the process's expiring loaders instead of holding their own.
    useLiveLookups({ customerStore: parts.customerStore, ttlMs: config.subscriptions.lookupTtlMs }),
    // After the rate limits and the lookups: same live-readings operations in the same scope execute once per reading.
    useSharedLiveExecution({ maskError: parts.maskError }),
    // Writes the SSE event ids into yoga's own SSE stream.
    useSseResume(),
    // Last: compresses the response every other plugin has finished.
    useCompression({ thresholdBytes: config.compression.thresholdBytes }),
  ];
}
