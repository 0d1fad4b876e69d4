import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { GatewayConfig, UpstreamConfig } from './config';
import { ConsumptionStore } from './consumption/store';
import { createContextFactory } from './context';
import type { Database } from './database';
import { CustomerStore } from './customers/store';
import { createErrorMasker } from './plugins/errorMasking';
import { createAuthenticator, headersFromConnectionParams, type Authenticator, type Identity } from './identity';
import type { Logger } from './logging/logger';
import { createGatewayMesh } from './mesh';
import { RequestIdentities } from './plugins/requestIdentity';
import { useAuthentication } from './plugins/useAuthentication';
import { useAuthorization } from './plugins/useAuthorization';
import { useOperationLimits } from './plugins/useOperationLimits';
import { useSchemaVisibility } from './plugins/useSchemaVisibility';
import { useSseResume } from './plugins/useSseResume';
import { TrustedDocuments, useTrustedDocuments } from './plugins/useTrustedDocuments';
import { useGatewayResponseCache } from './plugins/useGatewayResponseCache';
import { InFlightRequests } from './transport/inFlightRequests';
import { GatewayMetrics } from './metrics/gatewayMetrics';
import { serveMetrics } from './metrics/metricsServer';
import { useMetrics } from './plugins/useMetrics';
import { databaseCheck, redisCheck, upstreamCheck, useReadiness } from './plugins/useReadiness';
import { useRequestSummary } from './plugins/useRequestSummary';
import { useGatewayRateLimits } from './plugins/useGatewayRateLimits';
import { openRedis } from './redis/connection';
import { requestIdFrom, runWithRequestId } from './logging/requestContext';
import { ReadingArchive } from './archive';
import { createClusterFeed, createLocalFeed, ReadingHub } from './subscriptions';
import { createPageFetcher } from './subscriptions/pageFetcher';
import { basicAuthorization } from './upstream/credentials';
import { WebSocketOperationLog } from './transport/webSocketOperationLog';

export const GRAPHQL_PATH = '/graphql';

/** On shutdown, how long WebSocket clients get to answer the 1001 close. */
const WS_CLOSE_WAIT_MS = 1_000;

const graphiqlOptions = {
  title: 'IOmeter Gateway',
  defaultQuery: readFileSync(join(__dirname, 'graphiql', 'examples.graphql'), 'utf8'),
  subscriptionsProtocol: 'WS' as const,
};

