import DataLoader from 'dataloader';
import { print, type GraphQLResolveInfo } from 'graphql';

/** The part of Mesh's in-context SDK this loader needs: delegation of `provider` with a custom selection. */
export interface IometerQuerySdk {
  Iometer: {
    Query: {
      provider(options: {
        root: unknown;
        args: Record<string, never>;
        context: unknown;
        info: GraphQLResolveInfo;
        selectionSet: string;
      }): Promise<unknown>;
    };
  };
}

export type LoadInstallation = (context: IometerQuerySdk, info: GraphQLResolveInfo, externalId: string) => Promise<unknown>;

/** The client's selection under the field being resolved; fragments travel with `info`. */
function selectionOf(info: GraphQLResolveInfo): string {
  const selections = info.fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []);
  return `{ ${selections.map((selection) => print(selection)).join(' ')} }`;
}

/**
 * IOmeter has no batch-by-externalId field, so a page of customers would cost one upstream request
 * per customer. Instead the keys of one tick become aliases in ONE `provider` document:
 * `{ i0: installation(externalId: "C-1001") {…} i1: … }`. There is one loader per distinct
 * selection, since every alias carries the client's selection for that field. Create one per request.
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
        const provider = await context.Iometer.Query.provider({
          root: {},
          args: {},
          context,
          info,
          selectionSet: `{ ${aliases.join(' ')} }`,
        });
        if (provider instanceof Error) throw provider;
        const found = (provider ?? {}) as Record<string, unknown>;
        return externalIds.map((_, index) => found[`i${index}`] ?? null);
      });
      loaders.set(selection, loader);
    }
    return loader.load(externalId);
  };
}
