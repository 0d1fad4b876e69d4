import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { IN_MEMORY, loadMigrations, migrate, openDatabase, type Queryable } from '../src/database';
import { backends, createScratchPostgres } from './helpers/database';
import { archiveReadings, type ArchiveFixture } from './helpers/readingArchive';

describe.each(backends)('reading archive schema on %s', (_name, backend) => {
  it('creates one UTC-day partition per day, once, and keeps one row per (meter, time)', async () => {
    const { db, cleanup } = await backend.open();
    try {
      const first = await db.query<{ created: number }>(
        "SELECT reading_archive_ensure_partitions('2026-03-29T00:30:00+01:00', '2026-03-30T12:00:00Z') AS created",
      );
      expect(first.rows[0]?.created).toBe(3); // 28 (UTC) because 00:30+01 is 23:30Z, 29, 30
      const again = await db.query<{ created: number }>(
        "SELECT reading_archive_ensure_partitions('2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z') AS created",
      );
      expect(again.rows[0]?.created).toBe(0);

      const insert = `INSERT INTO reading_archive (meter_id, meter_number, installation_id, reading_time, receive_time, reading_values)
        VALUES ('m1', '1ISK0001', 'i1', '2026-03-29T10:00:00Z', '2026-03-29T10:00:01Z', '[]')
        ON CONFLICT (meter_id, reading_time) DO NOTHING`;
      await db.query(insert);
      await db.query(insert);
      const rows = await db.query<{ partition: string; count: string }>(
        'SELECT tableoid::regclass::text AS partition, count(*)::text AS count FROM reading_archive GROUP BY 1',
      );
      expect(rows.rows).toEqual([{ partition: 'reading_archive_p20260329', count: '1' }]);
    } finally {
      await cleanup();
    }
  });
});

describe.each(backends)('reading rollup (migration 005) on %s', (_name, backend) => {
  /** m1 at 10:00 100 Wh, 10:05 90 (a reset: nothing), 10:10 120 (+30), 10:20 130 (another slot). */
  const readings = (meterId: string): ArchiveFixture[] =>
    [
      { time: '10:00', importedWh: 100, powerW: 10 },
      { time: '10:05', importedWh: 90 },
      { time: '10:10', importedWh: 120, powerW: 30 },
      { time: '10:20', importedWh: 130 },
    ].map(({ time, ...registers }) => ({
      meterId, meterNumber: meterId.toUpperCase(), installationId: 'i1', externalId: null, time: `2026-03-29T${time}:00Z`, ...registers,
    }));
  const expectedSlots = (meterId: string) => [
    { meter_id: meterId, slot_start: '2026-03-29T10:00:00Z', first_time: '2026-03-29T10:00:00Z', last_time: '2026-03-29T10:10:00Z',
      first_imported_wh: 100, last_imported_wh: 120, first_exported_wh: null, last_exported_wh: null,
      imported_increase_wh: 30, exported_increase_wh: 0, power_sum_w: 40, power_count: 2, peak_power_w: 30, readings: 3 },
    { meter_id: meterId, slot_start: '2026-03-29T10:15:00Z', first_time: '2026-03-29T10:20:00Z', last_time: '2026-03-29T10:20:00Z',
      first_imported_wh: 130, last_imported_wh: 130, first_exported_wh: null, last_exported_wh: null,
      imported_increase_wh: 0, exported_increase_wh: 0, power_sum_w: 0, power_count: 0, peak_power_w: null, readings: 1 },
  ];
  const slotsOf = async (db: Queryable, meterId: string) =>
    (
      await db.query(
        `SELECT meter_id, ${['slot_start', 'first_time', 'last_time'].map((column) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS ${column}`).join(', ')},
           first_imported_wh, last_imported_wh, first_exported_wh, last_exported_wh, imported_increase_wh, exported_increase_wh,
           power_sum_w, power_count, peak_power_w, readings
         FROM reading_rollup WHERE meter_id = $1 ORDER BY slot_start`,
        [meterId],
      )
    ).rows;

  it('backfills the readings archived before it, as the trigger rolls up the ones after; retention deletes old slots', async () => {
    const { db, cleanup } = await backend.open({ migrate: false });
    try {
      await migrate(db, loadMigrations().filter((migration) => migration.version < 5));
      await archiveReadings(db, readings('m-before'));
      expect(await migrate(db, loadMigrations().filter((migration) => migration.version <= 5))).toEqual([5]);
      expect(await slotsOf(db, 'm-before')).toEqual(expectedSlots('m-before'));

      await archiveReadings(db, readings('m-after'), { oneStatement: true });
      expect(await slotsOf(db, 'm-after')).toEqual(expectedSlots('m-after'));

      const deleted = await db.query<{ deleted: number }>("SELECT reading_rollup_delete_before('2026-03-29T10:15:00Z')::int AS deleted");
      expect(deleted.rows[0]?.deleted).toBe(2); // the 10:00 slot of each meter
      expect((await slotsOf(db, 'm-before')).map((slot) => slot.slot_start)).toEqual(['2026-03-29T10:15:00Z']);
    } finally {
      await cleanup();
    }
  });
});

describe('reading rollup with concurrent writers (PostgreSQL)', () => {
  it('a late reading that waited for another writer of its slot is recounted with that writer\'s reading', async () => {
    const scratch = await createScratchPostgres();
    const db = await openDatabase({ url: scratch.url, embeddedDir: IN_MEMORY });
    const first = new Client({ connectionString: scratch.url });
    const second = new Client({ connectionString: scratch.url });
    try {
      await Promise.all([first.connect(), second.connect()]);
      const insert = (time: string, importedWh: number) =>
        `INSERT INTO reading_archive (meter_id, meter_number, installation_id, reading_time, receive_time, imported_wh, reading_values)
         VALUES ('m1', 'M1', 'i1', '2026-03-29T${time}:00Z', now(), ${importedWh}, '[]')`;
      await db.query("SELECT reading_archive_ensure_partitions('2026-03-29T00:00:00Z', '2026-03-29T00:00:00Z')");
      await db.query(insert('10:00', 100));

      await first.query('BEGIN');
      await first.query(insert('10:10', 300)); // holds the 10:00 slot's row until COMMIT
      const late = second.query(insert('10:05', 50)); // lands between 10:00 and 10:10: recount
      await waitUntil(async () => {
        const { rows } = await db.query<{ waiting: number }>(
          "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return rows[0]!.waiting === 1;
      });
      await first.query('COMMIT');
      await late;

      const { rows } = await db.query('SELECT imported_increase_wh, readings FROM reading_rollup');
      // 10:00 → 10:05 is a dip (nothing), 10:05 → 10:10 is +250.
      expect(rows).toEqual([{ imported_increase_wh: 250, readings: 3 }]);
    } finally {
      await Promise.all([first.end(), second.end()]);
      await db.close();
      await scratch.drop();
    }
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}
