import type { Database } from '../../src/database';
import type { RunningSimulator } from '../../src/simulator';
import type { MeterReading } from '../../src/subscriptions';
import { storedReadings } from './subscriptions';

/** Shared by the archive.* test files: the archive's table against the simulator's own store. */

const iso = (ms: number) => new Date(ms).toISOString();
const key = (meterId: string, timeMs: number) => `${meterId}@${timeMs}`;

/**
 * The archive must hold exactly the readings the simulator stored with receive times in
 * [fromMs, toMs]: none missing, none extra, and (by the primary key) none twice.
 */
export async function expectArchiveMatches(db: Database, sim: RunningSimulator, fromMs: number, toMs: number): Promise<number> {
  const stored = await storedReadings(sim, iso(fromMs));
  const inRange = (reading: MeterReading) => Date.parse(reading.receiveTime) <= toMs;
  const expected = new Set(stored.filter(inRange).map((r) => key(r.meter.id, Date.parse(r.time))));
  const { rows } = await db.query<{ meter_id: string; reading_time: Date }>(
    'SELECT meter_id, reading_time FROM reading_archive WHERE receive_time BETWEEN $1 AND $2',
    [iso(fromMs), iso(toMs)],
  );
  const archived = rows.map((row) => key(row.meter_id, new Date(row.reading_time).getTime()));
  const archivedSet = new Set(archived);
  expect([...expected].filter((k) => !archivedSet.has(k))).toEqual([]);
  expect(archived.filter((k) => !expected.has(k))).toEqual([]);
  return expected.size;
}

export async function firstArchivedReceiveMs(db: Database): Promise<number> {
  const { rows } = await db.query<{ first: Date | null }>('SELECT min(receive_time) AS first FROM reading_archive');
  return new Date(rows[0]!.first!).getTime();
}

export async function newestArchivedReceiveMs(db: Database): Promise<number> {
  const { rows } = await db.query<{ newest: Date | null }>('SELECT max(receive_time) AS newest FROM reading_archive');
  return rows[0]!.newest ? new Date(rows[0]!.newest).getTime() : 0;
}

export async function archivedCount(db: Database): Promise<number> {
  const { rows } = await db.query<{ count: number }>('SELECT count(*)::integer AS count FROM reading_archive');
  return rows[0]!.count;
}

