import { getSubschema, getUnpathedErrors, resolveExternalValue } from '@graphql-tools/delegate';
import DataLoader from 'dataloader';
import { OperationTypeNode, type GraphQLResolveInfo } from 'graphql';
import { delegateToGateway, selectionOf } from '../gatewayDelegation';

/** IOmeter's `provider.installation` takes either argument. */
export type InstallationKey = { id: string } | { externalId: string };

export type LoadInstallation = (
  context: object,
  info: GraphQLResolveInfo,
  key: InstallationKey,
  /** What to fetch of the installation; default: the client's selection under the current field. */
  selection?: string,
) => Promise<unknown>;

/**
 * A value taken from under `key` of a delegated result, made an external value of its own so the
 * client's aliases and stitched fields below it resolve as if it had been fetched directly.
 */
export function asExternal(parent: object, key: string, value: unknown, context: object, info: GraphQLResolveInfo): unknown {
  return resolveExternalValue(value, getUnpathedErrors(parent as any), getSubschema(parent as any, key), context, info);
}

function argumentOf(key: InstallationKey): string {
  return 'id' in key ? `id: ${JSON.stringify(key.id)}` : `externalId: ${JSON.stringify(key.externalId)}`;
}

/**
 * IOmeter has no batch installation lookup, so a page of customers (or a burst of readings) would
 * cost one upstream request per installation. Instead the keys of one tick become aliases in ONE
 * `provider` document: `{ i0: installation(externalId: "C-1001") {…} i1: installation(id: …) {…} }`.
 * There is one loader per distinct selection, since every alias carries it. Create one per request.
 */
export function createInstallationLoader(): LoadInstallation {
  const loaders = new Map<string, DataLoader<InstallationKey, unknown, string>>();
  return (context, info, key, selection = selectionOf(info)) => {
    let loader = loaders.get(selection);
    if (!loader) {
      loader = new DataLoader<InstallationKey, unknown, string>(
        async (keys) => {
          const aliases = keys.map((each, index) => `i${index}: installation(${argumentOf(each)}) ${selection}`);
          const provider = await delegateToGateway({
            operation: OperationTypeNode.QUERY,
            fieldName: 'provider',
            selectionSet: `{ ${aliases.join(' ')} }`,
            context,
            info,
          });
          if (provider instanceof Error) throw provider;
          const found = (provider ?? {}) as Record<string, unknown>;
          return keys.map((_, index) => {
            const alias = `i${index}`;
            return found[alias] == null ? null : asExternal(found, alias, found[alias], context, info);
          });
        },
        { cacheKeyFn: argumentOf },
      );
      loaders.set(selection, loader);
    }
    return loader.load(key);
  };
}
