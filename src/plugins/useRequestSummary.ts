import { parse, type DocumentNode } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { identityHash } from '../identity/identityHash';
import { graphqlClientOf } from '../shared/graphqlClient';
import { boundedOperationName, INVALID_OPERATION, operationIn } from '../metrics/operationLabels';
import { identityOf } from './useAuthentication';
import { cacheVerdictOf } from './useGatewayResponseCache';

/** What is known about an HTTP GraphQL request once its response is ready. */
export interface RequestSummary {
  method: string;
  status: number;
  /**
   * Names of the operations in it, comma-separated for a batch, as their documents name them (never the
   * client's operationName text), each cut to MAX_OPERATION_NAME_LENGTH: 'Anonymous' for unnamed ones,
   * 'invalid' for operations that neither executed nor came from the response cache.
   */
  operationName?: string;
  /** The caller's pseudonym (identityHash), never the subject; 'anonymous' without credentials. */
  identity: string;
  durationMs: number;
  /** The response cache's verdict (x-cache), for queries it saw. */
  cache?: string;
  /** The app and its version, as the request's client headers name them (src/shared/graphqlClient.ts). */
  clientName?: string;
  clientVersion?: string;
}

/** Names found by parsing, per query text: clients send the same few documents again and again. */
const namesByQuery = new LRUCache<string, { name: string }>({ max: 1_000 });

/**
 * The operation a cache hit answered: the entry was stored for this very document and operation name
 * after they executed, so the name is one the document holds. Parsed only then (cached per text).
 */
function cachedOperationName(params: GraphQLParams, trustedDocument: TrustedDocumentLookup): string {
  const hash = (params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)?.sha256Hash;
  const query = params.query || (typeof hash === 'string' ? trustedDocument(hash) : null) || '';
  const key = `${params.operationName ?? ''}\n${query}`;
  let found = namesByQuery.get(key);
  if (!found) {
    let document: DocumentNode | undefined;
    try {
      document = parse(query);
    } catch {
      document = undefined;
    }
    found = { name: operationIn(document, params.operationName).name };
    namesByQuery.set(key, found);
  }
  return found.name;
}

interface RequestRecord {
  startedAt: number;
  /** Operations as the client sent them, in order. */
  params: GraphQLParams[];
  /** Names of the operations that executed, from their parsed documents. */
  executed: string[];
}

/** The trusted document of a hash (PERSISTED_OPERATIONS_FILE), for cache hits sent by hash only. */
type TrustedDocumentLookup = (hash: string) => string | null;

export interface RequestSummaryOptions {
  graphqlPath: string;
  trustedDocument?: TrustedDocumentLookup;
  /** Each summary goes to every sink: the request log line, the request metrics. */
  onSummary: ReadonlyArray<(summary: RequestSummary) => void>;
}

/**
 * Sums up every HTTP request to the GraphQL endpoint for the request log line and the request
 * metrics, so both count the same requests the same way, cache hits and early refusals included.
 *
 * It goes before authentication, rate limits and the response cache, since yoga runs hooks in list
 * order: its onRequest sees the requests they answer early, and its onParams the operations the cache
 * answers (from their params: a cache hit is never parsed or executed). The cache's verdict comes from
 * the cache itself (cacheVerdictOf), whose onResponse runs after this one.
 */
export function useRequestSummary({ graphqlPath, trustedDocument = () => null, onSummary }: RequestSummaryOptions): Plugin {
  const records = new WeakMap<Request, RequestRecord>();
  /** An operation about to execute or subscribe, under its document's name. */
  const noteExecuted = ({ args }: { args: { contextValue: unknown; document: DocumentNode; operationName?: string | null } }) => {
    const request = (args.contextValue as { request?: Request }).request;
    if (request) records.get(request)?.executed.push(operationIn(args.document, args.operationName).name);
  };
  return {
    onRequest({ request, url }) {
      if (url.pathname === graphqlPath) records.set(request, { startedAt: performance.now(), params: [], executed: [] });
    },
    onParams({ request, params }: { request: Request; params: GraphQLParams }) {
      records.get(request)?.params.push(params);
    },
    onExecute: noteExecuted,
    onSubscribe: noteExecuted,
    onResponse({ request, response }) {
      const record = records.get(request);
      if (!record) return;
      const identity = identityOf({ request });
      const cache = cacheVerdictOf(request, response);
      const client = graphqlClientOf((name) => request.headers.get(name));
      const summary: RequestSummary = {
        method: request.method,
        status: response.status,
        operationName: operationNames(record, cache === 'HIT' && response.ok, trustedDocument),
        identity: identity ? identityHash(identity) : 'anonymous',
        durationMs: Math.round(performance.now() - record.startedAt),
        cache,
        clientName: client.name,
        clientVersion: client.version,
      };
      for (const sink of onSummary) sink(summary);
    },
  };
}

/** The summary's operationName: executed operations by their documents' names, the rest `invalid`. */
function operationNames(record: RequestRecord, allFromCache: boolean, trustedDocument: TrustedDocumentLookup): string | undefined {
  if (record.params.length === 0) return undefined;
  // Every operation the cache answered was stored after it executed; then none executed now.
  const names = allFromCache
    ? record.params.map((params) => cachedOperationName(params, trustedDocument))
    : record.params.map((_params, index) => record.executed[index] ?? INVALID_OPERATION);
  return names.map(boundedOperationName).join(',');
}
