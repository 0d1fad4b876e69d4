import { decimalObisCode } from '../iometer/obis';
import type { MeterReading } from '../subscriptions';

/** One reading_archive row (migration 002), columns in the order the writer sends them. */
export interface ArchiveRow {
  meterId: string;
  meterNumber: string;
  installationId: string;
  externalId: string | null;
  readingTimeMs: number;
  receiveTimeMs: number;
  importedWh: number | null;
  exportedWh: number | null;
  powerW: number | null;
  /** The values as received, JSON text for the jsonb column. */
  valuesJson: string;
}

const IMPORT = '1-0:1.8.0';
const EXPORT = '1-0:2.8.0';
const POWER = '1-0:16.7.0';

/** Factors to the column's unit. A value in another unit stays out of the column (it is still in reading_values). */
const TO_WH: Record<string, number> = { Wh: 1, kWh: 1_000, MWh: 1_000_000 };
const TO_W: Record<string, number> = { W: 1, kW: 1_000, MW: 1_000_000 };

/** PostgreSQL text and jsonb cannot hold NUL; one such character would fail its whole batch on every retry. */
const withoutNul = (text: string) => (text.includes('\u0000') ? text.replace(/\u0000/g, '') : text);

function scaled(value: number, unit: string, factors: Record<string, number>): number | null {
  const factor = factors[unit];
  return factor === undefined || !Number.isFinite(value) ? null : value * factor;
}

/**
 * Undefined when the reading lacks a NOT NULL column (meter id and number, installation id, parseable
 * times): such a row would fail its whole batch on every retry.
 */
export function toArchiveRow(reading: MeterReading): ArchiveRow | undefined {
  const readingTimeMs = Date.parse(reading.time);
  const receiveTimeMs = Date.parse(reading.receiveTime);
  if (
    !reading.meter?.id ||
    !reading.meter.number ||
    !reading.installation?.id ||
    Number.isNaN(readingTimeMs) ||
    Number.isNaN(receiveTimeMs)
  ) {
    return undefined;
  }
  const row: ArchiveRow = {
    meterId: withoutNul(reading.meter.id),
    meterNumber: withoutNul(reading.meter.number),
    installationId: withoutNul(reading.installation.id),
    externalId: reading.installation.externalId == null ? null : withoutNul(reading.installation.externalId),
    readingTimeMs,
    receiveTimeMs,
    importedWh: null,
    exportedWh: null,
    powerW: null,
    valuesJson: JSON.stringify(reading.values, (_key, value: unknown) => (typeof value === 'string' ? withoutNul(value) : value)),
  };
  for (const { obisCode, value, unit } of reading.values) {
    // IOmeter may spell a code in hex; the columns are keyed on the decimal form.
    const code = decimalObisCode(obisCode);
    if (code === IMPORT) row.importedWh = scaled(value, unit, TO_WH);
    else if (code === EXPORT) row.exportedWh = scaled(value, unit, TO_WH);
    else if (code === POWER) row.powerW = scaled(value, unit, TO_W);
  }
  return row;
}
