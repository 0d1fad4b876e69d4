import { getOperationAST, Kind, visit, type DocumentNode, type FragmentDefinitionNode } from 'graphql';

/**
 * The document reduced to the operation that runs and the fragments it spreads, directly or through
 * other fragments. @envelop/rate-limiter walks every definition of the document it is given; given
 * this, a budgeted field that appears only in another operation of the document spends nothing.
 * Undefined when the document has no such operation (execution then fails on its own).
 */
export function selectedOperation(document: DocumentNode, operationName: string | null | undefined): DocumentNode | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  if (fragments.size === 0) return document.definitions.length === 1 ? document : { kind: Kind.DOCUMENT, definitions: [operation] };

  const used = new Map<string, FragmentDefinitionNode>();
  const pending: Array<typeof operation | FragmentDefinitionNode> = [operation];
  while (pending.length > 0) {
    visit(pending.pop()!, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !used.has(fragment.name.value)) {
          used.set(fragment.name.value, fragment);
          pending.push(fragment);
        }
      },
    });
  }
  return { kind: Kind.DOCUMENT, definitions: [operation, ...used.values()] };
}
