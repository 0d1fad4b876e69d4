import type { Executor } from '@graphql-tools/utils';
import { parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../database';
import type { RedisConnection } from '../redis/connection';
import { withTimeout } from '../shared/timeout';
import type { UpstreamCircuit } from '../upstream/circuitBreaker';

/** Resolves when the dependency is usable; rejects with a short reason a client may read. */
export type ReadinessCheck = () => Promise<void>;

export interface DependencyReport {
  /** 'ok' or 'down: <reason>' per shared dependency. */
  checks: Record<string, string>;
  /** Whether every dependency answered. */
  allOk: boolean;
}

/** A check that has not answered by then counts as down: readiness must answer promptly. */
const CHECK_TIMEOUT_MS = 2_000;

/** Asks every shared dependency at once; for /readyz's body and the dependency gauge. */
export async function checkDependencies(checks: Record<string, ReadinessCheck>): Promise<DependencyReport> {
  const names = Object.keys(checks);
  const outcomes = await Promise.allSettled(
    names.map((name) => withTimeout(checks[name]!(), CHECK_TIMEOUT_MS, `no answer within ${CHECK_TIMEOUT_MS} ms`)),
  );
  const report: DependencyReport = { checks: {}, allOk: true };
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled') {
      report.checks[names[index]!] = 'ok';
    } else {
      report.allOk = false;
      report.checks[names[index]!] = `down: ${(outcome.reason as Error)?.message ?? String(outcome.reason)}`;
    }
  });
  return report;
}

/** How long one upstream probe answers for: a readiness probe every second must not become IOmeter load. */
const UPSTREAM_PROBE_TTL_MS = 5_000;
const PROBE = { document: parse('query ReadinessProbe { __typename }') };

/**
 * IOmeter is ready when the circuit is closed and a trivial query through the gateway's own transport
 * (credentials, concurrency gate, breaker) succeeds. Reasons name the error code, never a response body.
 */
export function upstreamCheck(executor: Executor, circuit: UpstreamCircuit): ReadinessCheck {
  let last: { at: number; probe: Promise<void> } | undefined;
  const probe = async () => {
    const result = (await executor(PROBE)) as { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> };
    if (result.errors?.length) throw new Error(String(result.errors[0]!.extensions?.code ?? 'UPSTREAM_ERROR'));
  };
  return async () => {
    if (circuit.state === 'open') throw new Error('circuit open');
    if (!last || Date.now() - last.at > UPSTREAM_PROBE_TTL_MS) last = { at: Date.now(), probe: probe() };
    return last.probe;
  };
}

export const redisCheck = (redis: RedisConnection): ReadinessCheck => async () => {
  await redis.client.ping();
};

export const databaseCheck = (database: Database): ReadinessCheck => async () => {
  await database.query('select 1');
};

export const READINESS_PATH = '/readyz';

/**
 * GET /readyz reports whether this process can serve: it answers only once started (the database
 * migrated, the listener open), and while it drains for shutdown it answers 503 so load balancers
 * stop sending it traffic. IOmeter, the database and Redis are shared by every replica: when one is
 * down, taking replicas out would only take them all out, and with them the fail-open cache, the
 * breaker's masked errors and the archive fallback. So a dependency that is down turns the status to
 * `degraded`, named in the body, with 200. (/healthz, liveness, is yoga's own and checks nothing.)
 */
export interface ReadinessOptions {
  checks: Record<string, ReadinessCheck>;
  isDraining: () => boolean;
}

export function useReadiness({ checks, isDraining }: ReadinessOptions): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== READINESS_PATH) return;
      const headers = { 'cache-control': 'no-store' };
      if (isDraining()) {
        endResponse(fetchAPI.Response.json({ status: 'unavailable', checks: { gateway: 'down: shutting down' } }, { status: 503, headers }));
        return;
      }
      const { checks: states, allOk } = await checkDependencies(checks);
      endResponse(fetchAPI.Response.json({ status: allOk ? 'ready' : 'degraded', checks: states }, { status: 200, headers }));
    },
  };
}
