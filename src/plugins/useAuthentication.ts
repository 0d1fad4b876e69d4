import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Authenticator, Identity } from '../identity';
import type { Logger } from '../logging/logger';
import type { RequestIdentities } from './requestIdentity';

/** yoga renders GraphiQL for a browser's GET: a static page whose own requests authenticate like any other. */
function isGraphiQLPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

function errorResponse(error: GraphQLError, fetchAPI: { Response: typeof Response }): Response {
  const http = (error.extensions.http ?? {}) as { status?: number; headers?: Record<string, string> };
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] }), {
    status: http.status ?? 401,
    headers: { 'content-type': 'application/json; charset=utf-8', ...http.headers },
  });
}

/**
 * Resolves the caller before anything is parsed, so a rejected credential costs no GraphQL work,
 * and puts the identity on the context (`context.identity`) for everything downstream.
 */
export function useAuthentication(
  authenticate: Authenticator,
  identities: RequestIdentities,
  logger: Logger,
): Plugin<{ identity?: Identity }> {
  return {
    async onRequest({ request, endResponse, fetchAPI }) {
      if (isGraphiQLPage(request)) return;
      try {
        identities.set(request, await authenticate(request.headers));
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        logger.info({ code: error.extensions.code, reason: error.originalError?.message }, 'request not authenticated');
        endResponse(errorResponse(error, fetchAPI));
      }
    },
    onContextBuilding({ context, extendContext }) {
      const identity = identities.of(context as { identity?: Identity; request?: Request });
      if (identity && !context.identity) extendContext({ identity });
    },
  };
}
