import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createYoga } from 'graphql-yoga';
import { createLocalAlertBus, createRedisAlertBus } from './alerts/bus';
import { UsageAlertEvaluator } from './alerts/evaluator';
import { allConsumers } from './alerts/feedConsumers';
import { LiveAlerts } from './alerts/liveAlerts';
import { UsageAlertRuleStore } from './alerts/rules';
import { AlertWebhook, withWebhook } from './alerts/webhook';
import { ReadingArchive } from './archive';
import { CacheStats } from './cache/stats';
import type { GatewayConfig, UpstreamConfig } from './config';
import { MonthForecaster } from './consumption/forecast';
import { ConsumptionStore } from './consumption/store';
import { createContextFactory } from './context';
import { CustomerStore } from './customers/store';
import type { Database } from './database';
import { createAuthenticator } from './identity';
import type { Logger } from './logging/logger';
import { requestIdFrom, runWithRequestId } from './logging/requestContext';
import { createGatewayMesh } from './mesh';
import { GatewayMetrics } from './metrics/gatewayMetrics';
import { serveMetrics } from './metrics/metricsServer';
import { requestPipeline } from './pipeline';
import { createYogaLogger } from './plugins/errorLogging';
import { createErrorMasker } from './plugins/errorMasking';
import { checkDependencies, databaseCheck, redisCheck, upstreamCheck } from './plugins/useReadiness';
import { ApqStore } from './persisted/apqStore';
import { TrustedDocuments } from './persisted/trustedDocuments';
import { openRedis } from './redis/connection';
import { createClusterFeed, createLocalFeed, ReadingHub } from './subscriptions';
import { createPageFetcher } from './subscriptions/pageFetcher';
import { corsPolicy } from './transport/cors';
import { InFlightRequests } from './transport/inFlightRequests';
import { serveWebSockets } from './transport/webSocket';
import { createIometerUpstream } from './upstream';

export const GRAPHQL_PATH = '/graphql';

/** How often Node looks for requests past HTTP_HEADERS_TIMEOUT / HTTP_REQUEST_TIMEOUT. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** On shutdown, how long WebSocket clients get to answer the 1001 close. */
const WS_CLOSE_WAIT_MS = 1_000;

const graphiqlOptions = {
  title: 'IOmeter Gateway',
  endpoint: GRAPHQL_PATH,
  defaultQuery: readFileSync(join(__dirname, 'graphiql', 'examples.graphql'), 'utf8'),
  // Over SSE every operation, subscriptions included, is an HTTP request carrying the headers typed
  // into GraphiQL's Headers tab. Over WebSocket GraphiQL would send them only inside each subscribe
  // message, after a connection_init without credentials (which the gateway refuses outside sandbox
  // mode, or takes for an anonymous sandbox staff caller).
  subscriptionsProtocol: 'SSE' as const,
};

export interface GatewayOptions {
  /** In sandbox mode, main fills `upstream` in with the simulator it started. */
  config: GatewayConfig & { upstream: UpstreamConfig };
  logger: Logger;
  /** The customer database; its owner opens and closes it. */
  database: Database;
}

export interface RunningGateway {
  url: string;
  wsUrl: string;
  port: number;
  /** Set when METRICS_PORT gives /metrics a listener of its own. */
  metricsPort?: number;
  /**
   * Graceful shutdown: stops accepting connections, completes every subscription, lets in-flight
   * requests finish for up to SHUTDOWN_TIMEOUT, closes WebSockets with 1001 Going Away, then the
   * upstream connections and Redis. The database belongs to the caller.
   */
  close(): Promise<void>;
}

