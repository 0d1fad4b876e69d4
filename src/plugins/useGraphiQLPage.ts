import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { graphiqlPage, pageResponse } from '../graphiql/page';
import type { Authenticator } from '../identity';
import { clientKey } from '../rateLimit/clientKey';
import { createCounter, type CounterOptions } from '../rateLimit/counters';
import { rateLimitedError } from '../rateLimit/errors';
import { errorResponse } from './errorResponse';
import { isGraphiQLPage } from './useAuthentication';

export interface GraphiQLPageOptions {
  graphqlPath: string;
  /** GRAPHIQL: on in sandbox mode, off outside it unless GRAPHIQL=true. */
  enabled: boolean;
  page: GraphiQLOptions;
  authenticate: Authenticator;
  /** CUSTOMER_INTROSPECTION: without it, a request that authenticates as a customer gets no page. */
  customerIntrospection: boolean;
  /** Where page loads are counted (Redis or memory); undefined with RATE_LIMIT_ENABLED=false. */
  pageLoadCounter?: CounterOptions;
}

/**
 * Page loads per source address: a person reloading GraphiQL stays far below it, and a browser's
 * revalidations (304) count too. The budget is per TCP peer, so behind a proxy it is shared.
 */
export const PAGE_LOADS = { max: 30, windowMs: 60_000 };

/**
 * Serves GraphiQL (a browser's GET on the GraphQL path that accepts text/html) instead of yoga, which
 * renders the 9 MB page for every load and sends it uncompressed: here it is rendered and compressed
 * once (src/graphiql/page.ts), sent as br or gzip with an ETag and Cache-Control, and page loads count
 * against a budget per source address (loads come without credentials), so anonymous loads cannot
 * pin the CPU or the network (PAGE_LOADS). Outside sandbox mode the page is off unless GRAPHIQL=true.
 * `GET /` redirects to it.
 */
export function useGraphiQLPage(options: GraphiQLPageOptions): Plugin {
  const pageLoads = options.enabled && options.pageLoadCounter ? createCounter('graphiql', PAGE_LOADS, options.pageLoadCounter) : undefined;
  return {
    async onRequest({ request, url, serverContext, endResponse, fetchAPI }) {
      // A person typing the gateway's address lands in GraphiQL rather than on a blank 404.
      if (url.pathname === '/' && request.method === 'GET' && options.enabled) {
        return endResponse(new fetchAPI.Response(null, { status: 302, headers: { location: options.graphqlPath } }));
      }
      if (url.pathname !== options.graphqlPath || !isGraphiQLPage(request)) return;
      const notFound = () => endResponse(new fetchAPI.Response('GraphiQL is off on this gateway (GRAPHIQL=true turns it on).\n', {
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      }));
      if (!options.enabled) return notFound();
      if (!options.customerIntrospection) {
        const identity = await options.authenticate(request.headers).catch(() => undefined);
        if (identity?.role === 'customer') return notFound();
      }
      // A page load runs no operation: while the counters cannot be reached it is served uncounted.
      const verdict = await pageLoads?.consume(clientKey(undefined, serverContext), 1).catch(() => undefined);
      if (verdict && !verdict.admitted) return endResponse(errorResponse(rateLimitedError(verdict.retryAfterSeconds), fetchAPI, 429));
      endResponse(pageResponse(await graphiqlPage(options.page), request, fetchAPI));
    },
  };
}
