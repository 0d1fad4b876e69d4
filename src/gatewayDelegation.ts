import { delegateToSchema } from '@graphql-tools/delegate';
import { parseSelectionSet } from '@graphql-tools/utils';
import { print, type GraphQLResolveInfo, type OperationTypeNode } from 'graphql';

/** The client's selection under the field being resolved, to forward; fragments travel with `info`. */
export function selectionOf(info: GraphQLResolveInfo): string {
  const selections = info.fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []);
  return `{ ${selections.map((selection) => print(selection)).join(' ')} }`;
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

