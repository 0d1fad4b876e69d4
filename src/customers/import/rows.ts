import { parse } from 'csv-parse/sync';
import type { TariffInput, UpsertCustomerInput } from '../validation';

/**
 * The import file: CSV with a header row, one row per contract a provider's CRM exports, the
 * customer's and the tariff's columns beside it. Column groups are optional per row: a row without
 * customer_name refers to an existing customer (or one an earlier row creates), a row without prices
 * to an existing tariff by name, and a row without contract_start imports no contract.
 */
export const IMPORT_COLUMNS = [
  'customer_external_id',
  'customer_name',
  'customer_email',
  'customer_phone',
  'street',
  'postal_code',
  'city',
  'country',
  'tariff_name',
  'energy_price_ct_per_kwh',
  'feed_in_ct_per_kwh',
  'base_price_eur_per_month',
  'contract_start',
  'contract_end',
] as const;

type Column = (typeof IMPORT_COLUMNS)[number];

/** Bounds on what one import may hold; a larger export is imported in parts. */
export const MAX_IMPORT_ROWS = 100_000;

export interface ImportRow {
  /** The row's number in the file, the header being row 1, as a spreadsheet shows it. */
  row: number;
  customerExternalId: string;
  customer?: UpsertCustomerInput;
  tariffName?: string;
  tariff?: TariffInput;
  contract?: { startDate: string; endDate: string | null };
}

/** A file that cannot be read as an import at all (as opposed to bad rows, reported per row). */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

const blank = (value: string | undefined) => value === undefined || value.trim() === '';
const text = (value: string | undefined) => (blank(value) ? undefined : value!.trim());
/** A price column: blank is absent, anything else a number (exactness is checked by the tariff's validation). */
const decimal = (value: string | undefined) => (blank(value) ? undefined : /^-?\d+(\.\d+)?$/.test(value!.trim()) ? Number(value) : Number.NaN);

export function parseImportFile(content: string): ImportRow[] {
  let records: Record<Column, string>[];
  try {
    records = parse(content, { columns: readHeader, skip_empty_lines: true, bom: true, trim: true, to: MAX_IMPORT_ROWS + 1 });
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    throw new ImportFileError(`not a CSV file this import can read: ${(error as Error).message}`);
  }
  if (records.length > MAX_IMPORT_ROWS) throw new ImportFileError(`more than ${MAX_IMPORT_ROWS} rows; import the file in parts`);
  return records.map((record, index) => toRow(record, index + 2));
}

function readHeader(header: string[]): string[] {
  const unknown = header.filter((column) => !(IMPORT_COLUMNS as readonly string[]).includes(column));
  if (unknown.length > 0 || !header.includes('customer_external_id')) {
    throw new ImportFileError(
      `the header must name columns among ${IMPORT_COLUMNS.join(', ')} (customer_external_id required)` +
        (unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''),
    );
  }
  return header;
}

function toRow(record: Record<Column, string>, row: number): ImportRow {
  const customerExternalId = record.customer_external_id ?? '';
  const address = ['street', 'postal_code', 'city', 'country'].some((column) => !blank(record[column as Column]))
    ? { street: record.street ?? '', postalCode: record.postal_code ?? '', city: record.city ?? '', country: text(record.country) }
    : null;
  const prices = [record.energy_price_ct_per_kwh, record.feed_in_ct_per_kwh, record.base_price_eur_per_month];
  return {
    row,
    customerExternalId,
    ...(blank(record.customer_name)
      ? {}
      : {
          customer: {
            externalId: customerExternalId,
            name: record.customer_name,
            email: text(record.customer_email),
            phone: text(record.customer_phone),
            address,
          },
        }),
    ...(blank(record.tariff_name) ? {} : { tariffName: record.tariff_name.trim() }),
    ...(prices.every(blank)
      ? {}
      : {
          tariff: {
            name: record.tariff_name ?? '',
            energyPriceCtPerKwh: decimal(record.energy_price_ct_per_kwh)!,
            feedInCtPerKwh: decimal(record.feed_in_ct_per_kwh),
            basePriceEurPerMonth: decimal(record.base_price_eur_per_month)!,
          },
        }),
    ...(blank(record.contract_start) && blank(record.contract_end)
      ? {}
      : { contract: { startDate: record.contract_start ?? '', endDate: text(record.contract_end) ?? null } }),
  };
}
