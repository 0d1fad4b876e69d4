import {
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Path } from 'graphql/jsutils/Path';
import type { IometerSource } from './iometerSource';
import { collectFields, mergedSelections, NOT_SHAPED, pathUnder, settled, Unsupported, type Run } from './shaping';
import { compileGatewayField, type FieldWriter, type OperationScope } from './stitchedFields';

/** Whether one value of IOmeter's answer is exactly what `execute` would put in its place. */
type Check = (value: unknown) => boolean;

/** Builds the result's value from one value of IOmeter's answer; throws NOT_SHAPED where it cannot. */
type Shape = (value: unknown, run: Run, path: Path | undefined) => unknown;

/**
 * One part of the operation over IOmeter's answer: a check where IOmeter's value is passed on as it is
 * (nothing below it is the gateway's), a shape where a new value is built around the gateway's fields.
 */
type Part = { check: Check } | { shape: Shape };

/**
 * Shapes IOmeter's answer (`__typename`s mapped) into the operation's result data, or a promise of it
 * while the gateway's fields resolve; undefined when the operation is to be executed over it instead.
 */
export type ResultShaper = (data: unknown, context: unknown, variables: Record<string, unknown>) => unknown;

function partOf(scope: OperationScope, source: IometerSource, type: GraphQLOutputType, nodes: readonly FieldNode[]): Part {
  if (isNonNullType(type)) {
    const inner = nullablePartOf(scope, source, type.ofType, nodes);
    if ('check' in inner) return { check: (value) => value !== null && inner.check(value) };
    return {
      shape: (value, run, path) => {
        if (value == null) throw NOT_SHAPED;
        return inner.shape(value, run, path);
      },
    };
  }
  const inner = nullablePartOf(scope, source, type, nodes);
  if ('check' in inner) return { check: (value) => value === null || inner.check(value) };
  return { shape: (value, run, path) => (value == null ? null : inner.shape(value, run, path)) };
}

function nullablePartOf(scope: OperationScope, source: IometerSource, type: GraphQLOutputType, nodes: readonly FieldNode[]): Part {
  if (isListType(type)) {
    const item = partOf(scope, source, type.ofType, nodes);
    if ('check' in item) return { check: (value) => Array.isArray(value) && value.every(item.check) };
    return {
      shape: (value, run, path) => {
        if (!Array.isArray(value)) throw NOT_SHAPED;
        return value.map((each, index) => item.shape(each, run, pathUnder(path, index, undefined)));
      },
    };
  }
  if (isLeafType(type)) {
    // The gateway's own serialize (src/iometer/scalars.ts for DateTime and the like): a value it rejects,
    // or would change, is left to `execute`, which reports or converts it as it always has.
    return {
      check: (value) => {
        try {
          return Object.is(type.serialize(value), value);
        } catch {
          return false;
        }
      },
    };
  }
  if (!isObjectType(type)) throw new Unsupported();
  return objectPartOf(scope, source, type, mergedSelections(nodes));
}

/**
 * An object of IOmeter's. Without gateway fields below it: a check that it has exactly the selected
 * response keys, in `execute`'s order, each value checked against its field's type. With them: a new
 * object with those keys, IOmeter's values checked (or shaped) and the gateway's fields resolved; the
 * keys IOmeter sent only for the gateway's resolvers (`externalId`) are left out.
 */
function objectPartOf(scope: OperationScope, source: IometerSource, type: GraphQLObjectType, selectionSet: SelectionSetNode): Part {
  const fields = collectFields(type, selectionSet, scope.fragments);
  const iometerFields = source.schema.getType(type.name);
  const keys = [...fields.keys()];
  const parts = [...fields].map(([key, nodes]): Part | FieldWriter => {
    const name = nodes[0]!.name.value;
    if (name === '__typename') return { check: (value) => value === type.name };
    const field = type.getFields()[name];
    if (!field) throw new Unsupported();
    // A gateway field (a stitched `customer`) is resolved by the gateway, never found in IOmeter's answer.
    if (!isObjectType(iometerFields) || !(name in iometerFields.getFields())) return compileGatewayField(scope, type, key, nodes);
    return partOf(scope, source, field.type, nodes);
  });
  if (parts.every((part): part is { check: Check } => typeof part === 'object' && 'check' in part)) {
    const checks = parts.map((part) => part.check);
    return {
      check: (value) => {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
        const record = value as Record<string, unknown>;
        let index = 0;
        for (const key in record) {
          if (key !== keys[index]) return false;
          index += 1;
        }
        if (index !== keys.length) return false;
        for (let each = 0; each < keys.length; each += 1) if (!checks[each]!(record[keys[each]!])) return false;
        return true;
      },
    };
  }
  const writers = parts.map((part, index): FieldWriter => {
    const key = keys[index]!;
    if (typeof part === 'function') return part;
    if (fields.get(key)![0]!.name.value === '__typename') {
      return (_parent, into) => {
        into[key] = type.name;
      };
    }
    if ('check' in part) {
      const { check } = part;
      return (parent, into) => {
        const value = parent[key];
        if (!check(value)) throw NOT_SHAPED;
        into[key] = value;
      };
    }
    const { shape } = part;
    return (parent, into, run, path) => {
      into[key] = shape(parent[key], run, pathUnder(path, key, type.name));
    };
  });
  return {
    shape: (value, run, path) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw NOT_SHAPED;
      const object: Record<string, unknown> = {};
      for (const write of writers) write(value as Record<string, unknown>, object, run, path);
      return object;
    },
  };
}

/**
 * For a planned operation (and the fragments it uses), IOmeter's answer shaped into the result, compiled once per plan, so that
 * `execute` is skipped: IOmeter's values are passed on where they already are, value for value and key
 * for key, what executing the client's operation over them would return (the gateway's scalar and enum
 * serialize, non-null fields, `__typename`s in the gateway's names, nothing but the selected response
 * keys in their order), and only the gateway's own fields (src/queryPlans/stitchedFields.ts) are
 * resolved, as execute resolves them. An answer it cannot shape so (IOmeter reported errors, a value
 * execute would change or report, a gateway field that failed) gives undefined, and the operation is
 * executed as before. Undefined for an operation it does not shape at all (fragments on interfaces or
 * unions, directives): such an operation is always executed.
 */
export function compileResultShaper(
  source: IometerSource,
  gatewaySchema: GraphQLSchema,
  operation: OperationDefinitionNode,
  usedFragments: readonly FragmentDefinitionNode[],
): ResultShaper | undefined {
  const root = gatewaySchema.getQueryType();
  if (!root) return undefined;
  const fragments = new Map(usedFragments.map((fragment) => [fragment.name.value, fragment]));
  let part: Part;
  try {
    part = objectPartOf({ schema: gatewaySchema, operation, fragments }, source, root, operation.selectionSet);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
  if ('check' in part) {
    const { check } = part;
    return (data) => (check(data) ? data : undefined);
  }
  const { shape } = part;
  return (data, context, variables) => {
    const run: Run = { context, variables, rootValue: data, pending: [], failed: false };
    let result: unknown;
    try {
      result = shape(data, run, undefined);
    } catch (error) {
      if (error === NOT_SHAPED) return undefined;
      throw error;
    }
    return run.pending.length === 0 ? result : settled(run).then((ok) => (ok ? result : undefined));
  };
}
