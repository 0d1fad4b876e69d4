import type { Server } from 'node:http';
import type { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { headersFromConnectionParams, type Authenticator, type Identity } from '../identity';
import type { Logger } from '../logging/logger';
import { requestIdFrom, runWithRequestId } from '../logging/requestContext';
import type { TrustedDocuments } from '../plugins/useTrustedDocuments';
import { WebSocketOperationLog } from './webSocketOperationLog';

export interface WebSocketOptions {
  /** The GraphQL path, where the upgrade is accepted. */
  path: string;
  authenticate: Authenticator;
  trustedDocuments?: TrustedDocuments;
  logger: Logger;
  /** graphql-ws pings every client this often and drops one whose pong does not come back in time. */
  keepAliveMs: number;
}

/**
 * graphql-transport-ws on the GraphQL path, the way yoga's docs wire graphql-ws: every operation runs
 * through yoga's envelop (yoga.getEnveloped), i.e. the request pipeline's own context, parse, validate,
 * execute and subscribe hooks (src/pipeline.ts), with its identity and a request id of its own. What
 * yoga does only for HTTP requests runs here through the same functions: the authenticator, once per
 * connection (connection_init payload or the upgrade request's headers), and the trusted documents.
 */
export function serveWebSockets(yoga: YogaServerInstance<any, any>, server: Server, options: WebSocketOptions) {
  const wsServer = new WebSocketServer({ server, path: options.path });
  const identities = new WeakMap<object, Identity>();
  const operationLog = new WebSocketOperationLog(options.logger);
  type OperationArgs = { rootValue: { execute: any; subscribe: any }; contextValue: { requestId: string } };
  const inRequest = (run: 'execute' | 'subscribe') => (args: OperationArgs) =>
    runWithRequestId(args.contextValue.requestId, () => args.rootValue[run](args));

  return useServer(
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
}
