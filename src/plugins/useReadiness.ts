import type { Plugin } from 'graphql-yoga';
import { checkReadiness, type ReadinessCheck } from '../health/readiness';

export const READINESS_PATH = '/readyz';

/**
 * GET /readyz: 200 when every dependency answers, else 503; the JSON body names each dependency's
 * state either way. While the gateway drains for shutdown it is never ready, so load balancers stop
 * sending it traffic. (/healthz, liveness, is yoga's own health check and checks nothing external.)
 */
export function useReadiness(checks: Record<string, ReadinessCheck>, isDraining: () => boolean): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== READINESS_PATH) return;
      const report = isDraining()
        ? { status: 'unavailable', checks: { gateway: 'down: shutting down' } }
        : await checkReadiness(checks);
      endResponse(
        fetchAPI.Response.json(report, {
          status: report.status === 'ready' ? 200 : 503,
          headers: { 'cache-control': 'no-store' },
        }),
      );
    },
  };
}
