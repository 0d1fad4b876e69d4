import { getOperationAST, type DocumentNode, type GraphQLError } from 'graphql';
import { identityHash } from '../identity/identityHash';
import type { Identity } from '../identity';
import type { Logger } from '../logging/logger';
import { boundedOperationName } from '../metrics/operationLabels';
import type { GraphQLClient } from '../shared/graphqlClient';

interface Operation {
  requestId: string;
  operationName: string;
  identity: string;
  startedAt: number;
  results: number;
  clientName?: string;
  clientVersion?: string;
}

/**
 * The WebSocket counterpart of the HTTP request log line: one line per graphql-ws operation when it
 * ends (a subscription may last hours), with the same fields plus how many results it sent.
 */
export class WebSocketOperationLog {
  /** Per socket (graphql-ws's ctx.extra), per operation id. */
  private readonly operations = new WeakMap<object, Map<string, Operation>>();

  constructor(private readonly logger: Logger) {}

  begin(
    socket: object,
    id: string,
    start: { requestId: string; identity: Identity; document: DocumentNode; operationName?: string | null; client: GraphQLClient },
  ): void {
    let bySocket = this.operations.get(socket);
    if (!bySocket) this.operations.set(socket, (bySocket = new Map()));
    bySocket.set(id, {
      requestId: start.requestId,
      operationName: boundedOperationName(getOperationAST(start.document, start.operationName)?.name?.value ?? 'Anonymous'),
      identity: identityHash(start.identity),
      startedAt: performance.now(),
      results: 0,
      clientName: start.client.name,
      clientVersion: start.client.version,
    });
  }

  result(socket: object, id: string): void {
    const operation = this.operations.get(socket)?.get(id);
    if (operation) operation.results += 1;
  }

  /** Logs and forgets the operation; errors end an operation without a complete message. */
  end(socket: object, id: string, errors?: readonly GraphQLError[]): void {
    const bySocket = this.operations.get(socket);
    const operation = bySocket?.get(id);
    if (!operation) return;
    bySocket!.delete(id);
    const { startedAt, ...fields } = operation;
    const summary = { transport: 'ws', ...fields, durationMs: Math.round(performance.now() - startedAt) };
    if (errors) this.logger.info({ ...summary, codes: errors.map((error) => error.extensions?.code ?? 'INTERNAL_SERVER_ERROR') }, 'operation failed');
    else this.logger.info(summary, 'operation completed');
  }
}
