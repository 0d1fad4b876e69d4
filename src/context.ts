import type { GatewayConfig } from './config';
import { createCustomerLoaders, type CustomerLoaders } from './customers/loaders';
import type { RegistrationDefaults } from './customers/onboarding';
import type { CustomerStore } from './customers/store';
import { createInstallationLoader, type IometerQuerySdk, type LoadInstallation } from './installations/byExternalIdLoader';

/** What the gateway adds to every request's context, next to Mesh's own (the `Iometer` in-context SDK). */
export interface GatewayContext extends IometerQuerySdk {
  customerStore: CustomerStore;
  customerLoaders: CustomerLoaders;
  loadInstallation: LoadInstallation;
  registrationDefaults: RegistrationDefaults;
}

export type GatewayContextExtension = Omit<GatewayContext, keyof IometerQuerySdk>;

/** Per-request state: loaders must not outlive a request, or their caches would serve one request's data to another. */
export function createContextFactory(store: CustomerStore, config: GatewayConfig): () => GatewayContextExtension {
  const registrationDefaults: RegistrationDefaults = {
    signingKeyId: config.defaultSigningKeyId,
    licensePoolId: config.defaultLicensePoolId,
  };
  return () => ({
    customerStore: store,
    customerLoaders: createCustomerLoaders(store),
    loadInstallation: createInstallationLoader(),
    registrationDefaults,
  });
}
