export interface PostalAddress {
  street: string;
  postalCode: string;
  city: string;
  /** ISO 3166-1 alpha-2, e.g. `DE`. */
  country: string;
}

export interface Customer {
  id: string;
  /** The externalId of the customer's IOmeter installation. */
  externalId: string;
  name: string;
  email: string | null;
  phone: string | null;
  address: PostalAddress | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Tariff {
  id: string;
  name: string;
  energyPriceCtPerKwh: number;
  basePriceEurPerMonth: number;
  feedInCtPerKwh: number;
}

export const CONTRACT_STATUSES = ['pending', 'active', 'ended', 'cancelled'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

export interface Contract {
  id: string;
  customerId: string;
  tariffId: string;
  /** `YYYY-MM-DD`. */
  startDate: string;
  /** `YYYY-MM-DD`; null while open-ended. */
  endDate: string | null;
  status: ContractStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface CustomerEdge {
  cursor: string;
  node: Customer;
}

/** A Relay-style page of customers. */
export interface CustomerConnection {
  edges: CustomerEdge[];
  nodes: Customer[];
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
}

/** What a write did: `before` is null for a creation; `before` equal to `after` means nothing changed. */
export interface Change<T> {
  before: T | null;
  after: T;
}

/** A contract write, with the customer number it belongs to (for cache invalidation and the audit log). */
export interface ContractChange extends Change<Contract> {
  customerExternalId: string;
}