export async function startGateway({ config, logger, database }: GatewayOptions): Promise<RunningGateway> {
  const metrics = new GatewayMetrics();
  const iometer = createIometerUpstream(config.upstream, {
    protection: config.upstreamProtection,
    logger,
    observers: { exchange: (operationType) => metrics.upstreamObserver(operationType) },
  });
  const { mesh, plugin: meshPlugin, gatewayFields, dispose } = await createGatewayMesh(iometer.executor);
  const redis = config.redis.url ? openRedis(config.redis.url, config.redis.keyPrefix, logger) : undefined;
  const fetchPage = createPageFetcher(iometer.executor);
  // Fed by whichever process holds the upstream subscription: this one, or the cluster's leader.
  const archive = config.archive.enabled ? new ReadingArchive({ db: database, logger, fetchPage, ...config.archive }) : undefined;
  const alertBus = redis ? createRedisAlertBus(redis, logger) : createLocalAlertBus();
  const alertRules = new UsageAlertRuleStore(database);
  const liveAlerts = new LiveAlerts(alertBus);
  const { webhookUrl, webhookSecret, webhookRetryDelayMs } = config.alerts;
  const webhook =
    webhookUrl && webhookSecret
      ? new AlertWebhook({ url: webhookUrl, secret: webhookSecret, retryDelayMs: webhookRetryDelayMs, logger, count: metrics.countAlertWebhook })
      : undefined;
  const alertEvaluator = config.alerts.enabled
    ? new UsageAlertEvaluator({ store: alertRules, bus: withWebhook(alertBus, webhook), timeZone: config.consumption.timeZone, logger })
    : undefined;
  await alertEvaluator?.start();
  const consumer = allConsumers(archive, alertEvaluator);
  const readingHub = new ReadingHub({
    ...iometer.readingsSocket,
    fetchPage,
    logger,
    ...config.subscriptions,
    // With Redis, all replicas share one upstream readings subscription (a leader publishes it).
    source: redis ? createClusterFeed({ redis, consumer }) : createLocalFeed({ consumer }),
  });
  const authenticate = createAuthenticator({ ...config.auth, sandbox: config.sandbox !== undefined });
  const trustedDocuments = config.auth.persistedOperationsFile
    ? TrustedDocuments.load(config.auth.persistedOperationsFile, logger)
    : undefined;

  const customerStore = new CustomerStore(database);
  const consumptionStore = new ConsumptionStore(database, config.consumption.timeZone);
  const cacheStats = new CacheStats();
  const inFlight = new InFlightRequests();
  const readinessChecks = {
    upstream: upstreamCheck(iometer.executor, iometer.circuit),
    database: databaseCheck(database),
    ...(redis ? { redis: redisCheck(redis) } : {}),
  };
  metrics.observe({
    cache: cacheStats,
    readings: () => readingHub.stats,
    circuit: () => iometer.circuit.state,
    dependencies: async () => (await checkDependencies(readinessChecks)).checks,
    archiveLagSeconds: archive && (() => archive.lagSeconds()),
  });

  const maskError = createErrorMasker(logger);
  const yoga = createYoga({
    schema: mesh.schema,
    plugins: requestPipeline({
      config,
      graphqlPath: GRAPHQL_PATH,
      logger,
      metrics,
      cacheStats,
      readinessChecks,
      isDraining: () => inFlight.isDraining,
      mesh: meshPlugin,
      gatewayFields,
      meshInstance: mesh,
      iometer: iometer.executor,
      authenticate,
      trustedDocuments,
      apq: new ApqStore({ redis, logger }),
      redis,
      customerStore,
      maskError,
      graphiqlPage: graphiqlOptions,
    }),
    context: createContextFactory({
      customerStore,
      usageAlerts: { store: alertRules, bus: alertBus, live: liveAlerts },
      consumptionStore,
      monthForecaster: new MonthForecaster(database, consumptionStore, config.consumption.timeZone),
      readingHub,
      registrationDefaults: config.registrationDefaults,
      logger,
    }),
    graphqlEndpoint: GRAPHQL_PATH,
    // GraphQL Codegen's persisted documents name the document by `documentId` (src/plugins/usePersistedDocuments.ts).
    extraParamNames: ['documentId'],
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    cors: corsPolicy(config.corsOrigins),
    // src/plugins/useGraphiQLPage.ts serves the page, built and compressed once.
    graphiql: false,
    batching: { limit: config.limits.maxBatch },
    // src/plugins/useRequestBodyLimit.ts bounds the body, with the same limit and errors, for less.
    maxRequestBodySize: false,
    logging: createYogaLogger(logger),
    maskedErrors: { maskError },
  });

  const server = createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Node checks both timeouts this often (30 s by default, which would stretch them by that much).
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    (request, response) => {
      inFlight.track(response);
      const requestId = requestIdFrom(request.headers['x-request-id']);
      response.setHeader('x-request-id', requestId);
      runWithRequestId(requestId, () => yoga(request, response));
    },
  );
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  const wsHandle = serveWebSockets(yoga, server, {
    path: GRAPHQL_PATH,
    authenticate,
    trustedDocuments,
    logger,
    keepAliveMs: config.subscriptions.clientKeepAliveMs,
    maxDocumentBytes: config.limits.maxDocumentBytes,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  if (!config.sandbox && !config.metrics.token && config.metrics.port === undefined) {
    // The one policy for an unprotected /metrics outside sandbox mode: serve it, but say so loudly.
    logger.warn(
      { path: '/metrics', port },
      '/metrics is open: anyone who reaches the gateway port can scrape it. Set METRICS_TOKEN (Bearer) or METRICS_PORT (a listener kept off the public network).',
    );
  }
  const metricsServer =
    config.metrics.port === undefined
      ? undefined
      : await serveMetrics({ port: config.metrics.port, host: config.host, registry: metrics.registry, token: config.metrics.token });

  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    wsUrl: `ws://${host}:${port}${GRAPHQL_PATH}`,
    port,
    metricsPort: metricsServer?.port,
    close: async () => {
      const drained = inFlight.drain(config.shutdownTimeoutMs);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await readingHub.close();
      await archive?.close();
      await alertEvaluator?.close();
      liveAlerts.close();
      await alertBus.close();
      if (!(await drained)) logger.warn({ inFlight: inFlight.size, shutdownTimeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline reached; cutting requests off');
      // Sockets whose close handshake does not finish in time are cut below with the rest.
      await Promise.race([wsHandle.dispose(), new Promise((resolve) => setTimeout(resolve, WS_CLOSE_WAIT_MS).unref())]);
      server.closeAllConnections();
      await stopped;
      await metricsServer?.close();
      await dispose();
      await redis?.close();
      trustedDocuments?.close();
    },
  };
}
