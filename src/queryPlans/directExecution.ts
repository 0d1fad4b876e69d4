import { mapSchema, MapperKind, type ExecutionResult, type Executor } from '@graphql-tools/utils';
import {
  execute,
  getOperationAST,
  GraphQLError,
  type ExecutionArgs,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type GraphQLTypeResolver,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import type { Path } from 'graphql/jsutils/Path';
import type { IometerSource } from './iometerSource';
import type { DirectPlan } from './operationPlan';

/** IOmeter's errors of one result, by the path of the field each belongs to. */
interface UpstreamErrors {
  byPath: Map<string, GraphQLError>;
  /** Errors without a path (IOmeter refused the request, or it never got there): they belong to every root field. */
  unpathed?: GraphQLError;
}

const pathKey = (path: ReadonlyArray<string | number>) => path.join('.');

function pathOf(path: Path): Array<string | number> {
  const keys: Array<string | number> = [];
  for (let at: Path | undefined = path; at; at = at.prev) keys.push(at.key);
  return keys.reverse();
}

function upstreamErrors(errors: ReadonlyArray<GraphQLError>): UpstreamErrors {
  const byPath = new Map<string, GraphQLError>();
  const unpathed: GraphQLError[] = [];
  for (const error of errors) {
    if (error.path && !byPath.has(pathKey(error.path))) byPath.set(pathKey(error.path), error);
    else if (!error.path) unpathed.push(error);
  }
  const combined =
    unpathed.length <= 1
      ? unpathed[0]
      : new GraphQLError(unpathed.map((error) => error.message).join(', \n'), { originalError: new AggregateError(unpathed) });
  return { byPath, unpathed: combined };
}

/** Per execution: the upstream errors, found from any resolver through `info.rootValue`. */
const errorsByRoot = new WeakMap<object, UpstreamErrors>();

/**
 * Every field of IOmeter's result sits under its response key (the client's alias), since the plan
 * sent the client's own selection. A null where IOmeter reported an error raises that error there, so
 * graphql-js nulls and reports it as delegation would.
 */
const readResponseKey: GraphQLFieldResolver<unknown, unknown> = (source, _args, _context, info) => {
  const value = source == null ? undefined : (source as Record<string, unknown>)[info.path.key];
  if (value != null) return value;
  const errors = errorsByRoot.get(info.rootValue as object);
  if (errors) {
    const atPath = errors.byPath.size > 0 ? errors.byPath.get(pathKey(pathOf(info.path))) : undefined;
    if (atPath) throw atPath;
    if (errors.unpathed && (info.path.prev === undefined || source == null)) throw errors.unpathed;
  }
  return value;
};

const typenameOf: GraphQLTypeResolver<unknown, unknown> = (value) => (value as { __typename?: string } | null)?.__typename;

/**
 * Runs a direct plan: the plan's document goes to IOmeter with the client's variables, IOmeter's
 * `__typename`s come back in the gateway's names, and the client's operation is executed over that
 * result against the gateway's own types, so scalars, enums, non-null and error paths are checked and
 * shaped exactly as for a delegated operation. The schema it executes against is the gateway's with
 * every field read from the result by response key: built once, here.
 */
export function createDirectExecution(gatewaySchema: GraphQLSchema, source: IometerSource, upstream: Executor) {
  const resultSchema = mapSchema(gatewaySchema, {
    [MapperKind.OBJECT_FIELD]: (field) => ({ ...field, resolve: readResponseKey, subscribe: undefined }),
    [MapperKind.ABSTRACT_TYPE]: (type) => {
      (type as { resolveType?: GraphQLTypeResolver<unknown, unknown> }).resolveType = typenameOf;
      return type;
    },
  });

  /** The result, or undefined when the variables are invalid: the delegated path then reports them as always. */
  return async function executeDirect(args: ExecutionArgs, plan: DirectPlan): Promise<ExecutionResult | undefined> {
    const operation = getOperationAST(args.document, args.operationName);
    const variables = args.variableValues ?? {};
    if (operation?.variableDefinitions?.length && 'errors' in getVariableValues(gatewaySchema, operation.variableDefinitions, variables)) return undefined;
    const answer = (await upstream({
      document: plan.upstream,
      variables,
      operationName: args.operationName ?? undefined,
      operationType: 'query' as never,
      context: args.contextValue as Record<string, unknown>,
      signal: (args as { signal?: AbortSignal }).signal,
    })) as ExecutionResult;
    const result = plan.selectsTypenames ? source.fromUpstream(answer) : answer;
    const root = (result.data ?? {}) as object;
    if (result.errors?.length) errorsByRoot.set(root, upstreamErrors(result.errors as GraphQLError[]));
    return execute({ ...args, schema: resultSchema, rootValue: root }) as ExecutionResult | Promise<ExecutionResult>;
  };
}
