import { Store, type Identity } from '@envelop/rate-limiter';
import type { Budget } from './budgets';
import { createCounter, type Counter, type CounterOptions, type Verdict } from './counters';

/**
 * @envelop/rate-limiter's store, counting atomically. The package asks for a field's past timestamps,
 * adds this call and writes them all back, which loses counts under concurrency and across replicas.
 * Here the read is the count: getForIdentity spends one of the budget on the shared counter
 * (rate-limiter-flexible: a Lua script on Redis, in memory without it, RATE_LIMIT_ON_REDIS_ERROR while
 * Redis is down) and answers with as many timestamps as make the package's own check come out the same
 * way: none when admitted, `max` when refused. setForIdentity has nothing left to do.
 *
 * The package's field identity is `fieldName:identifier`, and every identifier is the field's
 * coordinate (src/rateLimit/fieldLimits.ts), which names the budget.
 */
export class CounterStore extends Store {
  private readonly counters = new Map<string, { counter: Counter; budget: Budget }>();
  /** Retry-After of refusals the package has not reported yet, by client and coordinate. */
  private readonly refusals = new Map<string, number>();

  constructor(budgets: ReadonlyMap<string, Budget>, options: CounterOptions) {
    super();
    for (const [coordinate, budget] of budgets) {
      this.counters.set(coordinate, { counter: createCounter(coordinate, budget, options), budget });
    }
  }

  async getForIdentity({ contextIdentity, fieldIdentity }: Identity): Promise<readonly number[]> {
    const coordinate = fieldIdentity.slice(fieldIdentity.indexOf(':') + 1);
    const entry = this.counters.get(coordinate);
    if (!entry) throw new Error(`no rate-limit budget for ${coordinate}`);
    const verdict = await entry.counter.consume(contextIdentity, 1);
    if (verdict.admitted) return [];
    this.refusals.set(refusalKey(contextIdentity, coordinate), verdict.retryAfterSeconds);
    return new Array<number>(entry.budget.max).fill(Date.now());
  }

  /** One of `coordinate`'s budget for `client`, outside the package; undefined when the field has no budget. */
  spend(client: string, coordinate: string): Promise<Verdict> | undefined {
    return this.counters.get(coordinate)?.counter.consume(client, 1);
  }

  setForIdentity(): void {
    // Counted in getForIdentity.
  }

  /** The Retry-After (whole seconds) of the refusal just reported for this client and coordinate. */
  takeRetryAfter(client: string, coordinate: string): number {
    const key = refusalKey(client, coordinate);
    const seconds = this.refusals.get(key) ?? 1;
    this.refusals.delete(key);
    return seconds;
  }
}

const refusalKey = (client: string, coordinate: string) => `${client} ${coordinate}`;
