import type { MeshInstance } from '@graphql-mesh/runtime';
import type { Transform } from '@graphql-tools/delegate';
import type { ExecutionRequest, ExecutionResult } from '@graphql-tools/utils';
import type { FieldNode, GraphQLSchema } from 'graphql';

/**
 * The IOmeter source as Mesh wired it: its schema under the gateway's names (after the rename
 * transform of .meshrc.yaml) and that transform itself, which maps a request back to IOmeter's names
 * and IOmeter's `__typename`s in a result to the gateway's. Plans use Mesh's own transform rather than
 * a copy of its rule, so .meshrc.yaml stays the one place that says how names change.
 */
export interface IometerSource {
  /** The IOmeter types and fields as the gateway's schema names them, and nothing the gateway adds. */
  schema: GraphQLSchema;
  /** An upstream request in the gateway's names, in IOmeter's. */
  toUpstream(request: ExecutionRequest): ExecutionRequest;
  /** An IOmeter result, `__typename`s in the gateway's names. */
  fromUpstream(result: ExecutionResult): ExecutionResult;
  /**
   * For a gateway field stitched onto an IOmeter type (e.g. `IometerInstallation.customer`), the
   * IOmeter fields its resolver reads from its parent (`externalId`), as its `selectionSet` declares;
   * undefined for any other field.
   */
  dependenciesOf(typeName: string, fieldName: string): readonly FieldNode[] | undefined;
}

interface StitchingInfo {
  subschemaMap: Map<unknown, StitchedSubschema>;
  fieldNodesByField: Record<string, Record<string, FieldNode[]>>;
}

interface StitchedSubschema {
  name?: string;
  transformedSchema: GraphQLSchema;
  transforms: Transform[];
}

/** Delegation contexts are not read by the rename transform; these stand in for them. */
const NO_CONTEXT = {} as never;

export function iometerSource(mesh: MeshInstance, sourceName: string): IometerSource {
  const stitching = mesh.schema.extensions?.stitchingInfo as StitchingInfo | undefined;
  const subschema = [...(stitching?.subschemaMap.values() ?? [])].find((candidate) => candidate.name === sourceName);
  if (!subschema) throw new Error(`the gateway schema has no stitched source named ${sourceName}`);
  const { transforms } = subschema;
  const dependencies = stitching?.fieldNodesByField ?? {};
  return {
    schema: subschema.transformedSchema,
    // The order delegation applies them in: requests last transform first, results first transform first.
    toUpstream: (request) => transforms.reduceRight((each, transform) => transform.transformRequest?.(each, NO_CONTEXT, NO_CONTEXT) ?? each, request),
    fromUpstream: (result) => transforms.reduce((each, transform) => transform.transformResult?.(each, NO_CONTEXT, NO_CONTEXT) ?? each, result),
    dependenciesOf: (typeName, fieldName) => dependencies[typeName]?.[fieldName],
  };
}
