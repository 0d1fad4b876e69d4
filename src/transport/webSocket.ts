import type { IncomingHttpHeaders, Server } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerTokenExpiresAtMs, headersFromConnectionParams, type Authenticator, type Identity } from '../identity';
import type { Logger } from '../logging/logger';
import { requestIdFrom, runWithRequestId } from '../logging/requestContext';
import { graphqlClientOf, type GraphQLClient } from '../shared/graphqlClient';
import { boundedMessage } from '../shared/quote';
import type { TrustedDocuments } from '../persisted/trustedDocuments';
import type { FrameSink } from '../subscriptions';
import { nextFrameSink } from './webSocketFrames';
import { WebSocketOperationLog } from './webSocketOperationLog';

export interface WebSocketOptions {
  /** The GraphQL path, where the upgrade is accepted. */
  path: string;
  authenticate: Authenticator;
  trustedDocuments?: TrustedDocuments;
  logger: Logger;
  /** graphql-ws pings every client this often and drops one whose pong does not come back in time. */
  keepAliveMs: number;
  /** LIMIT_MAX_DOCUMENT_BYTES, as over HTTP. */
  maxDocumentBytes: number;
}

/**
 * Largest WebSocket message accepted (ws closes the socket with 1009 beyond it): a document within
 * LIMIT_MAX_DOCUMENT_BYTES and its variables fit many times over; ws's own default is 100 MiB.
 */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** graphql-ws close code and reason for a socket whose JWT expired (as for a refused connection_init). */
const TOKEN_EXPIRED = { code: 4403, reason: 'token expired' } as const;

/** setTimeout's longest delay; a token valid for longer is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * graphql-ws requires a subscribe payload's `query` to be a string and closes the socket (4400)
 * otherwise, but the standard persisted-operation subscribe sends only the hash in `extensions`: such
 * a message gets an empty query, which the trusted documents replace by the hash's document.
 */
function reviveHashOnlySubscribe(key: string, value: any): any {
  if (key !== '' || value?.type !== 'subscribe' || typeof value.payload !== 'object' || value.payload === null) return value;
  if (value.payload.query !== undefined || value.payload.extensions?.persistedQuery === undefined) return value;
  return { ...value, payload: { ...value.payload, query: '' } };
}

/**
 * The app and version of a WebSocket connection: from its connection_init payload (browsers cannot set
 * headers on the upgrade), else from the upgrade request's headers.
 */
function clientOfConnection(params: Readonly<Record<string, unknown>> | undefined, upgradeHeaders: IncomingHttpHeaders): GraphQLClient {
  return graphqlClientOf((name) => {
    const fromPayload = params?.[name];
    if (typeof fromPayload === 'string') return fromPayload;
    const fromUpgrade = upgradeHeaders[name];
    return Array.isArray(fromUpgrade) ? fromUpgrade[0] : fromUpgrade;
  });
}

/** Closes `socket` when the token it authenticated with expires, so a revoked session ends. */
function closeAtExpiry(socket: WebSocket, expiresAtMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = expiresAtMs - Date.now();
    if (left <= 0) socket.close(TOKEN_EXPIRED.code, TOKEN_EXPIRED.reason);
    else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  socket.once('close', () => clearTimeout(timer));
}

/** An error for the operation alone (graphql-ws sends it as that operation's `error` message). */
function operationError(message: string, code: string): GraphQLError {
  return new GraphQLError(boundedMessage(message), { extensions: { code } });
}

/** A validation error as sent: its message may quote a literal of the client's, cut like HTTP's. */
function boundedValidationError(error: GraphQLError): GraphQLError {
  const message = boundedMessage(error.message);
  return message === error.message ? error : new GraphQLError(message, { nodes: error.nodes, extensions: error.extensions });
}

/** An operation between graphql-ws's onSubscribe and its execution: yoga's envelop functions and the operation's context. */
interface PendingOperation {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  contextValue: { requestId: string };
}

