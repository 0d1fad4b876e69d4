import type { Database } from '../database';
import { endContract, writeContract } from './contractChanges';
import { customerCursor } from './cursor';
import { upsertCustomerRow } from './customerChanges';
import { explainDatabaseError } from './errors';
import { KnownCustomers } from './knownCustomers';
import { today } from './onboarding';
import {
  CONTRACT_COLUMNS,
  CUSTOMER_COLUMNS,
  TARIFF_COLUMNS,
  inKeyOrder,
  toContract,
  toCustomer,
  toTariff,
  type ContractRow,
  type CustomerRow,
  type TariffRow,
} from './rows';
import { writeTariff } from './tariffChanges';
import type { Change, Contract, ContractChange, Customer, CustomerConnection, Tariff } from './types';
import {
  contractSchema,
  endContractSchema,
  parseInput,
  searchCustomersSchema,
  tariffSchema,
  upsertCustomerSchema,
  type SearchCustomersArgs,
  type TariffInput,
  type UpsertContractInput,
  type UpsertCustomerInput,
} from './validation';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Data access for customers, tariffs and contracts. Every `…ByIds` method is one query for any
 * number of keys and answers in key order with null for misses, as DataLoader expects.
 */
export class CustomerStore {
  /** The embedded database's remembered lookups (knownCustomers.ts); undefined for PostgreSQL. */
  private readonly known: KnownCustomers | undefined;

  constructor(private readonly db: Database) {
    this.known = KnownCustomers.of(db);
  }

  /** Customers for `keys` in key order: remembered ones where the database allows, the rest from `load`. */
  private lookup(key: 'id' | 'externalId', keys: readonly string[], load: (keys: readonly string[]) => Promise<(Customer | null)[]>) {
    return this.known ? this.known.lookup(key, keys, load) : load(keys);
  }

  /**
   * The customer with this externalId if it is remembered (null: remembered as none), else undefined.
   * Answered synchronously, so a stitched `customer` that is known costs graphql-js no promise.
   */
  knownByExternalId(externalId: string): Customer | null | undefined {
    return this.known?.peek('externalId', externalId);
  }

  async customersByIds(ids: readonly string[]): Promise<(Customer | null)[]> {
    return this.lookup('id', ids.map(lowerCase), async (keys) => {
      const valid = unique(keys.filter((id) => UUID.test(id)));
      if (valid.length === 0) return keys.map(() => null);
      const { rows } = await this.db.query<CustomerRow>(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE id = ANY($1::uuid[])`, [valid]);
      return inKeyOrder(keys, rows.map(toCustomer), (customer) => customer.id);
    });
  }

  async customersByExternalIds(externalIds: readonly string[]): Promise<(Customer | null)[]> {
    if (externalIds.length === 0) return [];
    return this.lookup('externalId', externalIds, async (keys) => {
      const { rows } = await this.db.query<CustomerRow>(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE external_id = ANY($1::text[])`, [unique(keys)]);
      return inKeyOrder(keys, rows.map(toCustomer), (customer) => customer.externalId);
    });
  }

  /** Customers ordered by (name, id); `search` matches name, email or externalId, ignoring case. */
  async searchCustomers(args: SearchCustomersArgs = {}): Promise<CustomerConnection> {
    const { search, first, after } = parseInput(searchCustomersSchema, args);
    const cursor = after ? customerCursor.decode(after) : null;
    const pattern = search ? `%${search.replace(/[\\%_]/g, (char) => `\\${char}`)}%` : null;
    const { rows } = await this.db.query<CustomerRow & { total_count: number }>(
      `WITH matched AS (
         SELECT * FROM customers
         WHERE $1::text IS NULL OR name ILIKE $1 OR email ILIKE $1 OR external_id ILIKE $1
       )
       SELECT total.total_count, page.*
       FROM (SELECT count(*)::int AS total_count FROM matched) AS total
       LEFT JOIN LATERAL (
         SELECT ${CUSTOMER_COLUMNS} FROM matched
         WHERE $2::text IS NULL OR (name, id) > ($2::text, $3::uuid)
         ORDER BY name, id
         LIMIT $4
       ) AS page ON true
       ORDER BY page.name, page.id`,
      [pattern, cursor?.name ?? null, cursor?.id ?? null, first + 1],
    );
    const totalCount = rows[0]?.total_count ?? 0;
    const customers = rows.filter((row) => row.id !== null).map(toCustomer);
    const edges = customers
      .slice(0, first)
      .map((node) => ({ cursor: customerCursor.encode(node), node }));
    return {
      edges,
      nodes: edges.map((edge) => edge.node),
      totalCount,
      hasNextPage: customers.length > first,
      endCursor: edges.at(-1)?.cursor ?? null,
    };
  }

