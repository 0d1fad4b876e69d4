import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database, Queryable } from './types';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Versioned SQL files `NNN_name.sql`. A build that compiles to dist/ must copy them alongside. */
export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** Any fixed bigint: the lock only has to be the same for every gateway replica. */
const MIGRATION_LOCK_KEY = 7_203_114_001;

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = fs
    .readdirSync(dir)
    .map((file) => ({ file, match: /^(\d+)_([\w-]+)\.sql$/.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => {
      const sql = fs.readFileSync(path.join(dir, file), 'utf8').replace(/\r\n/g, '\n');
      const checksum = createHash('sha256').update(sql).digest('hex');
      return { version: Number(match[1]), name: match[2] as string, sql, checksum };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (index > 0 && migrations[index - 1]?.version === migration.version) {
      throw new Error(`Two migrations have version ${migration.version} in ${dir}`);
    }
  });
  return migrations;
}

/**
 * Applies pending migrations, forward-only, each in its own transaction together with its row in
 * schema_migrations. Every transaction first takes a transaction-scoped advisory lock and re-checks,
 * so replicas starting together apply each migration exactly once. Returns the versions applied.
 */
export async function migrate(db: Database, migrations: Migration[] = loadMigrations()): Promise<number[]> {
  await db.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
  });
  const { rows } = await db.query<{ version: number; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations',
  );
  const recorded = new Map(rows.map((row) => [row.version, row.checksum]));

  const applied: number[] = [];
  for (const migration of migrations) {
    const checksum = recorded.get(migration.version);
    if (checksum !== undefined) {
      assertUnchanged(migration, checksum);
      continue;
    }
    const didApply = await db.transaction(async (tx) => {
      await lock(tx);
      const existing = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE version = $1',
        [migration.version],
      );
      if (existing.rows[0]) return false; // another replica was first
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return applied;
}

async function lock(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
}

function assertUnchanged(migration: Migration, recordedChecksum: string): void {
  if (recordedChecksum !== migration.checksum) {
    throw new Error(
      `Migration ${migration.version}_${migration.name} was edited after it was applied; ` +
        'migrations are forward-only, add a new one instead',
    );
  }
}
