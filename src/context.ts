import type { CacheEntity } from './cache/store';
import DataLoader from 'dataloader';
import type { AlertBus } from './alerts/bus';
import type { LiveAlerts } from './alerts/liveAlerts';
import type { UsageAlertRules, UsageAlertRuleStore } from './alerts/rules';
import { ResponseTtlCap } from './cache/ttl';
import { createCustomerInstallationId, type CustomerInstallationId } from './consumption/customerInstallation';
import type { MonthForecaster } from './consumption/forecast';
import type { ConsumptionStore } from './consumption/store';
import { createCustomerLoaders, type CustomerLoaders } from './customers/loaders';
import type { RegistrationDefaults } from './customers/onboarding';
import { createAuditLog, type AuditLog } from './customers/audit';
import type { CustomerStore } from './customers/store';
import type { Identity } from './identity';
import type { Logger } from './logging/logger';
import { createInstallationLoader, type LoadInstallation } from './stitching/installationLoader';
import type { ReadingHub } from './subscriptions';

export interface UsageAlertParts {
  store: UsageAlertRuleStore;
  bus: AlertBus;
  live: LiveAlerts;
}

/** What the gateway adds to every request's context, next to Mesh's own. */
export interface GatewayContext {
  customerStore: CustomerStore;
  /** Per request; a subscription's are shared by the process, entries expiring (useLiveLookups). */
  customerLoaders: CustomerLoaders;
  consumptionStore: ConsumptionStore;
  monthForecaster: MonthForecaster;
  /** A customer's installation for consumption: IOmeter's, or the archive's while IOmeter is down. */
  customerInstallationId: CustomerInstallationId;
  /** Resolvers lower this response's cache TTL through it. */
  responseTtl: ResponseTtlCap;
  /** Cache tags of this response beyond its entities; resolvers add e.g. the consumption tag of the customer whose contracts price it. */
  responseTags: CacheEntity[];
  /** Customers (externalIds) whose contracts this request changed; the response cache invalidates what shows them. */
  changedCustomers: Set<string>;
  /** Staff changes of tariffs and contracts are recorded here. */
  audit: AuditLog;
  /** Usage alert rules (a loader per request), the bus rule changes go out on, and the alerts clients subscribe to. */
  usageAlerts: UsageAlertParts & { rules: DataLoader<string, UsageAlertRules> };
  /** Per request, like customerLoaders. */
  loadInstallation: LoadInstallation;
  registrationDefaults: RegistrationDefaults;
  /** The process's one upstream readings subscription, fanned out to every client. */
  readingHub: ReadingHub;
  /** Set by useAuthentication for every operation. */
  identity: Identity;
  /** Set by useSseResume when an SSE client reconnects: live-readings fields resume after it. */
  lastEventId?: string;
  /** Set by the rate limits (useGatewayRateLimits): spends the client's budget for one replay page, rejecting when spent. */
  spendReplayPage?: () => Promise<void>;
}

export type GatewayContextExtension = Omit<GatewayContext, 'identity' | 'lastEventId' | 'spendReplayPage'>;

export interface ContextParts {
  customerStore: CustomerStore;
  usageAlerts: UsageAlertParts;
  consumptionStore: ConsumptionStore;
  monthForecaster: MonthForecaster;
  readingHub: ReadingHub;
  registrationDefaults: RegistrationDefaults;
  logger: Logger;
}

/** Per-request state: loaders must not outlive a request, or their caches would serve one request's data to another. */
export function createContextFactory({
  customerStore,
  usageAlerts,
  consumptionStore,
  monthForecaster,
  readingHub,
  registrationDefaults,
  logger,
}: ContextParts): () => GatewayContextExtension {
  const customerInstallationId = createCustomerInstallationId(consumptionStore, logger);
  const audit = createAuditLog(logger);
  return () => ({
    customerStore,
    customerLoaders: createCustomerLoaders(customerStore),
    consumptionStore,
    monthForecaster,
    customerInstallationId,
    responseTtl: new ResponseTtlCap(),
    responseTags: [],
    changedCustomers: new Set(),
    audit,
    usageAlerts: { ...usageAlerts, rules: new DataLoader((externalIds) => usageAlerts.store.rulesOfMany(externalIds)) },
    loadInstallation: createInstallationLoader(),
    registrationDefaults,
    readingHub,
  });
}
