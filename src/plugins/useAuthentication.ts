import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Authenticator, Identity } from '../identity';
import type { Logger } from '../logging/logger';
import { errorResponse } from './errorResponse';

/** Who sent each HTTP request, set once by useAuthentication; read through identityOf. */
const identities = new WeakMap<Request, Identity>();

/**
 * The caller of an operation. Hooks that run before the GraphQL context exists (params, validation,
 * persisted operations) find it by the HTTP request; WebSocket operations carry it in their initial
 * context, and every context gets it from useAuthentication (`context.identity`).
 */
export function identityOf(context: { identity?: Identity; request?: Request }): Identity | undefined {
  return context.identity ?? (context.request ? identities.get(context.request) : undefined);
}

/** yoga renders GraphiQL for a browser's GET: a static page whose own requests authenticate like any other. */
export function isGraphiQLPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

export interface AuthenticationOptions {
  authenticate: Authenticator;
  logger: Logger;
}

/**
 * Resolves the caller before anything is parsed, so a rejected credential costs no GraphQL work,
 * and puts the identity on the context (`context.identity`) for everything downstream.
 */
export function useAuthentication({ authenticate, logger }: AuthenticationOptions): Plugin<{ identity?: Identity }> {
  return {
    async onRequest({ request, endResponse, fetchAPI }) {
      if (isGraphiQLPage(request)) return;
      try {
        identities.set(request, await authenticate(request.headers));
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        logger.info({ code: error.extensions.code, reason: error.originalError?.message }, 'request not authenticated');
        endResponse(errorResponse(error, fetchAPI, 401));
      }
    },
    onContextBuilding({ context, extendContext }) {
      const identity = identityOf(context as { identity?: Identity; request?: Request });
      if (identity && !context.identity) extendContext({ identity });
    },
  };
}
