import { useRateLimiter } from '@envelop/rate-limiter';
import type { ExecutionArgs, GraphQLSchema } from 'graphql';
import type { CounterOptions, Verdict } from './counters';
import { CounterStore } from './counterStore';
import type { FieldBudgets } from './budgets';
import { fieldLimits } from './fieldLimits';
import { selectedOperation } from './selectedOperation';

/** A refused operation: the longest Retry-After among its refused fields, and a directive's own message if it set one. */
export interface FieldRefusal {
  retryAfterSeconds: number;
  message?: string;
}

export interface FieldLimiter {
  /**
   * Spends the per-field budgets of the operation about to run; the refusal, if any field is over
   * its budget. Throws CounterUnavailableError when the counters cannot be reached and
   * RATE_LIMIT_ON_REDIS_ERROR=closed.
   */
  check(args: ExecutionArgs): Promise<FieldRefusal | undefined>;
  /**
   * Spends one of a field's budget for work done outside an operation (a replay's page of readings);
   * undefined when the field has no budget. Throws like check.
   */
  spend(client: string, coordinate: string): Promise<Verdict> | undefined;
}

/** formatError's answer; any other refusal message is a directive's own `message`. */
const STANDARD_MESSAGE = 'rate limit exceeded';

/**
 * Per-field budgets through @envelop/rate-limiter's useRateLimiter (its directive and configByField,
 * checked at start-up by fieldLimits), counted atomically by CounterStore. The package's onExecute
 * hook does the walking; it runs here on the selected operation only, and its refusal (a 429 in
 * `http.statusCode`, which yoga does not read, and the window as Retry-After) is reported back to
 * the caller, which answers with the gateway's own RATE_LIMITED error.
 */
export function createFieldLimiter(
  schema: GraphQLSchema,
  configured: FieldBudgets,
  clientOf: (context: unknown) => string,
  counterOptions: CounterOptions,
): FieldLimiter | undefined {
  const { configByField, budgets } = fieldLimits(schema, configured);
  if (budgets.size === 0) return undefined;
  const store = new CounterStore(budgets, counterOptions);
  /** Refusals reported by the package, per operation context. */
  const refusals = new WeakMap<object, FieldRefusal>();
  const { onExecute } = useRateLimiter({
    identifyFn: (context) => clientOf(context),
    configByField,
    store,
    formatError: () => STANDARD_MESSAGE,
    onRateLimitError({ error, identifier, context }) {
      const retryAfterSeconds = store.takeRetryAfter(clientOf(context), identifier);
      const earlier = refusals.get(context as object);
      refusals.set(context as object, {
        retryAfterSeconds: Math.max(retryAfterSeconds, earlier?.retryAfterSeconds ?? 0),
        message: earlier?.message ?? (error === STANDARD_MESSAGE ? undefined : error),
      });
    },
  });

  return {
    spend: (client, coordinate) => store.spend(client, coordinate),
    async check(args) {
      const document = selectedOperation(args.document, args.operationName);
      if (!document) return undefined;
      const context = args.contextValue as object;
      await onExecute!({
        args: { ...args, document, contextValue: context as never },
        context: context as never,
        executeFn: () => undefined as never,
        setExecuteFn: () => undefined,
        setResultAndStopExecution: () => undefined,
        extendContext: () => undefined,
      });
      const refusal = refusals.get(context);
      refusals.delete(context);
      return refusal;
    },
  };
}
