import type { Queryable } from '../../src/database';

/** A reading as the ingest stores it; registers in Wh, power in W. */
export interface ArchiveFixture {
  meterId: string;
  meterNumber: string;
  installationId: string;
  externalId: string | null;
  time: string;
  importedWh?: number;
  exportedWh?: number;
  powerW?: number;
}

const COLUMNS_PER_READING = 9;

/**
 * Writes readings the way the ingest does (partitions first, repeats ignored by the primary key), one
 * INSERT per reading, or all in one INSERT with `oneStatement`. Returns how many rows were new.
 */
export async function archiveReadings(
  db: Queryable,
  readings: ArchiveFixture[],
  { oneStatement = false }: { oneStatement?: boolean } = {},
): Promise<number> {
  const times = readings.map((reading) => reading.time).sort((a, b) => Date.parse(a) - Date.parse(b));
  await db.query('SELECT reading_archive_ensure_partitions($1, $2)', [times[0], times.at(-1)]);
  const batches = oneStatement ? [readings] : readings.map((reading) => [reading]);
  let inserted = 0;
  for (const batch of batches) {
    const placeholders = batch.map((_, row) => {
      const [meter, number, installation, external, time, imported, exported, power, values] = Array.from(
        { length: COLUMNS_PER_READING },
        (_, column) => `$${row * COLUMNS_PER_READING + column + 1}`,
      );
      return `(${meter}, ${number}, ${installation}, ${external}, ${time}::timestamptz, ${time}::timestamptz + INTERVAL '1 second', ` +
        `${imported}::float8, ${exported}::float8, ${power}::float8, ${values}::jsonb)`;
    });
    const { rows } = await db.query(
      `INSERT INTO reading_archive (meter_id, meter_number, installation_id, external_id, reading_time, receive_time,
         imported_wh, exported_wh, power_w, reading_values)
       VALUES ${placeholders.join(', ')}
       ON CONFLICT (meter_id, reading_time) DO NOTHING
       RETURNING 1`,
      batch.flatMap(toParameters),
    );
    inserted += rows.length;
  }
  return inserted;
}

function toParameters(reading: ArchiveFixture): unknown[] {
  const values = [
    reading.importedWh !== undefined && { obisCode: '1-0:1.8.0', value: reading.importedWh, unit: 'Wh' },
    reading.exportedWh !== undefined && { obisCode: '1-0:2.8.0', value: reading.exportedWh, unit: 'Wh' },
    reading.powerW !== undefined && { obisCode: '1-0:16.7.0', value: reading.powerW, unit: 'W' },
  ].filter(Boolean);
  return [
    reading.meterId,
    reading.meterNumber,
    reading.installationId,
    reading.externalId,
    reading.time,
    reading.importedWh ?? null,
    reading.exportedWh ?? null,
    reading.powerW ?? null,
    JSON.stringify(values),
  ];
}
