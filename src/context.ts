import { ResponseTtlCap } from './cache/ttl';
import type { GatewayConfig } from './config';
import { createCustomerInstallationId, type CustomerInstallationId } from './consumption/customerInstallation';
import type { ConsumptionStore } from './consumption/store';
import { createCustomerLoaders, type CustomerLoaders } from './customers/loaders';
import type { RegistrationDefaults } from './customers/onboarding';
import type { CustomerStore } from './customers/store';
import type { Identity } from './identity';
import { createInstallationLoader, type LoadInstallation } from './stitching/installationLoader';
import type { Logger } from './logging/logger';
import type { ReadingHub } from './subscriptions';

/** What the gateway adds to every request's context, next to Mesh's own. */
export interface GatewayContext {
  customerStore: CustomerStore;
  customerLoaders: CustomerLoaders;
  /**
   * Shared by every live-readings subscription of the process, entries expiring after
   * SUBSCRIPTION_LOOKUP_TTL (see liveReading).
   */
  liveCustomerLoaders: CustomerLoaders;
  /** The same for installations: shared by every live-readings subscription, entries expiring. */
  liveLoadInstallation: LoadInstallation;
  consumptionStore: ConsumptionStore;
  /** A customer's installation for consumption: IOmeter's, or the archive's while IOmeter is down. */
  customerInstallationId: CustomerInstallationId;
  /** Resolvers lower this response's cache TTL through it. */
  responseTtl: ResponseTtlCap;
  loadInstallation: LoadInstallation;
  registrationDefaults: RegistrationDefaults;
  /** The process's one upstream readings subscription, fanned out to every client. */
  readingHub: ReadingHub;
  /** Set by useAuthentication for every operation. */
  identity: Identity;
}

export type GatewayContextExtension = Omit<GatewayContext, 'identity'>;

/** Per-request state: loaders must not outlive a request, or their caches would serve one request's data to another. */
export function createContextFactory(
  store: CustomerStore,
  consumptionStore: ConsumptionStore,
  readingHub: ReadingHub,
  config: GatewayConfig,
  logger: Logger,
): () => GatewayContextExtension {
  const registrationDefaults: RegistrationDefaults = {
    signingKeyId: config.defaultSigningKeyId,
    licensePoolId: config.defaultLicensePoolId,
  };
  // Customer rows are the same whoever asks; field access is authorized per client elsewhere.
  const liveLookups = { ttlMs: config.subscriptions.lookupTtlMs, maxEntries: 100_000 };
  const liveCustomerLoaders = createCustomerLoaders(store, liveLookups);
  // What a selection fetches of an installation is the same whoever asks (see createInstallationLoader).
  const liveLoadInstallation = createInstallationLoader(liveLookups);
  const customerInstallationId = createCustomerInstallationId(consumptionStore, logger);
  return () => ({
    liveCustomerLoaders,
    liveLoadInstallation,
    customerStore: store,
    customerLoaders: createCustomerLoaders(store),
    consumptionStore,
    customerInstallationId,
    responseTtl: new ResponseTtlCap(),
    loadInstallation: createInstallationLoader(),
    registrationDefaults,
    readingHub,
  });
}
