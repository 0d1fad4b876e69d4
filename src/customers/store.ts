import type { Database, Queryable } from '../database';
import { customerCursor } from './cursor';
import { CustomerInputError, explainDatabaseError } from './errors';
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
import type { Contract, Customer, CustomerConnection, Tariff } from './types';
import {
  parseInput,
  searchCustomersSchema,
  setContractSchema,
  tariffSchema,
  upsertCustomerSchema,
  type SearchCustomersArgs,
  type SetContractInput,
  type TariffInput,
  type UpsertCustomerInput,
} from './validation';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Data access for customers, tariffs and contracts. Every `…ByIds` method is one query for any
 * number of keys and answers in key order with null for misses, as DataLoader expects.
 */
export class CustomerStore {
  constructor(private readonly db: Database) {}

  async customersByIds(ids: readonly string[]): Promise<(Customer | null)[]> {
    const valid = unique(ids.filter((id) => UUID.test(id)));
    if (valid.length === 0) return ids.map(() => null);
    const { rows } = await this.db.query<CustomerRow>(
      `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE id = ANY($1::uuid[])`,
      [valid],
    );
    return inKeyOrder(ids.map(lowerCase), rows.map(toCustomer), (customer) => customer.id);
  }

  async customersByExternalIds(externalIds: readonly string[]): Promise<(Customer | null)[]> {
    if (externalIds.length === 0) return [];
    const { rows } = await this.db.query<CustomerRow>(
      `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE external_id = ANY($1::text[])`,
      [unique(externalIds)],
    );
    return inKeyOrder(externalIds, rows.map(toCustomer), (customer) => customer.externalId);
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

  /**
   * Creates or replaces the customer with this externalId; optional fields left out become null.
   * One atomic statement, so concurrent upserts of one externalId leave one row and all succeed.
   */
  async upsertCustomer(input: UpsertCustomerInput): Promise<Customer> {
    const customer = parseInput(upsertCustomerSchema, input);
    const { rows } = await this.db
      .query<CustomerRow>(
        `INSERT INTO customers (external_id, name, email, phone, street, postal_code, city, country)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (external_id) DO UPDATE SET
           name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone,
           street = EXCLUDED.street, postal_code = EXCLUDED.postal_code,
           city = EXCLUDED.city, country = EXCLUDED.country, updated_at = now()
         RETURNING ${CUSTOMER_COLUMNS}`,
        [
          customer.externalId,
          customer.name,
          customer.email,
          customer.phone,
          customer.address?.street ?? null,
          customer.address?.postalCode ?? null,
          customer.address?.city ?? null,
          customer.address?.country ?? null,
        ],
      )
      .catch(rethrowExplained);
    return toCustomer(single(rows));
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

  /** Creates or updates the tariff with this name. */
  async upsertTariff(input: TariffInput): Promise<Tariff> {
    const tariff = parseInput(tariffSchema, input);
    const { rows } = await this.db.query<TariffRow>(
      `INSERT INTO tariffs (name, energy_price_ct_per_kwh, base_price_eur_per_month, feed_in_ct_per_kwh)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET
         energy_price_ct_per_kwh = EXCLUDED.energy_price_ct_per_kwh,
         base_price_eur_per_month = EXCLUDED.base_price_eur_per_month,
         feed_in_ct_per_kwh = EXCLUDED.feed_in_ct_per_kwh, updated_at = now()
       RETURNING ${TARIFF_COLUMNS}`,
      [tariff.name, tariff.energyPriceCtPerKwh, tariff.basePriceEurPerMonth, tariff.feedInCtPerKwh],
    );
    return toTariff(single(rows));
  }

  /**
   * The current contract of each customer: the active one, else the latest pending one.
   * Ended and cancelled contracts are history and never current.
   */
  async contractsByCustomerIds(customerIds: readonly string[]): Promise<(Contract | null)[]> {
    const valid = unique(customerIds.filter((id) => UUID.test(id)));
    if (valid.length === 0) return customerIds.map(() => null);
    const { rows } = await this.db.query<ContractRow>(
      `SELECT DISTINCT ON (customer_id) ${CONTRACT_COLUMNS} FROM contracts
       WHERE customer_id = ANY($1::uuid[]) AND status IN ('active', 'pending')
       ORDER BY customer_id, (status = 'active') DESC, start_date DESC, created_at DESC`,
      [valid],
    );
    return inKeyOrder(customerIds.map(lowerCase), rows.map(toContract), (contract) => contract.customerId);
  }

  /**
   * Makes this the customer's current contract, in one transaction that holds the customer's row
   * lock: a pending contract it replaces is cancelled; a new active contract ends the active one
   * the day before it starts. Setting the current contract again is a no-op.
   */
  async setContract(input: SetContractInput): Promise<Contract> {
    const contract = parseInput(setContractSchema, input);
    const run = (tx: Queryable) => applyContract(tx, contract);
    return this.db.transaction(run).catch(rethrowExplained);
  }
}

type ValidContractInput = ReturnType<typeof setContractSchema.parse>;

async function applyContract(tx: Queryable, next: ValidContractInput): Promise<Contract> {
  const customer = await tx.query('SELECT id FROM customers WHERE id = $1 FOR UPDATE', [next.customerId]);
  if (customer.rows.length === 0) {
    throw new CustomerInputError('customerId', 'does not refer to an existing customer');
  }
  const current = (
    await tx.query<ContractRow>(
      `SELECT ${CONTRACT_COLUMNS} FROM contracts WHERE customer_id = $1 AND status IN ('active', 'pending')`,
      [next.customerId],
    )
  ).rows.map(toContract);

  const same = current.find(
    (contract) =>
      contract.tariffId === next.tariffId.toLowerCase() &&
      contract.startDate === next.startDate &&
      contract.endDate === next.endDate &&
      contract.status === next.status,
  );
  if (same) return same;

  await tx.query(
    `UPDATE contracts SET status = 'cancelled', updated_at = now()
     WHERE customer_id = $1 AND status = 'pending'`,
    [next.customerId],
  );
  const active = current.find((contract) => contract.status === 'active');
  if (next.status === 'active' && active) {
    if (active.startDate >= next.startDate) {
      throw new CustomerInputError(
        'startDate',
        `must be after ${active.startDate}, the start of the active contract`,
      );
    }
    await tx.query(
      `UPDATE contracts SET status = 'ended', end_date = $2::date - 1, updated_at = now() WHERE id = $1`,
      [active.id, next.startDate],
    );
  }
  const { rows } = await tx.query<ContractRow>(
    `INSERT INTO contracts (customer_id, tariff_id, start_date, end_date, status)
     VALUES ($1, $2, $3, $4, $5)
     RETURNING ${CONTRACT_COLUMNS}`,
    [next.customerId, next.tariffId, next.startDate, next.endDate, next.status],
  );
  return toContract(single(rows));
}

function rethrowExplained(error: unknown): never {
  throw explainDatabaseError(error);
}

function single<T>(rows: T[]): T {
  const [row] = rows;
  if (row === undefined) throw new Error('Expected the statement to return a row');
  return row;
}

function unique(keys: readonly string[]): string[] {
  return [...new Set(keys)];
}

/** PostgreSQL prints UUIDs in lower case; keys are matched the same way. */
function lowerCase(id: string): string {
  return id.toLowerCase();
}
