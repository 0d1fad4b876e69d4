import { today } from './onboarding';
import type { Contract, ContractStatus, Customer, Tariff } from './types';

/*
 * Column lists cast where the two drivers disagree (numeric, bigint, date), so both backends
 * return the same JavaScript values; the mappers turn snake_case rows into domain objects.
 */

export const CUSTOMER_COLUMNS = `id, external_id, name, email, phone, street, postal_code, city, country,
  created_at, updated_at`;

export interface CustomerRow {
  id: string;
  external_id: string;
  name: string;
  email: string | null;
  phone: string | null;
  street: string | null;
  postal_code: string | null;
  city: string | null;
  country: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    externalId: row.external_id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    address:
      row.street !== null && row.postal_code !== null && row.city !== null && row.country !== null
        ? { street: row.street, postalCode: row.postal_code, city: row.city, country: row.country }
        : null,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

export const TARIFF_COLUMNS = `id, name,
  energy_price_ct_per_kwh::float8 AS energy_price_ct_per_kwh,
  base_price_eur_per_month::float8 AS base_price_eur_per_month,
  feed_in_ct_per_kwh::float8 AS feed_in_ct_per_kwh`;

export interface TariffRow {
  id: string;
  name: string;
  energy_price_ct_per_kwh: number;
  base_price_eur_per_month: number;
  feed_in_ct_per_kwh: number;
}

export function toTariff(row: TariffRow): Tariff {
  return {
    id: row.id,
    name: row.name,
    energyPriceCtPerKwh: row.energy_price_ct_per_kwh,
    basePriceEurPerMonth: row.base_price_eur_per_month,
    feedInCtPerKwh: row.feed_in_ct_per_kwh,
  };
}

export const CONTRACT_COLUMNS = `id, customer_id, tariff_id,
  to_char(start_date, 'YYYY-MM-DD') AS start_date,
  to_char(end_date, 'YYYY-MM-DD') AS end_date,
  status, created_at, updated_at`;

export interface ContractRow {
  id: string;
  customer_id: string;
  tariff_id: string;
  start_date: string;
  end_date: string | null;
  /** Stored: 'cancelled' or not (migration 007); the other statuses follow from the dates. */
  status: string;
  created_at: Date | string;
  updated_at: Date | string;
}

export function toContract(row: ContractRow): Contract {
  return {
    id: row.id,
    customerId: row.customer_id,
    tariffId: row.tariff_id,
    startDate: row.start_date,
    endDate: row.end_date,
    status: contractStatus(row, today()),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** Pending before its start date, ended after its end date, active on the days it covers (UTC dates, like onboarding's). */
function contractStatus(row: ContractRow, day: string): ContractStatus {
  if (row.status === 'cancelled') return 'cancelled';
  if (row.start_date > day) return 'pending';
  if (row.end_date !== null && row.end_date < day) return 'ended';
  return 'active';
}

/** A Date of this realm (PGlite's may come from another one under jest). */
function toDate(value: Date | string): Date {
  return new Date(value);
}

/** Results of `= ANY($1)` in the order of the keys asked for, null where nothing matched. */
export function inKeyOrder<K, V>(keys: readonly K[], values: V[], keyOf: (value: V) => K): (V | null)[] {
  const byKey = new Map(values.map((value) => [keyOf(value), value]));
  return keys.map((key) => byKey.get(key) ?? null);
}
