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
  const { expected, archived } = await archiveAgainstStore(db, sim, fromMs, toMs);
  const archivedSet = new Set(archived);
  expect([...expected].filter((k) => !archivedSet.has(k))).toEqual([]);
  expect(archived.filter((k) => !expected.has(k))).toEqual([]);
  return expected.size;
}

/** Whether every reading the simulator stored with a receive time in [fromMs, toMs] is archived. */
export async function archiveHoldsAll(db: Database, sim: RunningSimulator, fromMs: number, toMs: number): Promise<boolean> {
  const { expected, archived } = await archiveAgainstStore(db, sim, fromMs, toMs);
  const archivedSet = new Set(archived);
  return [...expected].every((k) => archivedSet.has(k));
}

async function archiveAgainstStore(db: Database, sim: RunningSimulator, fromMs: number, toMs: number): Promise<{ expected: Set<string>; archived: string[] }> {
  const stored = await storedReadings(sim, iso(fromMs));
  const inRange = (reading: MeterReading) => Date.parse(reading.receiveTime) <= toMs;
  const expected = new Set(stored.filter(inRange).map((r) => key(r.meter.id, Date.parse(r.time))));
  const { rows } = await db.query<{ meter_id: string; reading_time: Date }>(
    'SELECT meter_id, reading_time FROM reading_archive WHERE receive_time BETWEEN $1 AND $2',
    [iso(fromMs), iso(toMs)],
  );
  return { expected, archived: rows.map((row) => key(row.meter_id, new Date(row.reading_time).getTime())) };
}

export async function firstArchivedReceiveMs(db: Database): Promise<number> {
  const { rows } = await db.query<{ first: Date | null }>('SELECT min(receive_time) AS first FROM reading_archive');
  return new Date(rows[0]!.first!).getTime();
}

export async function archivedCount(db: Database): Promise<number> {
  const { rows } = await db.query<{ count: number }>('SELECT count(*)::integer AS count FROM reading_archive');
  return rows[0]!.count;
}

