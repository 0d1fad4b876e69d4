import { delegateToSchema } from '@graphql-tools/delegate';
import { parseSelectionSet } from '@graphql-tools/utils';
import { print, type GraphQLResolveInfo, type OperationDefinitionNode, type OperationTypeNode } from 'graphql';

/** The client's selection under the field being resolved, to forward; fragments travel with `info`. */
export function selectionOf(info: GraphQLResolveInfo): string {
  const selections = info.fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []);
  return `{ ${selections.map((selection) => print(selection)).join(' ')} }`;
}

/** `...Name` (not `... on Type`) and `$name`, in a printed selection or fragment. */
const FRAGMENT_SPREAD = /\.\.\.\s*(?!on\b)([_A-Za-z][_0-9A-Za-z]*)/g;
const VARIABLE = /\$([_A-Za-z][_0-9A-Za-z]*)/g;

/** What a selection spreads (its text and the printed fragments, transitively) and the variables they use. */
interface SelectionUses {
  texts: string[];
  variables: string[];
}

/**
 * Per operation, since yoga caches parses and operations recur (every event of a subscription): what a
 * selection uses does not depend on the variables' values, so it is worked out once, not per load.
 */
const usesByOperation = new WeakMap<OperationDefinitionNode, Map<string, SelectionUses>>();

function usesOf(selection: string, info: GraphQLResolveInfo): SelectionUses {
  let bySelection = usesByOperation.get(info.operation);
  if (!bySelection) usesByOperation.set(info.operation, (bySelection = new Map()));
  let uses = bySelection.get(selection);
  if (!uses) {
    const texts = [selection];
    const spread = new Set<string>();
    for (let index = 0; index < texts.length; index += 1) {
      for (const [, name] of texts[index]!.matchAll(FRAGMENT_SPREAD)) {
        const fragment = info.fragments[name!];
        if (!fragment || spread.has(name!)) continue;
        spread.add(name!);
        texts.push(print(fragment));
      }
    }
    const variables = [...new Set(texts.flatMap((text) => [...text.matchAll(VARIABLE)].map(([, name]) => name!)))].sort();
    uses = { texts, variables };
    bySelection.set(selection, uses);
  }
  return uses;
}

/**
 * What a selection to delegate means outside the client's operation: the selection, the fragments it
 * spreads (transitively) and the values of the variables they use. Equal keys fetch equal data,
 * whichever operation they come from, so results may be shared under this key.
 */
export function delegationKey(selection: string, info: GraphQLResolveInfo): string {
  const { texts, variables } = usesOf(selection, info);
  // A variable left out may mean an argument's default, so it is keyed apart from an explicit null.
  const values = variables.map((name) => (Object.hasOwn(info.variableValues, name) ? [name, info.variableValues[name]] : [name]));
  return JSON.stringify([texts, values]);
}

/**
 * Runs a root field of the gateway's own schema with a selection of our choosing. Going through the
 * unified schema (rather than straight to the IOmeter source) lets stitching add what stitched fields
 * need, e.g. `externalId` for `customer`, at any depth; no client-facing plugin runs again.
 */
export function delegateToGateway(options: {
  operation: OperationTypeNode;
  fieldName: string;
  selectionSet: string;
  context: object;
  info: GraphQLResolveInfo;
  args?: Record<string, unknown>;
}): Promise<unknown> {
  const { info } = options;
  const root = info.schema.getRootType(options.operation)!;
  return delegateToSchema({
    schema: info.schema,
    operation: options.operation,
    fieldName: options.fieldName,
    args: options.args ?? {},
    selectionSet: parseSelectionSet(options.selectionSet, { noLocation: true }),
    returnType: root.getFields()[options.fieldName]!.type,
    context: options.context,
    info,
  }) as Promise<unknown>;
}

