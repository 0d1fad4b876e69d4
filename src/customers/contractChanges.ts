import type { Queryable } from '../database';
import { CustomerInputError } from './errors';
import { today } from './onboarding';
import { CONTRACT_COLUMNS, toContract, type ContractRow } from './rows';
import type { Contract, ContractChange } from './types';
import type { ValidContractInput } from './validation';

/*
 * Contract writes, each in the caller's transaction and under the customer's row lock, so two writes
 * for one customer run one after the other and the overlap check sees the other's result.
 */

const describePeriod = (contract: Pick<Contract, 'startDate' | 'endDate'>) =>
  `${contract.startDate} to ${contract.endDate ?? 'open-ended'}`;

const overlaps = (a: Pick<Contract, 'startDate' | 'endDate'>, b: Pick<Contract, 'startDate' | 'endDate'>) =>
  (a.endDate === null || a.endDate >= b.startDate) && (b.endDate === null || b.endDate >= a.startDate);

/**
 * Creates or changes a contract: the one with `id`, else the customer's contract with this tariff and
 * start date (so importing a file again changes nothing, and a later export can set the end date),
 * else a new one. A contract that has started keeps its tariff and start date: changing them would
 * reprice consumption already billed. None of the customer's contracts other than cancelled ones may
 * overlap it.
 */
export async function writeContract(tx: Queryable, input: ValidContractInput): Promise<ContractChange> {
  const customer = await lockCustomer(tx, input.customerExternalId);
  const tariff = await tx.query('SELECT id FROM tariffs WHERE id = $1 FOR SHARE', [input.tariffId]);
  if (tariff.rows.length === 0) throw new CustomerInputError('tariffId', 'does not refer to an existing tariff');
  const contracts = await contractsOf(tx, customer.id);
  const next = { tariffId: input.tariffId.toLowerCase(), startDate: input.startDate, endDate: input.endDate };
  const same = (contract: Contract) =>
    contract.tariffId === next.tariffId && contract.startDate === next.startDate && contract.endDate === next.endDate;

  // Without an id, a contract is known by its tariff and start date (what a CRM export identifies it by).
  const before = input.id
    ? contracts.find((contract) => contract.id === input.id!.toLowerCase())
    : contracts.find((contract) => contract.tariffId === next.tariffId && contract.startDate === next.startDate);
  if (input.id && !before) throw new CustomerInputError('id', `does not refer to a contract of customer ${input.customerExternalId}`);
  if (!before) {
    refuseOverlap(contracts, null, next, customer.externalId);
    const { rows } = await tx.query<ContractRow>(
      `INSERT INTO contracts (customer_id, tariff_id, start_date, end_date, status)
       VALUES ($1, $2, $3, $4, 'active') RETURNING ${CONTRACT_COLUMNS}`,
      [customer.id, next.tariffId, next.startDate, next.endDate],
    );
    return { customerExternalId: customer.externalId, before: null, after: toContract(rows[0]!) };
  }
  if (same(before)) return { customerExternalId: customer.externalId, before, after: before };
  if (before.startDate <= today()) {
    const field = before.tariffId !== next.tariffId ? 'tariffId' : before.startDate !== next.startDate ? 'startDate' : undefined;
    if (field) {
      throw new CustomerInputError(
        field,
        `cannot change: contract ${before.id} is in force since ${before.startDate}; end it and add a new contract from the day the change applies`,
      );
    }
  }
  refuseOverlap(contracts, before, next, customer.externalId);
  const { rows } = await tx.query<ContractRow>(
    `UPDATE contracts SET tariff_id = $2, start_date = $3, end_date = $4, updated_at = now()
     WHERE id = $1 RETURNING ${CONTRACT_COLUMNS}`,
    [before.id, next.tariffId, next.startDate, next.endDate],
  );
  return { customerExternalId: customer.externalId, before, after: toContract(rows[0]!) };
}

/**
 * Ends a contract on `endDate` (its last day in force), or moves its end: the same rules as any
 * change, so an end later than before must not reach into the customer's next contract.
 */
export async function endContract(tx: Queryable, id: string, endDate: string): Promise<ContractChange> {
  // The customer's row lock first, as writeContract takes it, then the contract as it stands.
  const { rows } = await tx.query<{ external_id: string }>(
    `SELECT customer.external_id FROM contracts contract JOIN customers customer ON customer.id = contract.customer_id
     WHERE contract.id = $1 AND contract.status <> 'cancelled' FOR UPDATE OF customer`,
    [id],
  );
  if (!rows[0]) throw new CustomerInputError('id', 'does not refer to a contract (cancelled ones cannot end)');
  const contract = toContract(
    (await tx.query<ContractRow>(`SELECT ${CONTRACT_COLUMNS} FROM contracts WHERE id = $1`, [id])).rows[0]!,
  );
  if (endDate < contract.startDate) throw new CustomerInputError('endDate', `must not be before ${contract.startDate}, the contract's start`);
  return writeContract(tx, { id, customerExternalId: rows[0].external_id, tariffId: contract.tariffId, startDate: contract.startDate, endDate });
}

async function lockCustomer(tx: Queryable, externalId: string): Promise<{ id: string; externalId: string }> {
  const { rows } = await tx.query<{ id: string; external_id: string }>(
    'SELECT id, external_id FROM customers WHERE external_id = $1 FOR UPDATE',
    [externalId],
  );
  if (!rows[0]) throw new CustomerInputError('customerExternalId', 'does not refer to an existing customer');
  return { id: rows[0].id, externalId: rows[0].external_id };
}

async function contractsOf(tx: Queryable, customerId: string): Promise<Contract[]> {
  const { rows } = await tx.query<ContractRow>(
    `SELECT ${CONTRACT_COLUMNS} FROM contracts WHERE customer_id = $1 AND status <> 'cancelled' ORDER BY start_date`,
    [customerId],
  );
  return rows.map(toContract);
}

function refuseOverlap(
  contracts: Contract[],
  before: Contract | null,
  next: Pick<Contract, 'startDate' | 'endDate'>,
  customerExternalId: string,
): void {
  const clash = contracts.find((contract) => contract.id !== before?.id && overlaps(contract, next));
  if (!clash) return;
  throw new CustomerInputError(
    next.endDate !== null && clash.startDate > next.startDate ? 'endDate' : 'startDate',
    `overlaps contract ${clash.id} of customer ${customerExternalId} (${describePeriod(clash)}); ` +
      `a customer's contracts must not overlap (${describePeriod(next)} was given)`,
  );
}
