import type { Plugin } from 'graphql-yoga';
import type { SimulatorStats } from './stats';

/**
 * Trouble a test can switch on at run time, to see how the gateway copes with a slow or failing
 * IOmeter. Applies to HTTP GraphQL requests only; WebSocket outages are `dropConnections()`.
 */
export interface SimulatorFaults {
  /** Every HTTP GraphQL request waits this long before it is handled. */
  latencyMs?: number;
  /** Every HTTP GraphQL request is answered with this status (e.g. 500) instead of being served. */
  status?: number;
}

export function useFaults(faults: SimulatorFaults, graphqlEndpoint: string, stats: SimulatorStats): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== graphqlEndpoint) return;
      if (faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
      if (faults.status) {
        stats.faultedRequests += 1;
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message: 'injected fault' }] }), {
            status: faults.status,
            headers: { 'content-type': 'application/json' },
          }),
        );
      }
    },
  };
}
