export { CustomerStore } from './store';
export { createCustomerLoaders, type CustomerLoaders } from './loaders';
export { seedSandboxCustomers, NOT_ONBOARDED_EXTERNAL_IDS, type SandboxSeedResult } from './sandboxSeed';
export { CustomerInputError, type InputIssue } from './errors';
export { PAGE_SIZE, EXTERNAL_ID_PATTERN } from './validation';
export type {
  UpsertCustomerInput,
  PostalAddressInput,
  SearchCustomersArgs,
  TariffInput,
  UpsertContractInput,
} from './validation';
export { CONTRACT_STATUSES } from './types';
export type * from './types';
