import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import type { CustomerStore } from './store';
import type { Contract, Customer, Tariff } from './types';

export interface CustomerLoaders {
  customerById: DataLoader<string, Customer | null>;
  customerByExternalId: DataLoader<string, Customer | null>;
  /** The customer's current contract (see CustomerStore.contractsByCustomerIds). */
  contractByCustomerId: DataLoader<string, Contract | null>;
  /** All of the customer's contracts, newest first (see CustomerStore.contractHistoriesByCustomerIds). */
  contractsByCustomerId: DataLoader<string, Contract[]>;
  tariffById: DataLoader<string, Tariff | null>;
}

type LoaderStore = Pick<
  CustomerStore,
  'customersByIds' | 'customersByExternalIds' | 'contractsByCustomerIds' | 'contractHistoriesByCustomerIds' | 'tariffsByIds'
>;

/** Keys per query; a larger batch is split into several queries. */
const MAX_BATCH_SIZE = 500;

export interface ExpiringCache {
  /** How long a loaded entry is served before it is looked up again. */
  ttlMs: number;
  /** Entries per loader; the least recently used go first. */
  maxEntries: number;
}

/**
 * Each loader turns all `load` calls of a tick into one query, and a customer found by one key is
 * cached under the other as well. Without `expiring`, entries live as long as the loaders: one set
 * per request, made in the context factory. With it, one set may serve many requests.
 */
export function createCustomerLoaders(store: LoaderStore, expiring?: ExpiringCache): CustomerLoaders {
  const options = () => ({
    maxBatchSize: MAX_BATCH_SIZE,
    ...(expiring ? { cacheMap: new LRUCache<string, Promise<any>>({ max: expiring.maxEntries, ttl: expiring.ttlMs }) } : {}),
  });

  const customerById: DataLoader<string, Customer | null> = new DataLoader(async (ids) => {
    const customers = await store.customersByIds(ids);
    for (const customer of customers) if (customer) customerByExternalId.prime(customer.externalId, customer);
    return customers;
  }, options());

  const customerByExternalId: DataLoader<string, Customer | null> = new DataLoader(async (externalIds) => {
    const customers = await store.customersByExternalIds(externalIds);
    for (const customer of customers) if (customer) customerById.prime(customer.id, customer);
    return customers;
  }, options());

  return {
    customerById,
    customerByExternalId,
    contractByCustomerId: new DataLoader((customerIds) => store.contractsByCustomerIds(customerIds), options()),
    contractsByCustomerId: new DataLoader((customerIds) => store.contractHistoriesByCustomerIds(customerIds), options()),
    tariffById: new DataLoader((ids) => store.tariffsByIds(ids), options()),
  };
}
