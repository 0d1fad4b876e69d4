import type { ConfigByField } from '@envelop/rate-limiter';
import { getDirectiveExtensions } from '@graphql-tools/utils';
import { isInterfaceType, isIntrospectionType, isObjectType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { coordinateProblem } from '../shared/schemaCoordinates';
import { parseWindow, type Budget, type FieldBudgets } from './budgets';

/** The directive of @envelop/rate-limiter's DIRECTIVE_SDL (additional-typedefs/rateLimit.graphql). */
export const RATE_LIMIT_DIRECTIVE = 'rateLimit';

/**
 * Directive arguments the gateway refuses: every selection spends exactly one of the client's budget,
 * counted atomically where it is checked, so the package's per-argument buckets, array-length counts,
 * read-only checks and uncounted refusals have no meaning here.
 */
const UNSUPPORTED_ARGUMENTS = ['identityArgs', 'arrayLengthField', 'readOnly', 'uncountRejected'] as const;

export interface FieldLimits {
  /** For useRateLimiter: one entry per budgeted field, each identified by its coordinate. */
  configByField: ConfigByField[];
  /** Every budget in force, by coordinate (`Type.field`), for the counters behind the package's store. */
  budgets: ReadonlyMap<string, Budget>;
}

/** A refused directive or RATE_LIMIT_FIELDS entry; start-up stops with it. */
export class FieldLimitError extends Error {
  constructor(problems: string[]) {
    super(`rate limits: ${problems.join('; ')}`);
    this.name = 'FieldLimitError';
  }
}

interface DirectiveArguments {
  max?: unknown;
  window?: unknown;
  message?: unknown;
  identifier?: unknown;
  [argument: string]: unknown;
}

/**
 * The per-field budgets in force: `@rateLimit` on gateway-owned fields plus RATE_LIMIT_FIELDS over
 * the defaults for IOmeter-owned fields. Everything the package would only find at request time, or
 * never, is refused here with the coordinate: a directive without a whole-second window or a max ≥ 1,
 * unsupported directive arguments, a directive repeated, RATE_LIMIT_FIELDS naming a field that has
 * the directive (the SDL is the one place for that budget) or naming no field of the schema.
 *
 * Each budget is identified by its coordinate, so `Customer.consumption` and
 * `IometerInstallation.consumption` are separate budgets (the package alone keys by field name). For
 * a directive the identifier is written into the field's directive extensions, which
 * getDirectiveExtensions reads before the SDL's directive: the package then sees the SDL's arguments
 * plus the identifier.
 */
export function fieldLimits(schema: GraphQLSchema, configured: FieldBudgets): FieldLimits {
  const problems: string[] = [];
  const budgets = new Map<string, Budget>();
  const directiveFields = new Set<string>();

  for (const type of Object.values(schema.getTypeMap())) {
    if (!(isObjectType(type) || isInterfaceType(type)) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      // Without the identifier an earlier start-up wrote (a schema is checked once per gateway; tests start several).
      const uses = (getDirectiveExtensions<{ rateLimit: DirectiveArguments }>(field, schema)[RATE_LIMIT_DIRECTIVE] ?? []).filter(
        (use) => use.identifier === undefined,
      );
      if (uses.length === 0) continue;
      directiveFields.add(coordinate);
      const budget = directiveBudget(coordinate, uses, problems);
      if (!budget) continue;
      budgets.set(coordinate, budget);
      identify(field, coordinate, uses[0]!);
    }
  }

  const configByField: ConfigByField[] = [];
  for (const [coordinate, budget] of configured) {
    const problem = coordinateProblem(schema, coordinate);
    if (problem || !coordinate.includes('.')) {
      problems.push(`RATE_LIMIT_FIELDS: ${problem ?? coordinate}`);
    } else if (directiveFields.has(coordinate)) {
      problems.push(`RATE_LIMIT_FIELDS: ${coordinate} has @rateLimit in the schema; change the directive in additional-typedefs/ instead`);
    } else if (budget !== 'off') {
      const [type, field] = coordinate.split('.') as [string, string];
      budgets.set(coordinate, budget);
      configByField.push({ type, field, max: budget.max, window: `${budget.windowMs / 1_000}s`, identifier: coordinate });
    }
  }
  if (problems.length > 0) throw new FieldLimitError(problems);
  return { configByField, budgets };
}

function directiveBudget(coordinate: string, uses: DirectiveArguments[], problems: string[]): Budget | undefined {
  const where = `@rateLimit on ${coordinate}`;
  if (uses.length > 1) {
    problems.push(`${where} appears ${uses.length} times`);
    return undefined;
  }
  const { max, window } = uses[0]!;
  const unsupported = UNSUPPORTED_ARGUMENTS.filter((argument) => uses[0]![argument] != null);
  const before = problems.length;
  if (unsupported.length > 0) problems.push(`${where}: ${unsupported.join(', ')} not supported (every selection spends one)`);
  if (!Number.isInteger(max) || (max as number) < 1) problems.push(`${where}: max must be an integer ≥ 1`);
  let windowMs = 0;
  try {
    windowMs = parseWindow(typeof window === 'string' ? window : '');
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
  }
  return problems.length === before ? { max: max as number, windowMs } : undefined;
}

/** Adds the coordinate as the package's `identifier` to the directive the package will read. */
function identify(field: GraphQLField<unknown, unknown>, coordinate: string, use: DirectiveArguments): void {
  const extensions = field.extensions as { directives?: Record<string, unknown> };
  (field as { extensions: unknown }).extensions = {
    ...extensions,
    directives: { ...extensions.directives, [RATE_LIMIT_DIRECTIVE]: [{ ...use, identifier: coordinate }] },
  };
}
