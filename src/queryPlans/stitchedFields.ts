import {
  defaultFieldResolver,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  visit,
  BREAK,
  type ASTNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import type { Path } from 'graphql/jsutils/Path';
import { collectFields, mergedSelections, NOT_SHAPED, pathUnder, Unsupported, whenSettled, type Run } from './shaping';

/** What the gateway's resolvers are told about the operation, the same for every field of a plan. */
export interface OperationScope {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
}

/** Resolves one field of `parent` and puts its completed value under its response key in `into` (now, or once it settles). */
export type FieldWriter = (parent: Record<string, unknown>, into: Record<string, unknown>, run: Run, path: Path | undefined) => void;

/** Completes one resolved value (or a promise of it) and hands it to `set`; throws NOT_SHAPED where execute would report an error. */
type Completer = (value: unknown, run: Run, path: Path, set: (completed: unknown) => void) => void;

function hasVariable(node: ASTNode): boolean {
  let found = false;
  visit(node, {
    Variable() {
      found = true;
      return BREAK;
    },
  });
  return found;
}

/**
 * A gateway field the plan resolves itself over IOmeter's answer (a stitched `customer` of an
 * installation, and what is selected below it): its own resolver, called as execute would call it (the
 * same parent, arguments, context and resolve info), and its value completed as execute completes it
 * (serialize of scalars and enums, lists, non-null). Anything execute would report as an error (a
 * throw, a rejection, a returned Error, null in a non-null field, a value serialize refuses) stops
 * the shaping: the operation is then executed, which reports it on its path with the partial result.
 * The plan (src/queryPlans/operationPlan.ts, resolvedLocally) only lets through selections without
 * variables or directives below such a field, so its arguments are known once, here.
 */
export function compileGatewayField(scope: OperationScope, parentType: GraphQLObjectType, key: string, nodes: readonly FieldNode[]): FieldWriter {
  const name = nodes[0]!.name.value;
  if (name === '__typename') {
    return (_parent, into) => {
      into[key] = parentType.name;
    };
  }
  const field = parentType.getFields()[name];
  if (!field || nodes.some((node) => node.arguments?.some(hasVariable))) throw new Unsupported();
  let args: Record<string, unknown>;
  try {
    // Frozen: every request shares them, and a resolver that changes its arguments would be executed instead.
    args = Object.freeze(getArgumentValues(field, nodes[0]!, {}));
  } catch {
    throw new Unsupported();
  }
  const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
  const complete = completerOf(scope, field.type, nodes);
  const fragments = Object.fromEntries(scope.fragments);
  return (parent, into, run, path) => {
    const here = pathUnder(path, key, parentType.name);
    // graphql-js 16's info, as its execute builds it (@graphql-tools/utils declares v17's helpers, which it does not have either).
    const info = {
      fieldName: name,
      fieldNodes: nodes,
      returnType: field.type,
      parentType,
      path: here,
      schema: scope.schema,
      fragments,
      rootValue: run.rootValue,
      operation: scope.operation,
      variableValues: run.variables,
    } as GraphQLResolveInfo;
    let value: unknown;
    try {
      value = resolve(parent, args, run.context, info);
    } catch {
      throw NOT_SHAPED;
    }
    // Its place in the key order execute gives, until the value is in.
    into[key] = null;
    complete(value, run, here, (completed) => {
      into[key] = completed;
    });
  };
}

function completerOf(scope: OperationScope, type: GraphQLOutputType, nodes: readonly FieldNode[]): Completer {
  const nonNull = isNonNullType(type);
  const complete = nullableCompleterOf(scope, nonNull ? type.ofType : type, nodes);
  return (value, run, path, set) =>
    whenSettled(run, value, (resolved) => {
      if (resolved instanceof Error) throw NOT_SHAPED;
      if (resolved == null) {
        if (nonNull) throw NOT_SHAPED;
        set(null);
        return;
      }
      complete(resolved, run, path, set);
    });
}

function nullableCompleterOf(scope: OperationScope, type: GraphQLOutputType, nodes: readonly FieldNode[]): Completer {
  if (isListType(type)) {
    const item = completerOf(scope, type.ofType, nodes);
    return (value, run, path, set) => {
      if (!Array.isArray(value)) throw NOT_SHAPED;
      const items = new Array<unknown>(value.length);
      for (let index = 0; index < value.length; index += 1) {
        item(value[index], run, pathUnder(path, index, undefined), (completed) => {
          items[index] = completed;
        });
      }
      set(items);
    };
  }
  if (isLeafType(type)) {
    return (value, _run, _path, set) => {
      let serialized: unknown;
      try {
        serialized = type.serialize(value);
      } catch {
        throw NOT_SHAPED;
      }
      if (serialized === undefined) throw NOT_SHAPED;
      set(serialized);
    };
  }
  // Interfaces and unions need their resolveType; isTypeOf may refuse a value: both are left to execute.
  if (!isObjectType(type) || type.isTypeOf) throw new Unsupported();
  const writers = [...collectFields(type, mergedSelections(nodes), scope.fragments)].map(([key, fieldNodes]) => compileGatewayField(scope, type, key, fieldNodes));
  return (value, run, path, set) => {
    const object: Record<string, unknown> = {};
    for (const write of writers) write(value as Record<string, unknown>, object, run, path);
    set(object);
  };
}
