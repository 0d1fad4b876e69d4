import { GraphQLError } from 'graphql';
import { formatObisCode, parseObisCode, type ObisFormat } from '../iometer/obis';
import { readingMeter, type ReadingMeterPayload } from './readingMeter';

/**
 * What the hub hands to clients: plain objects shaped like the GraphQL types, built once per reading
 * and shared by every client that receives it, so treat them as read-only.
 */

/**
 * The fields the hub asks IOmeter for, live (upstreamConnection) and in replay pages (pageFetcher), so
 * replayed and live payloads are alike: whatever a client selects is answered from them.
 */
export const METER_READING_FIELDS = 'meter { id number } installation { id externalId } time receiveTime values { obisCode value unit }';

/** A reading as IOmeter sends it for METER_READING_FIELDS. */
export interface MeterReading {
  meter: { id: string; number: string };
  installation: { id: string; externalId?: string | null };
  time: string;
  receiveTime: string;
  values: ReadonlyArray<{ obisCode: string; value: number; unit: string }>;
}

export interface ObisCodeArgs {
  format?: ObisFormat | null;
}

/**
 * `obisCode` is a function rather than a string. graphql-js's default field resolver calls a
 * function-valued property with the field's arguments, so `obisCode(format: hex)` is answered from
 * the payload itself: no resolver, and no upstream round trip for the other spelling.
 */
export type ObisCodeField = (args?: ObisCodeArgs) => string;

export interface MeterReadingValuePayload {
  readonly obisCode: ObisCodeField;
  readonly value: number;
  readonly unit: string;
}

export interface MeterReadingPayload {
  readonly meter: { readonly id: string; readonly number: string };
  readonly installation: { readonly id: string; readonly externalId: string | null };
  readonly time: string;
  readonly receiveTime: string;
  readonly values: readonly MeterReadingValuePayload[];
}

/** The deprecated per-value `Reading` (scheduledReadings). */
export interface ReadingPayload {
  readonly meter: ReadingMeterPayload;
  readonly time: string;
  readonly obisCode: ObisCodeField;
  readonly value: number;
  readonly unit: string;
}

/** A reading inside the hub: the client payload plus what dedup and fan-out look at. */
export interface HubReading {
  /** (meter id, reading time): a meter never takes two readings at the same time. */
  readonly key: string;
  readonly receiveMs: number;
  readonly externalId: string | null;
  readonly payload: MeterReadingPayload;
  /** The `meter` of the scheduled Readings made from this reading. */
  readonly readingMeter: ReadingMeterPayload;
  /**
   * Where the reading sits in a stream every replica can read again (the cluster's Redis stream);
   * undefined for a process's own upstream subscription, whose positions the hub keeps itself.
   */
  readonly position?: string;
}

/** One field function per spelling, shared by every reading: a fleet sends the same few codes. */
const obisCodeFields = new Map<string, ObisCodeField>();
const MAX_REMEMBERED_FIELDS = 10_000;

function obisCodeField(code: string): ObisCodeField {
  let field = obisCodeFields.get(code);
  if (field) return field;
  const parts = parseObisCode(code);
  // A spelling we cannot parse is passed through as IOmeter sent it, whatever format was asked for.
  if (!parts) {
    field = () => code;
  } else {
    const dec = formatObisCode(parts, 'dec');
    const hex = formatObisCode(parts, 'hex');
    field = (args) => (args?.format === 'hex' ? hex : dec);
  }
  if (obisCodeFields.size < MAX_REMEMBERED_FIELDS) obisCodeFields.set(code, field);
  return field;
}

/** Undefined when the reading lacks what the hub keys and routes on (meter, installation, parseable times). */
export function toHubReading(reading: MeterReading): HubReading | undefined {
  const timeMs = Date.parse(reading.time);
  const receiveMs = Date.parse(reading.receiveTime);
  if (!reading.meter?.id || !reading.installation || Number.isNaN(timeMs) || Number.isNaN(receiveMs)) return undefined;
  const meter = { id: reading.meter.id, number: reading.meter.number };
  const externalId = reading.installation.externalId ?? null;
  return {
    // Keyed on the parsed time so two spellings of one instant (Z vs +00:00) are one reading.
    key: `${meter.id}@${timeMs}`,
    receiveMs,
    externalId,
    readingMeter: readingMeter(meter, reading.installation.id),
    payload: {
      meter,
      installation: { id: reading.installation.id, externalId },
      time: reading.time,
      receiveTime: reading.receiveTime,
      values: reading.values.map((value) => ({
        obisCode: obisCodeField(value.obisCode),
        value: value.value,
        unit: value.unit,
      })),
    },
  };
}

/** OBIS codes in decimal spelling, the form filters compare (hex input matches its decimal twin). */
export type ObisCodeSet = ReadonlySet<string>;

/** Undefined (all codes) for no list or an empty one, as IOmeter treats scheduledReadings' filter. */
export function obisCodeSet(codes?: readonly string[] | null): ObisCodeSet | undefined {
  if (!codes?.length) return undefined;
  return new Set(
    codes.map((code) => {
      const parts = parseObisCode(code);
      if (!parts) {
        throw new GraphQLError(`"${code}" is not an OBIS code`, { extensions: { code: 'BAD_USER_INPUT' } });
      }
      return formatObisCode(parts, 'dec');
    }),
  );
}

/** One `Reading` per value of a MeterReading, keeping only the wanted OBIS codes (all when undefined). */
export function toReadingPayloads(reading: HubReading, wanted?: ObisCodeSet): ReadingPayload[] {
  const payloads: ReadingPayload[] = [];
  for (const value of reading.payload.values) {
    if (wanted && !wanted.has(value.obisCode({ format: 'dec' }))) continue;
    payloads.push({ meter: reading.readingMeter, time: reading.payload.time, obisCode: value.obisCode, value: value.value, unit: value.unit });
  }
  return payloads;
}
