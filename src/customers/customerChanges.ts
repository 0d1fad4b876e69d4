import type { Queryable } from '../database';
import { CUSTOMER_COLUMNS, toCustomer, type CustomerRow } from './rows';
import type { Change, Customer } from './types';
import type { ValidCustomerInput } from './validation';

/**
 * Creates or replaces the customer with this externalId; optional fields left out become null.
 * One atomic statement, so concurrent upserts of one externalId leave one row and all succeed.
 */
export async function upsertCustomerRow(db: Queryable, customer: ValidCustomerInput): Promise<Customer> {
  const { rows } = await db.query<CustomerRow>(
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
  );
  return toCustomer(rows[0]!);
}

/** The same in the caller's transaction, saying what changed; a customer already as given is left alone. */
export async function writeCustomer(tx: Queryable, customer: ValidCustomerInput): Promise<Change<Customer>> {
  const { rows } = await tx.query<CustomerRow>(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE external_id = $1 FOR UPDATE`, [customer.externalId]);
  const before = rows[0] ? toCustomer(rows[0]) : null;
  const same =
    before !== null &&
    before.name === customer.name &&
    before.email === customer.email &&
    before.phone === customer.phone &&
    JSON.stringify(before.address) === JSON.stringify(customer.address && { ...customer.address });
  if (same) return { before, after: before };
  return { before, after: await upsertCustomerRow(tx, customer) };
}
