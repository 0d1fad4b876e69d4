/** The database layer (PostgreSQL or the embedded PGlite, and its migrations); everything outside src/database/ imports from here. */
export { openDatabase, IN_MEMORY } from './connection';
export { migrate, loadMigrations, MIGRATIONS_DIR, type Migration } from './migrate';
export type { Database, DatabaseLocation, OpenDatabaseOptions, Queryable, QueryResult } from './types';