export interface GatewayOptions {
  config: GatewayConfig;
  upstream: UpstreamConfig;
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

interface WebSocketOptions {
  authenticate: Authenticator;
  trustedDocuments?: TrustedDocuments;
  logger: Logger;
  /** graphql-ws pings every client this often and drops one whose pong does not come back in time. */
  keepAliveMs: number;
}

/**
 * graphql-transport-ws on the GraphQL path. The caller authenticates once per connection, through
 * the connection_init payload or the upgrade request's headers; every operation then runs through
 * the same envelop pipeline as HTTP, with that identity and a request id of its own.
 */
function serveWebSockets(yoga: YogaServerInstance<any, any>, server: Server, options: WebSocketOptions) {
  const wsServer = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const identities = new WeakMap<object, Identity>();
  const operationLog = new WebSocketOperationLog(options.logger);
  type OperationArgs = { rootValue: { execute: any; subscribe: any }; contextValue: { requestId: string } };
  const inRequest = (run: 'execute' | 'subscribe') => (args: OperationArgs) =>
    runWithRequestId(args.contextValue.requestId, () => args.rootValue[run](args));

  const wsHandle = useServer(
    {
      execute: inRequest('execute') as any,
      subscribe: inRequest('subscribe') as any,
      onConnect: async (ctx) => {
        try {
          const headers = headersFromConnectionParams(ctx.connectionParams, ctx.extra.request.headers);
          identities.set(ctx.extra, await options.authenticate(headers));
          return true;
        } catch (error) {
          // graphql-ws closes the socket with 4403 Forbidden.
          options.logger.info({ code: (error as GraphQLError).extensions?.code }, 'WebSocket connection not authenticated');
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const requestId = `${requestIdFrom(ctx.extra.request.headers['x-request-id'])}/${id}`;
        const identity = identities.get(ctx.extra)!;
        let query: string;
        try {
          query = options.trustedDocuments ? options.trustedDocuments.documentFor(identity, payload) : payload.query;
        } catch (error) {
          return [error as GraphQLError];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: { ...payload, query },
          identity,
          requestId,
        });
        const document = parse(query);
        const errors = validate(schema, document);
        if (errors.length) return errors;
        operationLog.begin(ctx.extra, id, { requestId, identity, document, operationName: payload.operationName });
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
      onNext: (ctx, id) => operationLog.result(ctx.extra, id),
      onError: (ctx, id, _payload, errors) => operationLog.end(ctx.extra, id, errors),
      onComplete: (ctx, id) => operationLog.end(ctx.extra, id),
    },
    wsServer,
    options.keepAliveMs,
  );
  return { wsHandle };
}

export async function startGateway({ config, upstream, logger, database }: GatewayOptions): Promise<RunningGateway> {
  const metrics = new GatewayMetrics();
  const { mesh, plugins: meshPlugins, upstreamExecutor, upstreamCircuit, dispose } = await createGatewayMesh(
    upstream,
    logger,
    config.upstreamProtection,
    { exchange: (operationType) => metrics.upstreamObserver(operationType) },
  );
  const redis = config.redis.url ? openRedis(config.redis.url, config.redis.keyPrefix, logger) : undefined;
  const fetchPage = createPageFetcher(upstreamExecutor);
  // Fed by whichever process holds the upstream subscription: this one, or the cluster's leader.
  const archive = config.archive.enabled ? new ReadingArchive({ db: database, logger, fetchPage, ...config.archive }) : undefined;
  const readingHub = new ReadingHub({
    url: upstream.wsEndpoint,
    authorization: basicAuthorization(upstream.token, upstream.secret),
    fetchPage,
    logger,
    ...config.subscriptions,
    // With Redis, all replicas share one upstream readings subscription (a leader publishes it).
    source: redis ? createClusterFeed({ redis, consumer: archive }) : createLocalFeed({ consumer: archive }),
  });
  const sandbox = !config.upstream;
  const authenticate = createAuthenticator({ ...config.auth, sandbox });
  const identities = new RequestIdentities();
  const trustedDocuments = config.auth.persistedOperationsFile
    ? TrustedDocuments.load(config.auth.persistedOperationsFile)
    : undefined;

  const responseCache = useGatewayResponseCache({ config: config.cache, redis, identities, logger });
  metrics.observe({ cache: responseCache.stats, readings: () => readingHub.stats, circuit: () => upstreamCircuit.state });
  const requestSummary = useRequestSummary(identities, GRAPHQL_PATH, [
    (summary) => logger.info(summary, 'request completed'),
    metrics.countRequest,
  ]);
  const inFlight = new InFlightRequests();
  const readinessChecks = {
    upstream: upstreamCheck(upstreamExecutor, upstreamCircuit),
    database: databaseCheck(database),
    ...(redis ? { redis: redisCheck(redis) } : {}),
  };

  const yoga = createYoga({
    schema: mesh.schema,
    plugins: [
      // Probes and scrapers answer before authentication: they carry no client credentials.
      useReadiness(readinessChecks, () => inFlight.isDraining),
      ...useMetrics(metrics, { serveEndpoint: config.metrics.port === undefined, token: config.metrics.token }),
      requestSummary.start,
      ...meshPlugins,
      useAuthentication(authenticate, identities, logger),
      ...(trustedDocuments ? [useTrustedDocuments(trustedDocuments, identities)] : []),
      ...useOperationLimits(config.limits),
      useSchemaVisibility(identities, { customerIntrospection: config.auth.customerIntrospection }),
      useAuthorization(),
      ...useGatewayRateLimits({ config: config.rateLimit, redis, identities, logger, onRefused: metrics.countRateLimited }),
      ...responseCache,
      useSseResume(),
      requestSummary.finish,
    ],
    context: createContextFactory(
      new CustomerStore(database),
      new ConsumptionStore(database, config.consumption.timeZone),
      readingHub,
      config,
      logger,
    ),
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    batching: { limit: config.limits.maxBatch },
    logging: logger,
    maskedErrors: { maskError: createErrorMasker(logger) },
    // GraphiQL is for staff and explorers; a request that authenticates as a customer gets none.
    graphiql: async (request) => {
      if (!config.auth.customerIntrospection) {
        const identity = await authenticate(request.headers).catch(() => undefined);
        if (identity?.role === 'customer') return false;
      }
      return graphiqlOptions;
    },
    renderGraphiQL,
  });

  const server = createServer((request, response) => {
    inFlight.track(response);
    const requestId = requestIdFrom(request.headers['x-request-id']);
    response.setHeader('x-request-id', requestId);
    runWithRequestId(requestId, () => yoga(request, response));
  });
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  // Below keepAliveTimeout, the headers timeout could cut off a reused connection before its next request arrives.
  server.headersTimeout = config.keepAliveTimeoutMs + 1_000;
  const { wsHandle } = serveWebSockets(yoga, server, {
    authenticate,
    trustedDocuments,
    logger,
    keepAliveMs: config.subscriptions.clientKeepAliveMs,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
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
      if (!(await drained)) logger.warn({ inFlight: inFlight.size, shutdownTimeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline reached; cutting requests off');
      // Sockets whose close handshake does not finish in time are cut below with the rest.
      await Promise.race([wsHandle.dispose(), new Promise((resolve) => setTimeout(resolve, WS_CLOSE_WAIT_MS).unref())]);
      server.closeAllConnections();
      await stopped;
      await metricsServer?.close();
      await dispose();
      await redis?.close();
    },
  };
}
