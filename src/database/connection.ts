import { migrate } from './migrate';
import { openPgliteInWorker } from './pgliteThread';
import { openPostgresDatabase } from './postgres';
import type { Database, DatabaseLocation, OpenDatabaseOptions } from './types';

/** The value of EMBEDDED_DB_DIR that selects an in-memory PGlite instead of a directory. */
export const IN_MEMORY = 'memory://';

/**
 * PostgreSQL when `url` is set, otherwise the embedded PGlite, on a worker thread: file-backed in
 * `embeddedDir`, or in memory when `embeddedDir` is `memory://`. Migrations are applied before it is returned.
 */
export async function openDatabase(location: DatabaseLocation, options: OpenDatabaseOptions = {}): Promise<Database> {
  const db = location.url
    ? openPostgresDatabase(location.url, options)
    : await openPgliteInWorker(location.embeddedDir === IN_MEMORY ? undefined : location.embeddedDir);
  if (options.migrate === false) return db;
  try {
    await migrate(db);
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}
