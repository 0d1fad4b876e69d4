import { parseDuration } from '../shared/duration';

/**
 * Rate-limit budgets: at most `max` operations (or selections of a field) per window, per client.
 * Windows are whole seconds because the counters live in Redis keys that expire by the second.
 */
export interface Budget {
  max: number;
  windowMs: number;
}

/**
 * RATE_LIMIT_FIELDS over the defaults, keyed by schema coordinate (`Type.field`); `off` switches a
 * default off. Start-up checks the coordinates against the schema (src/rateLimit/fieldLimits.ts).
 */
export type FieldBudgets = ReadonlyMap<string, Budget | 'off'>;

const MINUTE = 60_000;

/**
 * Budgets for IOmeter-owned fields, which have no SDL of ours to carry a `@rateLimit` directive:
 * they change IOmeter's state or fetch pages of readings. Gateway-owned fields declare theirs with
 * the directive in additional-typedefs/.
 */
export const DEFAULT_FIELD_BUDGETS: Readonly<Record<string, Budget>> = Object.freeze({
  'Mutation.createRegistrationToken': { max: 10, windowMs: MINUTE },
  'Mutation.updateLicense': { max: 30, windowMs: MINUTE },
  'IometerProvider.readings': { max: 60, windowMs: MINUTE },
});

const COORDINATE = /^[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*$/;
/** A duration in whole seconds, minutes, hours or days: no bare numbers, no ms. */
const WINDOW = /^\d+(s|m|h|d)$/;
const EXAMPLE = 'e.g. Query.customers=100/1h,IometerProvider.readings=off';

/** A window such as `30s`, `1m`, `1h` or `1d`, in milliseconds. */
export function parseWindow(value: string): number {
  const windowMs = WINDOW.test(value) ? parseDuration(value) : 0;
  if (!windowMs) throw new Error(`invalid window "${value}": use whole seconds, minutes, hours or days such as 30s, 1m, 1h`);
  return windowMs;
}

/**
 * RATE_LIMIT_FIELDS: comma-separated `Type.field=max/window` entries that override or extend
 * DEFAULT_FIELD_BUDGETS; `Type.field=off` switches a default off. Throws an Error naming the bad entry.
 */
export function parseFieldBudgets(raw: string | undefined): FieldBudgets {
  const budgets = new Map<string, Budget | 'off'>(Object.entries(DEFAULT_FIELD_BUDGETS));
  const seen = new Set<string>();
  for (const entry of (raw ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const separator = entry.indexOf('=');
    const coordinate = separator < 0 ? entry : entry.slice(0, separator).trim();
    const value = separator < 0 ? '' : entry.slice(separator + 1).trim();
    if (!COORDINATE.test(coordinate) || !value) {
      throw new Error(`entry "${entry}" is not Type.field=max/window (${EXAMPLE})`);
    }
    if (seen.has(coordinate)) throw new Error(`${coordinate} is listed twice`);
    seen.add(coordinate);
    if (value === 'off') {
      budgets.set(coordinate, 'off');
      continue;
    }
    const [max, window, ...rest] = value.split('/').map((part) => part.trim());
    if (!/^\d+$/.test(max ?? '') || Number(max) < 1 || window === undefined || rest.length > 0) {
      throw new Error(`${coordinate}: "${value}" is not max/window with max ≥ 1 (${EXAMPLE})`);
    }
    try {
      budgets.set(coordinate, { max: Number(max), windowMs: parseWindow(window) });
    } catch (error) {
      throw new Error(`${coordinate}: ${(error as Error).message}`);
    }
  }
  return budgets;
}
