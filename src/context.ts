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
  /** Per request; a subscription's are shared by the process, entries expiring (useLiveLookups). */
  customerLoaders: CustomerLoaders;
  consumptionStore: ConsumptionStore;
  /** A customer's installation for consumption: IOmeter's, or the archive's while IOmeter is down. */
  customerInstallationId: CustomerInstallationId;
  /** Resolvers lower this response's cache TTL through it. */
  responseTtl: ResponseTtlCap;
  /** Per request, like customerLoaders. */
  loadInstallation: LoadInstallation;
  registrationDefaults: RegistrationDefaults;
  /** The process's one upstream readings subscription, fanned out to every client. */
  readingHub: ReadingHub;
  /** Set by useAuthentication for every operation. */
  identity: Identity;
  /** Set by useSseResume when an SSE client reconnects: live-readings fields resume after it. */
  lastEventId?: string;
}

export type GatewayContextExtension = Omit<GatewayContext, 'identity' | 'lastEventId'>;

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
  const customerInstallationId = createCustomerInstallationId(consumptionStore, logger);
  return () => ({
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
