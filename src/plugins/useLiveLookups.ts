import type { Plugin } from 'graphql-yoga';
import { createCustomerLoaders, type CustomerLoaders } from '../customers/loaders';
import type { CustomerStore } from '../customers/store';
import { createInstallationLoader, type LoadInstallation } from '../stitching/installationLoader';

export interface LiveLookupsOptions {
  customerStore: CustomerStore;
  /** How long a looked-up customer or installation is served before it is looked up again (SUBSCRIPTION_LOOKUP_TTL). */
  ttlMs: number;
}

/**
 * A subscription's context gets loaders shared by every subscription of the process, whose entries
 * expire, in place of its per-request ones: for the stitched customer fields of live readings and the
 * lazy installation fields (readingMeter). A subscription lasts hours, and its own loaders would keep
 * every customer and installation it loaded for all that time, while fresh loaders per event would
 * query once per event and client. What they load is the same whoever asks (field access is
 * authorized per client on the document, before execution).
 */
export function useLiveLookups({ customerStore, ttlMs }: LiveLookupsOptions): Plugin<{ customerLoaders: CustomerLoaders; loadInstallation: LoadInstallation }> {
  const expiring = { ttlMs, maxEntries: 100_000 };
  const customerLoaders = createCustomerLoaders(customerStore, expiring);
  const loadInstallation = createInstallationLoader(expiring);
  return {
    onSubscribe({ extendContext }) {
      extendContext({ customerLoaders, loadInstallation });
    },
  };
}