/**
 * graphql-transport-ws on the GraphQL path, the way yoga's docs wire graphql-ws: every operation runs
 * through yoga's envelop (yoga.getEnveloped), i.e. the request pipeline's own context, parse, validate,
 * execute and subscribe hooks (src/pipeline.ts), with its identity and a request id of its own. What
 * yoga does only for HTTP requests runs here through the same functions: the authenticator, once per
 * connection (connection_init payload or the upgrade request's headers), and the trusted documents.
 */
export function serveWebSockets(yoga: YogaServerInstance<any, any>, server: Server, options: WebSocketOptions) {
  const wsServer = new WebSocketServer({ server, path: options.path, maxPayload: MAX_MESSAGE_BYTES });
  const identities = new WeakMap<object, Identity>();
  const clients = new WeakMap<object, GraphQLClient>();
  const operationLog = new WebSocketOperationLog(options.logger);
  /**
   * graphql-ws keeps the arguments it executes with until the operation ends (hours, for a
   * subscription), so they do not carry the operation's context: it is handed over once, here, and
   * from then on only what the execution itself needs of it stays alive (for a live-readings member,
   * nothing: its group's subscription executes).
   */
  const pendingOperations = new WeakMap<object, PendingOperation>();
  const inRequest = (run: 'execute' | 'subscribe') => (args: ExecutionArgs) => {
    const operation = pendingOperations.get(args)!;
    pendingOperations.delete(args);
    return runWithRequestId(operation.contextValue.requestId, () => operation[run]({ ...args, contextValue: operation.contextValue }));
  };

  return useServer(
    {
      execute: inRequest('execute') as any,
      subscribe: inRequest('subscribe') as any,
      jsonMessageReviver: reviveHashOnlySubscribe,
      onConnect: async (ctx) => {
        try {
          const headers = headersFromConnectionParams(ctx.connectionParams, ctx.extra.request.headers);
          identities.set(ctx.extra, await options.authenticate(headers));
          clients.set(ctx.extra, clientOfConnection(ctx.connectionParams, ctx.extra.request.headers));
          const expiresAtMs = bearerTokenExpiresAtMs(headers);
          if (expiresAtMs !== undefined) closeAtExpiry(ctx.extra.socket, expiresAtMs);
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
        if (Buffer.byteLength(query, 'utf8') > options.maxDocumentBytes) {
          return [operationError(`The document exceeds ${options.maxDocumentBytes} bytes.`, 'BAD_REQUEST')];
        }
        const frames = nextFrameSink(ctx.extra.socket, ctx.extra.request.socket, id);
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: { ...payload, query },
          identity,
          requestId,
          // Shared live readings write their pre-serialized results here (useSharedLiveExecution).
          liveFrames: {
            next: (payloadJson: string) => {
              frames.next(payloadJson);
              operationLog.result(ctx.extra, id);
            },
            get backlog() {
              return frames.backlog;
            },
          } satisfies FrameSink,
        });
        let document;
        try {
          document = parse(query);
        } catch (error) {
          // A syntax error (or too many tokens) ends this operation, not the socket and its other operations.
          if (!(error instanceof GraphQLError)) throw error;
          return [operationError(error.message, 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors.map(boundedValidationError);
        operationLog.begin(ctx.extra, id, { requestId, identity, document, operationName: payload.operationName, client: clients.get(ctx.extra) ?? {} });
        const executionArgs = { schema, operationName: payload.operationName, document, variableValues: payload.variables };
        pendingOperations.set(executionArgs, { execute, subscribe, contextValue: (await contextFactory()) as PendingOperation['contextValue'] });
        return executionArgs;
      },
      onNext: (ctx, id) => operationLog.result(ctx.extra, id),
      onError: (ctx, id, _payload, errors) => operationLog.end(ctx.extra, id, errors),
      onComplete: (ctx, id) => operationLog.end(ctx.extra, id),
    },
    wsServer,
    options.keepAliveMs,
  );
}
