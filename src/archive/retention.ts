import type { Queryable } from '../database';

const DAY_MS = 86_400_000;
/** The names reading_archive_ensure_partitions (migration 002) gives: one per UTC day. */
const PARTITION_NAME = /^reading_archive_p(\d{4})(\d{2})(\d{2})$/;

/**
 * Drops the daily partitions that lie wholly before `now - retentionMs`: dropping a partition is
 * instant and leaves no dead rows behind, unlike DELETE. The 15-minute rollup of those days goes
 * with them (migration 005), since consumption needs the raw readings at a range's edges. Returns
 * the names dropped.
 */
export async function dropExpiredPartitions(db: Queryable, retentionMs: number, now = Date.now()): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'reading_archive'::regclass ORDER BY c.relname`,
  );
  const dropped: string[] = [];
  for (const { name } of rows) {
    const match = PARTITION_NAME.exec(name);
    if (!match) continue;
    const dayEndMs = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) + DAY_MS;
    if (dayEndMs > now - retentionMs) continue;
    // IF EXISTS: another replica's retention run may have dropped it a moment ago.
    await db.exec(`DROP TABLE IF EXISTS ${name}`);
    dropped.push(name);
  }
  const keptFromMs = Math.floor((now - retentionMs) / DAY_MS) * DAY_MS;
  await db.query('SELECT reading_rollup_delete_before($1)', [new Date(keptFromMs).toISOString()]);
  return dropped;
}
