import { getOperationAST, parse } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { identityHash } from '../identity/identityHash';
import type { Logger } from '../logger';
import { CACHE_HEADER } from '../cache/useGatewayResponseCache';
import type { RequestIdentities } from './requestIdentity';

/** The operation's name when the client did not send operationName; parsing only happens then. */
function operationNameIn(query: string | undefined): string | undefined {
  if (!query) return undefined;
  try {
    return getOperationAST(parse(query))?.name?.value;
  } catch {
    return undefined; // yoga reports the syntax error to the client
  }
}

interface RequestRecord {
  startedAt: number;
  operations: string[];
}

/**
 * One info line per HTTP request to the GraphQL endpoint, written when the response is ready:
 * operation name(s), who asked (the identity's pseudonym, never the subject), status, duration and
 * the response cache's verdict. The request id comes from the logger's request context.
 *
 * Two plugins, because yoga runs hooks in list order: `start` goes first, so it sees requests that
 * authentication or a rate limit then answer early and operations the cache answers; `finish` goes
 * last, so the response it logs carries the other plugins' headers (x-cache).
 */
export function useRequestLog(logger: Logger, identities: RequestIdentities, graphqlPath: string): { start: Plugin; finish: Plugin } {
  const records = new WeakMap<Request, RequestRecord>();
  const noteOperation = (request: Request, params: GraphQLParams) => {
    records.get(request)?.operations.push(params.operationName ?? operationNameIn(params.query) ?? 'Anonymous');
  };
  const start: Plugin = {
    onRequest({ request, url }) {
      if (url.pathname === graphqlPath) records.set(request, { startedAt: performance.now(), operations: [] });
    },
    // onParams, not onExecute: the response cache answers a hit from the params, before anything executes.
    onParams({ request, params }) {
      noteOperation(request, params);
    },
  };
  const finish: Plugin = {
    onResponse({ request, response }) {
      const record = records.get(request);
      if (!record) return;
      const identity = identities.of({ request });
      logger.info(
        {
          method: request.method,
          status: response.status,
          operationName: record.operations.join(',') || undefined,
          identity: identity ? identityHash(identity) : 'anonymous',
          durationMs: Math.round(performance.now() - record.startedAt),
          cache: response.headers.get(CACHE_HEADER) ?? undefined,
        },
        'request completed',
      );
    },
  };
  return { start, finish };
}
