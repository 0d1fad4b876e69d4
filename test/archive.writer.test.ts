import { ArchiveWriter, dropExpiredPartitions, toArchiveRow } from '../src/archive';
import type { Database } from '../src/database';
import { createLogger } from '../src/logging/logger';
import type { MeterReading } from '../src/subscriptions';
import { backends } from './helpers/database';

const logger = createLogger({ level: 'silent' });
const DAY_MS = 86_400_000;

function reading(meter: string, timeMs: number, values: MeterReading['values']): MeterReading {
  return {
    meter: { id: meter, number: `N-${meter}` },
    installation: { id: `i-${meter}`, externalId: `C-${meter}` },
    time: new Date(timeMs).toISOString(),
    receiveTime: new Date(timeMs + 700).toISOString(),
    values,
  };
}

const writerFor = (db: Database, batchSize = 3) =>
  new ArchiveWriter({ db, logger, batchSize, flushIntervalMs: 20, retentionMs: 400 * DAY_MS });

describe.each(backends)('archive writer on %s', (_name, backend) => {
  it('stores each (meter, time) once across batches and repeats, normalised to Wh and W, with the checkpoint at the newest receive time', async () => {
    const { db, cleanup } = await backend.open();
    try {
      const writer = writerFor(db);
      const now = Date.now();
      const yesterday = now - DAY_MS;
      const readings = [
        reading('m1', yesterday, [
          { obisCode: '1-0:1.8.0', value: 12.5, unit: 'kWh' },
          { obisCode: '01-00:02.08.00*ff', value: 300, unit: 'Wh' },
          { obisCode: '1-0:16.7.0', value: 1.25, unit: 'kW' },
        ]),
        reading('m1', now - 2_000, [{ obisCode: '1-0:1.8.0', value: 12_600, unit: 'Wh' }, { obisCode: '1-0:16.7.0', value: -400, unit: 'W' }]),
        reading('m2', now - 2_000, [{ obisCode: '1-0:1.8.0', value: 1, unit: 'furlongs' }]),
        reading('m3', now - 1_000, []),
      ];
      for (const r of [...readings, readings[1]!, readings[0]!]) writer.add(toArchiveRow(r)!);
      await writer.flush();
      // A replay of everything, as after a restart.
      for (const r of readings) writer.add(toArchiveRow(r)!);
      await writer.flush();

      const { rows } = await db.query<Record<string, unknown>>(
        `SELECT meter_id, external_id, imported_wh, exported_wh, power_w, reading_values, tableoid::regclass::text AS partition
         FROM reading_archive ORDER BY meter_id, reading_time`,
      );
      const day = (ms: number) => `reading_archive_p${new Date(ms).toISOString().slice(0, 10).replace(/-/g, '')}`;
      expect(rows).toEqual([
        {
          meter_id: 'm1', external_id: 'C-m1', imported_wh: 12_500, exported_wh: 300, power_w: 1_250,
          reading_values: readings[0]!.values, partition: day(yesterday),
        },
        {
          meter_id: 'm1', external_id: 'C-m1', imported_wh: 12_600, exported_wh: null, power_w: -400,
          reading_values: readings[1]!.values, partition: day(now - 2_000),
        },
        // An unknown unit keeps the value out of the column, not out of the archive.
        { meter_id: 'm2', external_id: 'C-m2', imported_wh: null, exported_wh: null, power_w: null, reading_values: readings[2]!.values, partition: day(now - 2_000) },
        { meter_id: 'm3', external_id: 'C-m3', imported_wh: null, exported_wh: null, power_w: null, reading_values: [], partition: day(now - 1_000) },
      ]);
      expect(writer.stats).toMatchObject({ inserted: 4, repeats: 6, pending: 0 });
      const checkpoint = await db.query<{ receive_time: Date }>('SELECT receive_time FROM reading_archive_checkpoint');
      expect(new Date(checkpoint.rows[0]!.receive_time).toISOString()).toBe(readings[3]!.receiveTime);
      await writer.close();
    } finally {
      await cleanup();
    }
  });

  it('refuses readings timed before retention or days in the future instead of creating partitions for them', async () => {
    const { db, cleanup } = await backend.open();
    try {
      const writer = new ArchiveWriter({ db, logger, batchSize: 10, flushIntervalMs: 20, retentionMs: 2 * DAY_MS });
      const now = Date.now();
      for (const timeMs of [now - 3 * DAY_MS, now + 3 * DAY_MS, now - 1_000]) writer.add(toArchiveRow(reading('m1', timeMs, []))!);
      await writer.flush();
      const { rows } = await db.query<{ count: number }>('SELECT count(*)::integer AS count FROM reading_archive');
      expect(rows[0]!.count).toBe(1);
      expect(writer.stats.outOfRange).toBe(2);
      await writer.close();
    } finally {
      await cleanup();
    }
  });

  it('strips NUL characters, which PostgreSQL refuses, instead of failing the batch on every retry', async () => {
    const { db, cleanup } = await backend.open();
    try {
      const writer = writerFor(db, 10);
      const poisoned = reading('m\u0000x', Date.now() - 1_000, [
        { obisCode: '1-0:1.8.0', value: 5, unit: 'kWh' },
        { obisCode: '1-0:32.7.0', value: 230, unit: 'V\u0000' },
      ]);
      writer.add(toArchiveRow(poisoned)!);
      writer.add(toArchiveRow(reading('m2', Date.now() - 1_000, []))!);
      await writer.flush();
      const { rows } = await db.query<{ meter_id: string; meter_number: string; imported_wh: number | null; reading_values: unknown }>(
        'SELECT meter_id, meter_number, imported_wh, reading_values FROM reading_archive ORDER BY meter_id',
      );
      expect(rows).toEqual([
        { meter_id: 'm2', meter_number: 'N-m2', imported_wh: null, reading_values: [] },
        { meter_id: 'mx', meter_number: 'N-mx', imported_wh: 5_000, reading_values: [
          { obisCode: '1-0:1.8.0', value: 5, unit: 'kWh' },
          { obisCode: '1-0:32.7.0', value: 230, unit: 'V' },
        ] },
      ]);
      expect(writer.stats.failedBatches).toBe(0);
      await writer.close();
    } finally {
      await cleanup();
    }
  });

  it('retention drops whole UTC days older than the retention and keeps the rest', async () => {
    const { db, cleanup } = await backend.open();
    try {
      const now = Date.parse('2026-06-10T12:00:00Z');
      await db.query("SELECT reading_archive_ensure_partitions('2026-06-01T00:00:00Z', '2026-06-10T00:00:00Z')");
      await db.query(`INSERT INTO reading_archive (meter_id, meter_number, installation_id, reading_time, receive_time, reading_values)
        VALUES ('m1', 'n', 'i', '2026-06-02T10:00:00Z', '2026-06-02T10:00:01Z', '[]'),
               ('m1', 'n', 'i', '2026-06-08T10:00:00Z', '2026-06-08T10:00:01Z', '[]')`);
      // 7 days back from 06-10 12:00 is 06-03 12:00: days up to 06-02 end before it; 06-03 does not.
      const dropped = await dropExpiredPartitions(db, 7 * DAY_MS, now);
      expect(dropped).toEqual(['reading_archive_p20260601', 'reading_archive_p20260602']);
      const { rows } = await db.query<{ reading_time: Date }>('SELECT reading_time FROM reading_archive');
      expect(rows.map((row) => new Date(row.reading_time).toISOString())).toEqual(['2026-06-08T10:00:00.000Z']);
      const slots = await db.query<{ slot_start: Date }>('SELECT slot_start FROM reading_rollup');
      expect(slots.rows.map((row) => new Date(row.slot_start).toISOString())).toEqual(['2026-06-08T10:00:00.000Z']);
      expect(await dropExpiredPartitions(db, 7 * DAY_MS, now)).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