  /** Creates or replaces the customer with this externalId (see upsertCustomerRow). */
  async upsertCustomer(input: UpsertCustomerInput): Promise<Customer> {
    const customer = parseInput(upsertCustomerSchema, input);
    const write = () => upsertCustomerRow(this.db, customer);
    return (this.known ? this.known.write(write) : write()).catch(rethrowExplained);
  }

  async tariffsByIds(ids: readonly string[]): Promise<(Tariff | null)[]> {
    const valid = unique(ids.filter((id) => UUID.test(id)));
    if (valid.length === 0) return ids.map(() => null);
    const { rows } = await this.db.query<TariffRow>(
      `SELECT ${TARIFF_COLUMNS} FROM tariffs WHERE id = ANY($1::uuid[])`,
      [valid],
    );
    return inKeyOrder(ids.map(lowerCase), rows.map(toTariff), (tariff) => tariff.id);
  }

  async listTariffs(): Promise<Tariff[]> {
    const { rows } = await this.db.query<TariffRow>(
      `SELECT ${TARIFF_COLUMNS} FROM tariffs ORDER BY name, id`,
    );
    return rows.map(toTariff);
  }

  /** Creates or changes a tariff (see writeTariff): by id, else by name. */
  async upsertTariff(input: TariffInput): Promise<Change<Tariff>> {
    const tariff = parseInput(tariffSchema, input);
    return this.db.transaction((tx) => writeTariff(tx, tariff)).catch(rethrowExplained);
  }

  /**
   * The current contract of each customer: the one in force today, else the next one to start.
   * Ended and cancelled contracts are history and never current.
   */
  async contractsByCustomerIds(customerIds: readonly string[]): Promise<(Contract | null)[]> {
    const valid = unique(customerIds.filter((id) => UUID.test(id)));
    if (valid.length === 0) return customerIds.map(() => null);
    // Contracts never overlap, so the earliest one not yet ended is in force today or the next one.
    const { rows } = await this.db.query<ContractRow>(
      `SELECT DISTINCT ON (customer_id) ${CONTRACT_COLUMNS} FROM contracts
       WHERE customer_id = ANY($1::uuid[]) AND status <> 'cancelled' AND (end_date IS NULL OR end_date >= $2::date)
       ORDER BY customer_id, start_date`,
      [valid, today()],
    );
    return inKeyOrder(customerIds.map(lowerCase), rows.map(toContract), (contract) => contract.customerId);
  }

  /** Every contract of each customer, cancelled ones included, newest start first. */
  async contractHistoriesByCustomerIds(customerIds: readonly string[]): Promise<Contract[][]> {
    const valid = unique(customerIds.filter((id) => UUID.test(id)));
    if (valid.length === 0) return customerIds.map(() => []);
    const { rows } = await this.db.query<ContractRow>(
      `SELECT ${CONTRACT_COLUMNS} FROM contracts WHERE customer_id = ANY($1::uuid[])
       ORDER BY start_date DESC, created_at DESC`,
      [valid],
    );
    const contracts = rows.map(toContract);
    return customerIds.map((id) => contracts.filter((contract) => contract.customerId === lowerCase(id)));
  }

  /** Creates or changes a contract (see writeContract). */
  async upsertContract(input: UpsertContractInput): Promise<ContractChange> {
    const contract = parseInput(contractSchema, input);
    return this.db.transaction((tx) => writeContract(tx, contract)).catch(rethrowExplained);
  }

  /** Sets the last day a contract is in force. */
  async endContract(input: { id: string; endDate: string }): Promise<ContractChange> {
    const { id, endDate } = parseInput(endContractSchema, input);
    return this.db.transaction((tx) => endContract(tx, id.toLowerCase(), endDate)).catch(rethrowExplained);
  }
}

function rethrowExplained(error: unknown): never {
  throw explainDatabaseError(error);
}

function unique(keys: readonly string[]): string[] {
  return [...new Set(keys)];
}

/** PostgreSQL prints UUIDs in lower case; keys are matched the same way. */
function lowerCase(id: string): string {
  return id.toLowerCase();
}
