import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { GatewayConfig, UpstreamConfig } from './config';
import { createContextFactory } from './context';
import type { Database } from './customers/database';
import { CustomerStore } from './customers/store';
import { createErrorMasker } from './errors';
import type { Logger } from './logger';
import { createGatewayMesh } from './mesh';

export const GRAPHQL_PATH = '/graphql';

const exampleOperations = readFileSync(join(__dirname, 'graphiql', 'examples.graphql'), 'utf8');

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
  close(): Promise<void>;
}

/** The WebSocket transport runs every operation through the same envelop pipeline as HTTP. */
function serveWebSockets(yoga: YogaServerInstance<any, any>, server: Server) {
  const wsServer = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const wsHandle = useServer(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wsServer,
  );
  return { wsServer, wsHandle };
}

export async function startGateway({ config, upstream, logger, database }: GatewayOptions): Promise<RunningGateway> {
  const { mesh, dispose } = await createGatewayMesh(upstream, logger);
  const yoga = createYoga({
    schema: mesh.schema,
    plugins: mesh.plugins,
    context: createContextFactory(new CustomerStore(database), config),
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    logging: logger,
    maskedErrors: { maskError: createErrorMasker(logger) },
    graphiql: {
      title: 'IOmeter Gateway',
      defaultQuery: exampleOperations,
      subscriptionsProtocol: 'WS',
    },
    renderGraphiQL,
  });

  const server = createServer(yoga);
  const { wsServer, wsHandle } = serveWebSockets(yoga, server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;

  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    wsUrl: `ws://${host}:${port}${GRAPHQL_PATH}`,
    port,
    close: async () => {
      await wsHandle.dispose();
      wsServer.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispose();
    },
  };
}
