import { backends } from './helpers/database';

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
