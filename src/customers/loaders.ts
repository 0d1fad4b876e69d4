import DataLoader from 'dataloader';
import type { CustomerStore } from './store';
import type { Contract, Customer, Tariff } from './types';

export interface CustomerLoaders {
  customerById: DataLoader<string, Customer | null>;
  customerByExternalId: DataLoader<string, Customer | null>;
  /** The customer's current contract (see CustomerStore.contractsByCustomerIds). */
  contractByCustomerId: DataLoader<string, Contract | null>;
  tariffById: DataLoader<string, Tariff | null>;
}

type LoaderStore = Pick<
  CustomerStore,
  'customersByIds' | 'customersByExternalIds' | 'contractsByCustomerIds' | 'tariffsByIds'
>;

/** Keys per query; a larger batch is split into several queries. */
const MAX_BATCH_SIZE = 500;

/**
 * One set per request, made in the context factory: each loader turns all `load` calls of a tick
 * into one query, and a customer found by one key is cached under the other as well.
 */
export function createCustomerLoaders(store: LoaderStore): CustomerLoaders {
  const options = { maxBatchSize: MAX_BATCH_SIZE };

  const customerById: DataLoader<string, Customer | null> = new DataLoader(async (ids) => {
    const customers = await store.customersByIds(ids);
    for (const customer of customers) if (customer) customerByExternalId.prime(customer.externalId, customer);
    return customers;
  }, options);

  const customerByExternalId: DataLoader<string, Customer | null> = new DataLoader(async (externalIds) => {
    const customers = await store.customersByExternalIds(externalIds);
    for (const customer of customers) if (customer) customerById.prime(customer.id, customer);
    return customers;
  }, options);

  return {
    customerById,
    customerByExternalId,
    contractByCustomerId: new DataLoader((customerIds) => store.contractsByCustomerIds(customerIds), options),
    tariffById: new DataLoader((ids) => store.tariffsByIds(ids), options),
  };
}
