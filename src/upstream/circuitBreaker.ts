import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import type { Logger } from '../logging/logger';
import { isUpstreamOutage, upstreamError } from './errors';

export type CircuitStateName = 'closed' | 'open' | 'half-open';

export interface UpstreamCircuit {
  readonly state: CircuitStateName;
  /** The same fetch, failing fast with UPSTREAM_UNAVAILABLE while the circuit is open. */
  guard(fetch: typeof globalThis.fetch): typeof globalThis.fetch;
}

const stateNames: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/**
 * One breaker for every IOmeter HTTP request of the process (cockatiel). After `failures` outages in a
 * row it opens: requests fail at once with UPSTREAM_UNAVAILABLE instead of each waiting out a timeout
 * against an IOmeter that is down, and IOmeter gets room to recover. After `cooldownMs` one request
 * is let through as a probe; its success closes the circuit, its failure opens it for another cool-down.
 */
export function createUpstreamCircuit(options: { failures: number; cooldownMs: number }, logger: Logger): UpstreamCircuit {
  const policy = circuitBreaker(handleWhen(isUpstreamOutage), {
    halfOpenAfter: options.cooldownMs,
    breaker: new ConsecutiveBreaker(options.failures),
  });
  policy.onBreak(() => logger.warn({ upstream: 'iometer', circuit: 'open', cooldownMs: options.cooldownMs }, 'IOmeter circuit opened: failing fast'));
  policy.onHalfOpen(() => logger.info({ upstream: 'iometer', circuit: 'half-open' }, 'IOmeter circuit half-open: probing'));
  policy.onReset(() => logger.info({ upstream: 'iometer', circuit: 'closed' }, 'IOmeter circuit closed again'));

  return {
    get state() {
      return stateNames[policy.state];
    },
    guard: (fetch) => async (input, init) => {
      try {
        return await policy.execute(() => fetch(input, init));
      } catch (error) {
        if (error instanceof BrokenCircuitError) throw upstreamError('UPSTREAM_UNAVAILABLE', error);
        throw error;
      }
    },
  };
}
