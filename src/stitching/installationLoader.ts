import { getSubschema, getUnpathedErrors, resolveExternalValue } from '@graphql-tools/delegate';
import DataLoader from 'dataloader';
import { GraphQLError, OperationTypeNode, responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { ExpiringCache } from '../customers/loaders';
import { delegateToGateway, delegationKey, selectionOf } from './gatewayDelegation';

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

/** One load: the key, and the caller whose context and info a batch it starts is delegated with. */
interface Lookup {
  key: InstallationKey;
  context: object;
  info: GraphQLResolveInfo;
}

/** An installation as delegated: the `provider` result and the alias it sits under. */
interface Found {
  provider: Record<string, unknown>;
  alias: string;
}

/** Distinct selections a shared loader keeps loaders for; the least recently used go first. */
const MAX_SHARED_SELECTIONS = 1_000;

/**
 * IOmeter has no batch installation lookup, so a page of customers (or a burst of readings) would
 * cost one upstream request per installation. Instead the keys of one tick become aliases in ONE
 * `provider` document: `{ i0: installation(externalId: "C-1001") {…} i1: installation(id: …) {…} }`.
 * There is one loader per distinct selection (with the fragments and variable values it uses), since
 * every alias carries it.
 *
 * Without `expiring`, entries live as long as the loader: create one per request. With it, one loader
 * may serve many requests and clients: what a selection fetches of an installation is the same for
 * every client, because authorization is decided on the client's document before execution and nothing
 * below `installation` reads the identity. Each caller therefore gets the cached data wrapped in its
 * own context, and a batch is delegated with the context of the load that started it.
 */
export function createInstallationLoader(expiring?: ExpiringCache): LoadInstallation {
  const loaders = expiring
    ? new LRUCache<string, DataLoader<Lookup, Found | null, string>>({ max: MAX_SHARED_SELECTIONS })
    : new Map<string, DataLoader<Lookup, Found | null, string>>();
  return async (context, info, key, selection = selectionOf(info)) => {
    const loaderKey = delegationKey(selection, info);
    let loader = loaders.get(loaderKey);
    if (!loader) {
      loader = new DataLoader<Lookup, Found | null, string>(
        async (lookups) => {
          const aliases = lookups.map((each, index) => `i${index}: installation(${argumentOf(each.key)}) ${selection}`);
          const provider = await delegateToGateway({
            operation: OperationTypeNode.QUERY,
            fieldName: 'provider',
            selectionSet: `{ ${aliases.join(' ')} }`,
            context: lookups[0]!.context,
            info: lookups[0]!.info,
          });
          if (provider instanceof Error) throw provider;
          const found = (provider ?? {}) as Record<string, unknown>;
          return lookups.map((_, index) => (found[`i${index}`] == null ? null : { provider: found, alias: `i${index}` }));
        },
        {
          cacheKeyFn: (lookup) => argumentOf(lookup.key),
          ...(expiring ? { cacheMap: new LRUCache<string, Promise<Found | null>>({ max: expiring.maxEntries, ttl: expiring.ttlMs }) } : {}),
        },
      );
      loaders.set(loaderKey, loader);
    }
    const found = await loader.load({ key, context, info });
    if (!found) return null;
    const value = found.provider[found.alias];
    if (value instanceof GraphQLError) throw underClientPath(value, found.alias, info);
    return asExternal(found.provider, found.alias, value, context, info);
  };
}

/**
 * An error that nulled an installation inside the batch document, at the client's field: its path
 * continues below the gateway's alias (`i0`), which is the batch's business, not the client's.
 */
function underClientPath(error: GraphQLError, alias: string, info: GraphQLResolveInfo): GraphQLError {
  const below = error.path ? error.path.slice(error.path.indexOf(alias) + 1) : [];
  return new GraphQLError(error.message, {
    nodes: info.fieldNodes,
    path: [...responsePathAsArray(info.path), ...below],
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
  });
}
