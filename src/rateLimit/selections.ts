import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

type Counts = Map<string, number>;

function add(into: Counts, from: Counts): void {
  for (const [coordinate, count] of from) into.set(coordinate, (into.get(coordinate) ?? 0) + count);
}

/**
 * How often the operation selects each coordinate (`Type.field`) that `isCounted` accepts, through
 * aliases, inline fragments and fragment spreads. Only the operation about to run is walked, not
 * other operations of the same document. Each fragment is walked once and its counts reused for
 * every spread, so nested spreads cannot make the walk exponential. Runs on validated documents only.
 */
export function countSelections(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  isCounted: (coordinate: string) => boolean,
): Counts {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentCounts = new Map<string, Counts>();

  function typeNamed(name: string | undefined, fallback: GraphQLCompositeType): GraphQLCompositeType {
    const type = name ? schema.getType(name) : fallback;
    return type && isCompositeType(type) ? type : fallback;
  }

  function walk(selectionSet: SelectionSetNode, parent: GraphQLCompositeType): Counts {
    const counts: Counts = new Map();
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!isObjectType(parent) && !isInterfaceType(parent)) continue; // unions select only __typename
        const field = parent.getFields()[selection.name.value];
        if (!field) continue; // __typename and other meta fields
        const coordinate = `${parent.name}.${field.name}`;
        if (isCounted(coordinate)) counts.set(coordinate, (counts.get(coordinate) ?? 0) + 1);
        const type = getNamedType(field.type);
        if (selection.selectionSet && isCompositeType(type)) add(counts, walk(selection.selectionSet, type));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(counts, walk(selection.selectionSet, typeNamed(selection.typeCondition?.name.value, parent)));
      } else {
        add(counts, countFragment(selection.name.value, parent));
      }
    }
    return counts;
  }

  function countFragment(name: string, parent: GraphQLCompositeType): Counts {
    const cached = fragmentCounts.get(name);
    if (cached) return cached;
    const fragment = fragments.get(name);
    fragmentCounts.set(name, new Map()); // cycles are invalid; this only guards the walk
    const counts = fragment ? walk(fragment.selectionSet, typeNamed(fragment.typeCondition.name.value, parent)) : new Map();
    fragmentCounts.set(name, counts);
    return counts;
  }

  const root = schema.getRootType(operation.operation);
  return root ? walk(operation.selectionSet, root) : new Map();
}
