import { getOperationAST, parse } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { identityHash } from '../identity/identityHash';
import { identityOf } from './useAuthentication';
import { cacheVerdictOf } from './useGatewayResponseCache';

/** What is known about an HTTP GraphQL request once its response is ready. */
export interface RequestSummary {
  method: string;
  status: number;
  /** Names of the operations in it, comma-separated for a batch; 'Anonymous' for unnamed ones. */
  operationName?: string;
  /** The caller's pseudonym (identityHash), never the subject; 'anonymous' without credentials. */
  identity: string;
  durationMs: number;
  /** The response cache's verdict (x-cache), for queries it saw. */
  cache?: string;
}

/** Names found by parsing, per query text: clients send the same few documents again and again. */
const namesByQuery = new LRUCache<string, { name?: string }>({ max: 1_000 });

/** The operation's name when the client did not send operationName; parsing only happens then. */
function operationNameIn(query: string | undefined): string | undefined {
  if (!query) return undefined;
  let found = namesByQuery.get(query);
  if (!found) {
    try {
      found = { name: getOperationAST(parse(query))?.name?.value };
    } catch {
      found = {}; // yoga reports the syntax error to the client
    }
    namesByQuery.set(query, found);
  }
  return found.name;
}

interface RequestRecord {
  startedAt: number;
  operations: string[];
}

export interface RequestSummaryOptions {
  graphqlPath: string;
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
export function useRequestSummary({ graphqlPath, onSummary }: RequestSummaryOptions): Plugin {
  const records = new WeakMap<Request, RequestRecord>();
  return {
    onRequest({ request, url }) {
      if (url.pathname === graphqlPath) records.set(request, { startedAt: performance.now(), operations: [] });
    },
    onParams({ request, params }: { request: Request; params: GraphQLParams }) {
      records.get(request)?.operations.push(params.operationName ?? operationNameIn(params.query) ?? 'Anonymous');
    },
    onResponse({ request, response }) {
      const record = records.get(request);
      if (!record) return;
      const identity = identityOf({ request });
      const summary: RequestSummary = {
        method: request.method,
        status: response.status,
        operationName: record.operations.join(',') || undefined,
        identity: identity ? identityHash(identity) : 'anonymous',
        durationMs: Math.round(performance.now() - record.startedAt),
        cache: cacheVerdictOf(request, response),
      };
      for (const sink of onSummary) sink(summary);
    },
  };
}
