import type { Plugin } from 'graphql-yoga';
import { noteQuery, type SimulatorStats } from './stats';

/**
 * Trouble a test can switch on at run time, to see how the gateway copes with a slow or failing
 * IOmeter. Applies to HTTP GraphQL requests only; WebSocket outages are `dropConnections()`.
 */
export interface SimulatorFaults {
  /** Every HTTP GraphQL request waits until this settles before it is handled: a stalled IOmeter. */
  hold?: Promise<unknown>;
  /** Every HTTP GraphQL request is answered with this status (e.g. 500) instead of being served. */
  status?: number;
}

/** Counts every arrival first, so tests also see the requests a fault then stalls or fails. */
export function useFaults(faults: SimulatorFaults, graphqlEndpoint: string, stats: SimulatorStats): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== graphqlEndpoint) return;
      stats.httpRequests += 1;
      if (faults.hold) await faults.hold.catch(() => undefined);
      if (faults.status) {
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message: 'injected fault' }] }), {
            status: faults.status,
            headers: { 'content-type': 'application/json' },
          }),
        );
      }
    },
    onParams({ params }) {
      if (typeof params.query === 'string') noteQuery(stats, params.query);
    },
  };
}
