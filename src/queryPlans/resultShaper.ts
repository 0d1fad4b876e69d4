import {
  getOperationAST,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { IometerSource } from './iometerSource';

/** Whether one value of IOmeter's answer is exactly what `execute` would put in its place. */
type Check = (value: unknown) => boolean;

/** Thrown while compiling: the operation uses something the shaper does not check, so it is always executed. */
class Unsupported extends Error {}

/** The response keys of one selection set on one object type, in the order `execute` collects them. */
function collectFields(
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  fields = new Map<string, FieldNode[]>(),
  spread = new Set<string>(),
): Map<string, FieldNode[]> {
  for (const selection of selectionSet.selections) {
    // @include/@skip depend on the variables of each request; a compiled check knows none of them.
    if (selection.directives?.length) throw new Unsupported();
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      const nodes = fields.get(key);
      if (nodes) nodes.push(selection);
      else fields.set(key, [selection]);
      continue;
    }
    // Only fragments on this very type: one on an interface or union needs the answer's type to apply.
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selection.typeCondition && selection.typeCondition.name.value !== type.name) throw new Unsupported();
      collectFields(type, selection.selectionSet, fragments, fields, spread);
      continue;
    }
    const name = selection.name.value;
    if (spread.has(name)) continue;
    spread.add(name);
    const fragment = fragments.get(name);
    if (!fragment || fragment.typeCondition.name.value !== type.name) throw new Unsupported();
    collectFields(type, fragment.selectionSet, fragments, fields, spread);
  }
  return fields;
}

/** The check of a value of `type`, selected by `nodes` (one response key: their selection sets merge). */
function checkOf(source: IometerSource, type: GraphQLOutputType, nodes: readonly FieldNode[], fragments: ReadonlyMap<string, FragmentDefinitionNode>): Check {
  if (isNonNullType(type)) {
    const inner = checkOf(source, type.ofType, nodes, fragments);
    return (value) => value !== null && inner(value);
  }
  const check = nullableCheckOf(source, type, nodes, fragments);
  return (value) => value === null || check(value);
}

function nullableCheckOf(source: IometerSource, type: GraphQLOutputType, nodes: readonly FieldNode[], fragments: ReadonlyMap<string, FragmentDefinitionNode>): Check {
  if (isListType(type)) {
    const item = checkOf(source, type.ofType, nodes, fragments);
    return (value) => Array.isArray(value) && value.every(item);
  }
  if (isLeafType(type)) {
    // The gateway's own serialize (src/iometer/scalars.ts for DateTime and the like): a value it rejects,
    // or would change, is left to `execute`, which reports or converts it as it always has.
    return (value) => {
      try {
        return Object.is(type.serialize(value), value);
      } catch {
        return false;
      }
    };
  }
  if (!isObjectType(type)) throw new Unsupported();
  const selectionSet: SelectionSetNode = { kind: Kind.SELECTION_SET, selections: nodes.flatMap((node) => node.selectionSet?.selections ?? []) };
  return objectCheckOf(source, type, selectionSet, fragments);
}

/** An object: exactly the selected response keys, in `execute`'s order, each value checked against its field's type. */
function objectCheckOf(source: IometerSource, type: GraphQLObjectType, selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): Check {
  const fields = collectFields(type, selectionSet, fragments);
  const iometerFields = source.schema.getType(type.name);
  const keys = [...fields.keys()];
  const checks = [...fields.values()].map((nodes): Check => {
    const name = nodes[0]!.name.value;
    if (name === '__typename') return (value) => value === type.name;
    // A gateway field (or introspection) is resolved by the gateway, never found in IOmeter's answer.
    if (!isObjectType(iometerFields) || !(name in iometerFields.getFields())) throw new Unsupported();
    const field = type.getFields()[name];
    if (!field) throw new Unsupported();
    return checkOf(source, field.type, nodes, fragments);
  });
  return (value) => {
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
  };
}

/**
 * For an operation that selects only IOmeter fields, a check of IOmeter's answer compiled once per
 * plan: whether its data is, value for value and key for key, what executing the client's operation
 * over it would return (the gateway's scalar and enum serialize, non-null fields, `__typename`s in the
 * gateway's names, nothing but the selected response keys in their order). Then the answer's data is
 * the result and `execute` is skipped. Undefined for anything it does not check (gateway fields,
 * fragments on interfaces or unions, directives): such an operation is always executed.
 */
export function compileResultShaper(
  source: IometerSource,
  gatewaySchema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): Check | undefined {
  const operation = getOperationAST(document, operationName);
  const root = gatewaySchema.getQueryType();
  if (!operation || operation.operation !== 'query' || !root || operation.directives?.length) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  try {
    return objectCheckOf(source, root, operation.selectionSet, fragments);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
