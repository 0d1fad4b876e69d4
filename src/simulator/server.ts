import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs, type execute, type subscribe } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { createAuthorizationCheck, useBasicAuth, webSocketAuthorization, type Credentials } from './auth';
import { useSandboxRoutes } from './sandboxRoutes';
import { useFaults, type SimulatorFaults } from './faults';
import { createSimulatorSchema, type SimulatorContext } from './schema';
import type { Simulation } from './simulation';

/** HTTP and WebSocket share the real API's path. */
export const GRAPHQL_PATH = '/v1/query';

export interface SimulatorServer {
  /** Terminates every WebSocket, as an upstream outage would. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Operations run through Yoga's envelop on both transports, so masking and context are the same. */
type EnvelopedArgs = ExecutionArgs & { rootValue: { execute: typeof execute; subscribe: typeof subscribe } };

export function serveSimulation(
  httpServer: Server,
  sim: Simulation,
  credentials: Credentials,
  faults: SimulatorFaults,
): SimulatorServer {
  const isAuthorized = createAuthorizationCheck(credentials);
  const yoga = createYoga<Record<string, unknown>, SimulatorContext>({
    schema: createSimulatorSchema(),
    context: { sim },
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/healthz',
    graphiql: false,
    landingPage: false,
    maskedErrors: true,
    plugins: [
      useFaults(faults, GRAPHQL_PATH, sim.stats),
      useBasicAuth({ isAuthorized, graphqlEndpoint: GRAPHQL_PATH, stats: sim.stats }),
      useSandboxRoutes(sim.registrations),
    ],
  });
  httpServer.on('request', yoga);

  const webSockets = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  const graphqlWs = useServer(
    {
      // Returning false closes the socket with 4403 Forbidden.
      onConnect: (ctx) => {
        sim.stats.connectionInitPayloads.push(ctx.connectionParams);
        return isAuthorized(webSocketAuthorization(ctx.connectionParams, ctx.extra.request.headers.authorization));
      },
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload });
        let document;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const args: EnvelopedArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        return args;
      },
    },
    webSockets,
  );

  const dropConnections = () => {
    for (const socket of webSockets.clients) socket.terminate();
  };

  return {
    dropConnections,
    async close() {
      dropConnections();
      await graphqlWs.dispose();
      await new Promise<void>((resolve) => webSockets.close(() => resolve()));
      await yoga.dispose();
    },
  };
}
