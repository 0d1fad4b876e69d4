import { getSubschema, getUnpathedErrors, resolveExternalValue } from '@graphql-tools/delegate';
import DataLoader from 'dataloader';
import { OperationTypeNode, type GraphQLResolveInfo } from 'graphql';
import { delegateToGateway, selectionOf } from '../gatewayDelegation';

export type LoadInstallation = (context: object, info: GraphQLResolveInfo, externalId: string) => Promise<unknown>;

/**
 * IOmeter has no batch-by-externalId field, so a page of customers would cost one upstream request
 * per customer. Instead the keys of one tick become aliases in ONE `provider` document:
 * `{ i0: installation(externalId: "C-1001") {…} i1: … }`. There is one loader per distinct
 * selection, since every alias carries the client's selection. Create one per request.
 */
export function createInstallationLoader(): LoadInstallation {
  const loaders = new Map<string, DataLoader<string, unknown>>();
  return (context, info, externalId) => {
    const selection = selectionOf(info);
    let loader = loaders.get(selection);
    if (!loader) {
      loader = new DataLoader<string, unknown>(async (externalIds) => {
        const aliases = externalIds.map(
          (key, index) => `i${index}: installation(externalId: ${JSON.stringify(key)}) ${selection}`,
        );
        const provider = await delegateToGateway({
          operation: OperationTypeNode.QUERY,
          fieldName: 'provider',
          selectionSet: `{ ${aliases.join(' ')} }`,
          context,
          info,
        });
        if (provider instanceof Error) throw provider;
        const found = (provider ?? {}) as Record<string, unknown>;
        // Each alias becomes an external value of its own, so the client's aliases and stitched
        // fields below it resolve as if the installation had been fetched directly.
        return externalIds.map((_, index) => {
          const key = `i${index}`;
          if (found[key] == null) return null;
          return resolveExternalValue(found[key], getUnpathedErrors(found as any), getSubschema(found as any, key), context, info);
        });
      });
      loaders.set(selection, loader);
    }
    return loader.load(externalId);
  };
}
