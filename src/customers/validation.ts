import { z } from 'zod';
import { CustomerInputError } from './errors';

export const EXTERNAL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const PAGE_SIZE = { default: 20, max: 100 } as const;

const text = (max: number) =>
  z
    .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

/** Absent, null and blank all mean "no value". */
const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess(
    (value) => (value === undefined || (typeof value === 'string' && value.trim() === '') ? null : value),
    schema.nullable(),
  );

const uuid = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .uuid('must be a UUID');

const isoDate = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine(isCalendarDate, 'is not a valid date');

function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

const externalId = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .trim()
  .regex(
    EXTERNAL_ID_PATTERN,
    'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

const addressInput = z.object({
  street: text(200),
  postalCode: text(16).pipe(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 -]*$/, 'must contain only letters, digits, spaces or "-"'),
  ),
  city: text(100),
  country: z.preprocess(
    (value) => (value === null || (typeof value === 'string' && value.trim() === '') ? undefined : value),
    z
      .string({ invalid_type_error: 'must be a string' })
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE')
      .default('DE'),
  ),
});

export const upsertCustomerSchema = z.object({
  externalId,
  name: text(200),
  email: optional(text(254).pipe(z.string().email('must be a valid email address'))),
  phone: optional(
    text(32).pipe(
      z
        .string()
        .regex(/^\+?[0-9][0-9 ()/.-]*$/, 'must be a phone number such as +49 30 1234567')
        .refine((value) => {
          const digits = value.replace(/\D/g, '').length;
          return digits >= 5 && digits <= 15;
        }, 'must have 5 to 15 digits'),
    ),
  ),
  address: optional(addressInput),
});

export interface PostalAddressInput {
  street: string;
  postalCode: string;
  city: string;
  /** ISO 3166-1 alpha-2; DE when absent. */
  country?: string | null;
}

/** The whole customer: optional fields left out are stored as null (replace semantics). */
export interface UpsertCustomerInput {
  externalId: string;
  name: string;
  email?: string | null;
  phone?: string | null;
  address?: PostalAddressInput | null;
}

export type ValidCustomerInput = z.output<typeof upsertCustomerSchema>;

/**
 * A price as an exact decimal: at most `scale` decimal places and below 10^`integerDigits` (the
 * column's numeric type), so what is stored is exactly what was given, never silently rounded.
 */
const price = (scale: number, integerDigits: number) =>
  z
    .number({ required_error: 'is required', invalid_type_error: 'must be a number' })
    .finite('must be a finite number')
    .nonnegative('must not be negative')
    .lt(10 ** integerDigits, `must be less than ${10 ** integerDigits}`)
    .refine((value) => Number(value.toFixed(scale)) === value, `must have at most ${scale} decimal places`);

/** ct/kWh in numeric(10, 4), EUR/month in numeric(10, 2) (migration 001). */
const ctPerKwh = price(4, 6);
const eurPerMonth = price(2, 8);

export const tariffSchema = z.object({
  id: optional(uuid),
  name: text(100),
  energyPriceCtPerKwh: ctPerKwh,
  basePriceEurPerMonth: eurPerMonth,
  feedInCtPerKwh: ctPerKwh.default(0),
});

export interface TariffInput {
  /** The tariff to change; without it, the tariff with this name (created if there is none). */
  id?: string | null;
  name: string;
  energyPriceCtPerKwh: number;
  basePriceEurPerMonth: number;
  /** Default 0. */
  feedInCtPerKwh?: number;
}

export type ValidTariffInput = z.output<typeof tariffSchema>;

export const contractSchema = z
  .object({
    id: optional(uuid),
    customerExternalId: externalId,
    tariffId: uuid,
    startDate: isoDate,
    endDate: optional(isoDate),
  })
  .refine((input) => !input.endDate || input.endDate >= input.startDate, {
    path: ['endDate'],
    message: 'must not be before startDate',
  });

export interface UpsertContractInput {
  /** The contract to change; without it, a new contract (or the identical one that exists). */
  id?: string | null;
  customerExternalId: string;
  tariffId: string;
  /** YYYY-MM-DD, first day in force. */
  startDate: string;
  /** YYYY-MM-DD, last day in force; null or absent while open-ended. */
  endDate?: string | null;
}

export type ValidContractInput = z.output<typeof contractSchema>;

export const endContractSchema = z.object({ id: uuid, endDate: isoDate });

export const searchCustomersSchema = z.object({
  search: optional(
    z.string({ invalid_type_error: 'must be a string' }).trim().max(200, 'must be at most 200 characters'),
  ),
  first: z
    .number({ invalid_type_error: 'must be a number' })
    .int('must be an integer')
    .min(1, `must be between 1 and ${PAGE_SIZE.max}`)
    .max(PAGE_SIZE.max, `must be between 1 and ${PAGE_SIZE.max}`)
    .nullish()
    .transform((value) => value ?? PAGE_SIZE.default),
  after: optional(z.string({ invalid_type_error: 'must be a string' })),
});

export interface SearchCustomersArgs {
  /** Case-insensitive substring of name, email or externalId. */
  search?: string | null;
  /** Page size, 1 to 100; default 20. */
  first?: number | null;
  /** endCursor of the previous page. */
  after?: string | null;
}

/** Parses input or throws a CustomerInputError naming the first offending field. */
export function parseInput<T extends z.ZodTypeAny>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw CustomerInputError.fromZod(result.error.issues);
  return result.data;
}
