import type { Database, Queryable } from '../../database';
import type { AuditEntry } from '../audit';
import { writeContract } from '../contractChanges';
import { writeCustomer } from '../customerChanges';
import { CustomerInputError, explainDatabaseError } from '../errors';
import { writeTariff } from '../tariffChanges';
import type { Change } from '../types';
import { contractSchema, parseInput, tariffSchema, upsertCustomerSchema } from '../validation';
import type { ImportRow } from './rows';

/** The file's column for a field the store names in an error, per kind of record. */
const COLUMN_OF: Record<'customer' | 'tariff' | 'contract', Record<string, string>> = {
  customer: {
    externalId: 'customer_external_id',
    name: 'customer_name',
    email: 'customer_email',
    phone: 'customer_phone',
    address: 'street',
    'address.street': 'street',
    'address.postalCode': 'postal_code',
    'address.city': 'city',
    'address.country': 'country',
  },
  tariff: {
    name: 'tariff_name',
    energyPriceCtPerKwh: 'energy_price_ct_per_kwh',
    feedInCtPerKwh: 'feed_in_ct_per_kwh',
    basePriceEurPerMonth: 'base_price_eur_per_month',
  },
  contract: { customerExternalId: 'customer_external_id', tariffId: 'tariff_name', startDate: 'contract_start', endDate: 'contract_end' },
};

type Kind = keyof typeof COLUMN_OF;

export interface RowReport {
  row: number;
  /** What the row did, e.g. `customer C-1001 created`; empty when refused. */
  done: string[];
  /** Why the row was refused: the column and the reason. */
  refused?: string;
}

export interface ImportResult {
  /** True when every row was good and everything was committed; false: nothing was applied. */
  applied: boolean;
  rows: RowReport[];
  /** The changes made (committed only when `applied`), for the audit log and cache invalidation. */
  changes: Array<Omit<AuditEntry<{ id: string }>, 'by' | 'action'> & { customerExternalId?: string }>;
}

class RowRefused extends Error {}
class ImportRefused extends Error {}

const outcome = (change: Change<unknown>) => (change.before === null ? 'created' : change.before === change.after ? 'unchanged' : 'updated');

/**
 * Applies an import in one transaction: every row is tried (each under a savepoint, so a bad row is
 * undone alone and the next rows still report), and if any row is refused the whole transaction is
 * rolled back, so a file is applied completely or not at all. Idempotent: importing a file again
 * reports every record unchanged.
 */
export async function applyImport(db: Database, rows: ImportRow[]): Promise<ImportResult> {
  const reports: RowReport[] = [];
  const changes: ImportResult['changes'] = [];
  try {
    await db.transaction(async (tx) => {
      for (const row of rows) {
        await tx.query('SAVEPOINT import_row');
        const done: string[] = [];
        try {
          await applyRow(tx, row, done, changes);
          await tx.query('RELEASE SAVEPOINT import_row');
          reports.push({ row: row.row, done });
        } catch (error) {
          if (!(error instanceof RowRefused)) throw error;
          await tx.query('ROLLBACK TO SAVEPOINT import_row');
          reports.push({ row: row.row, done: [], refused: error.message });
        }
      }
      if (reports.some((report) => report.refused)) throw new ImportRefused();
    });
    return { applied: true, rows: reports, changes };
  } catch (error) {
    if (error instanceof ImportRefused) return { applied: false, rows: reports, changes: [] };
    throw error;
  }
}

async function applyRow(tx: Queryable, row: ImportRow, done: string[], changes: ImportResult['changes']): Promise<void> {
  if (row.customer) {
    const change = await refusing('customer', () => writeCustomer(tx, parseInput(upsertCustomerSchema, row.customer)));
    done.push(`customer ${change.after.externalId} ${outcome(change)}`);
    changes.push({ entity: 'Customer', change, customerExternalId: change.after.externalId });
  }
  let tariffId: string | undefined;
  if (row.tariff) {
    const change = await refusing('tariff', () => writeTariff(tx, parseInput(tariffSchema, row.tariff)));
    done.push(`tariff "${change.after.name}" ${outcome(change)}`);
    changes.push({ entity: 'Tariff', change });
    tariffId = change.after.id;
  }
  if (!row.contract) return;
  if (!row.tariffName) throw new RowRefused('tariff_name is required with a contract');
  tariffId ??= await existingTariffId(tx, row.tariffName);
  const change = await refusing('contract', () =>
    writeContract(tx, parseInput(contractSchema, { customerExternalId: row.customerExternalId, tariffId, ...row.contract })),
  );
  done.push(`contract ${change.after.startDate} to ${change.after.endDate ?? 'open-ended'} ${outcome(change)}`);
  changes.push({ entity: 'Contract', change, customerExternalId: change.customerExternalId });
}

async function existingTariffId(tx: Queryable, name: string): Promise<string> {
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM tariffs WHERE name = $1', [name]);
  if (!rows[0]) throw new RowRefused(`tariff_name: no tariff "${name}" exists; give its prices to create it`);
  return rows[0].id;
}

/** Runs a write, turning the domain's input errors into a refusal naming the file's column. */
async function refusing<T>(kind: Kind, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const explained = explainDatabaseError(error);
    if (!(explained instanceof CustomerInputError)) throw error;
    const column = COLUMN_OF[kind][explained.field] ?? explained.field;
    throw new RowRefused(`${column}: ${explained.message.slice(explained.field.length + 1)}`);
  }
}
