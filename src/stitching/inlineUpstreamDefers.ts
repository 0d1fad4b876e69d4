import {
  getNamedType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

const isDefer = (directive: DirectiveNode) => directive.name.value === 'defer';

/**
 * Whether a deferred selection set selects, on `typeName` itself, a field IOmeter owns: Mesh fetches
 * an IOmeter object's own fields in one delegation with the rest of it, so a deferred one would never
 * be fetched (it resolves to null, an error on a non-null field). Fields nested in fragments that are
 * not deferred themselves count as direct ones; `__typename` is the gateway's.
 */
function selectsUpstreamField(
  selectionSet: SelectionSetNode,
  typeName: string,
  gatewayFields: ReadonlySet<string>,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): boolean {
  return selectionSet.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) return !selection.name.value.startsWith('__') && !gatewayFields.has(`${typeName}.${selection.name.value}`);
    if (selection.directives?.some(isDefer)) return false;
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return selectsUpstreamField(selection.selectionSet, selection.typeCondition?.name.value ?? typeName, gatewayFields, fragments);
    }
    const fragment = fragments.get(selection.name.value);
    return fragment !== undefined && selectsUpstreamField(fragment.selectionSet, fragment.typeCondition.name.value, gatewayFields, fragments);
  });
}

/**
 * The document with `@defer` removed from every fragment that selects a field IOmeter owns, so that
 * field comes inline with its parent instead of never (see selectsUpstreamField). Deferred fragments
 * of gateway-owned fields (consumption, reading history, stitched customers and installations) stay
 * deferred. Returns the document itself when nothing changes. `@stream` needs nothing: a list
 * IOmeter answered whole is streamed item by item from the gateway.
 */
export function inlineUpstreamDefers(document: DocumentNode, schema: GraphQLSchema, gatewayFields: ReadonlySet<string>): DocumentNode {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const typeInfo = new TypeInfo(schema);
  const withoutDefer = <T extends { directives?: readonly DirectiveNode[] }>(node: T): T => ({ ...node, directives: node.directives?.filter((directive) => !isDefer(directive)) });
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      InlineFragment(node) {
        if (!node.directives?.some(isDefer)) return undefined;
        const type = getNamedType(typeInfo.getType());
        return type && selectsUpstreamField(node.selectionSet, type.name, gatewayFields, fragments) ? withoutDefer(node) : undefined;
      },
      FragmentSpread(node) {
        if (!node.directives?.some(isDefer)) return undefined;
        const fragment = fragments.get(node.name.value);
        return fragment && selectsUpstreamField(fragment.selectionSet, fragment.typeCondition.name.value, gatewayFields, fragments) ? withoutDefer(node) : undefined;
      },
    }),
  );
}
