import { mapSchema, MapperKind, type ExecutionResult, type Executor } from '@graphql-tools/utils';
import {
  execute,
  GraphQLError,
  isObjectType,
  responsePathAsArray,
  type ExecutionArgs,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type GraphQLTypeResolver,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { readOnly } from '../upstream/inFlightQueries';
import type { IometerSource } from './iometerSource';
import type { DirectPlan } from './operationPlan';

/** IOmeter's errors of one result, each under the path of the field it belongs to ('' without a path). */
type UpstreamErrors = Array<{ at: string; error: GraphQLError }>;

const pathKey = (path: ReadonlyArray<string | number>) => path.join('.');

/** One error as it is, several as one (as delegation combines them). */
function combined(errors: GraphQLError[]): GraphQLError {
  if (errors.length === 1) return errors[0]!;
  return new GraphQLError(errors.map((error) => error.message).join(', \n'), { originalError: new AggregateError(errors) });
}

/** Per execution: the upstream errors, found from any resolver through `info.rootValue`. */
const errorsByRoot = new WeakMap<object, UpstreamErrors>();

/**
 * Every field of IOmeter's result sits under its response key (the client's alias), since the plan
 * sent the client's own selection. Where IOmeter answered null and reported errors at or below that
 * field (a null propagates up to the nearest nullable field), those errors are raised there, so
 * graphql-js nulls and reports them as delegation would; errors without a path belong to every root field.
 */
const readResponseKey: GraphQLFieldResolver<unknown, unknown> = (source, _args, _context, info) => {
  const value = source == null ? undefined : (source as Record<string, unknown>)[info.path.key];
  if (value != null) return value;
  const errors = errorsByRoot.get(info.rootValue as object);
  if (!errors) return value;
  const at = pathKey(responsePathAsArray(info.path));
  const here = errors.filter((each) => each.at === at || each.at.startsWith(`${at}.`) || (each.at === '' && info.path.prev === undefined));
  if (here.length > 0) throw combined(here.map((each) => each.error));
  return value;
};

/** What coercing an operation without variable definitions gives. */
const NO_VARIABLES = { coerced: {} as Record<string, unknown> };

const typenameOf: GraphQLTypeResolver<unknown, unknown> = (value) => (value as { __typename?: string } | null)?.__typename;

/**
 * Runs a direct plan: the plan's document goes to IOmeter with the client's variables, IOmeter's
 * `__typename`s come back in the gateway's names, and the plan's compiled shaper turns that answer
 * into the result, resolving only the gateway's own fields (a stitched `customer`). An answer the
 * shaper leaves (IOmeter reported errors, a value execution would change or report, a gateway field
 * that failed) has the client's operation executed over it against the gateway's own types, so
 * scalars, enums, non-null and error paths are checked and shaped exactly as for a delegated
 * operation, with partial results. The schema it executes against is the gateway's with
 * every IOmeter field read from the result by response key, built once, here; the gateway's own fields
 * of a plan (a stitched `customer`) keep their resolvers, which read what the plan asked IOmeter for.
 */
export function createDirectExecution(gatewaySchema: GraphQLSchema, source: IometerSource, upstream: Executor) {
  const fromIometer = (typeName: string, fieldName?: string) => {
    const type = source.schema.getType(typeName);
    return fieldName === undefined ? type !== undefined : isObjectType(type) && fieldName in type.getFields();
  };
  const resultSchema = mapSchema(gatewaySchema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) =>
      fromIometer(typeName, fieldName) ? { ...field, resolve: readResponseKey, subscribe: undefined } : field,
    [MapperKind.ABSTRACT_TYPE]: (type) => {
      if (fromIometer(type.name)) (type as { resolveType?: GraphQLTypeResolver<unknown, unknown> }).resolveType = typenameOf;
      return type;
    },
  });

  /** The result, or undefined when the variables are invalid: the delegated path then reports them as always. */
  return async function executeDirect(args: ExecutionArgs, plan: DirectPlan): Promise<ExecutionResult | undefined> {
    const variables = args.variableValues ?? {};
    const coerced = plan.variableDefinitions.length > 0 ? getVariableValues(gatewaySchema, plan.variableDefinitions, variables) : NO_VARIABLES;
    if ('errors' in coerced) return undefined;
    // Only read below (the rename of `__typename`s is the same for everyone), so it may share an answer.
    const request = readOnly({
      document: plan.upstream,
      variables,
      operationName: args.operationName ?? undefined,
      operationType: 'query' as never,
      context: args.contextValue as Record<string, unknown>,
      signal: (args as { signal?: AbortSignal }).signal,
    });
    const answer = (await upstream(request)) as ExecutionResult;
    const result = plan.selectsTypenames ? source.fromUpstream(answer) : answer;
    // The answer shaped into the result by the plan, the gateway's fields resolved: no execute.
    if (!result.errors?.length && plan.shape) {
      const shaped = plan.shape(result.data, args.contextValue, coerced.coerced);
      const data = shaped instanceof Promise ? await shaped : shaped;
      if (data !== undefined) return { data } as ExecutionResult;
    }
    // This execution's own root (the data may be shared), under which its errors are found.
    const root = { ...result.data };
    if (result.errors?.length) errorsByRoot.set(root, (result.errors as GraphQLError[]).map((error) => ({ at: error.path ? pathKey(error.path) : '', error })));
    return execute({ ...args, schema: resultSchema, rootValue: root }) as ExecutionResult | Promise<ExecutionResult>;
  };
}
