import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createScratchDatabase, dropScratchDatabase, type ScratchPostgres } from '../../scripts/scratchDatabase';
import { CustomerStore } from '../../src/customers';
import { IN_MEMORY, openDatabase, type Database, type OpenDatabaseOptions } from '../../src/database';
import { listLeftover } from './runLeftovers';

/** Local PostgreSQL with trust auth; `test` is only used to create and drop per-run databases. */
const SERVER = 'postgres://postgres@127.0.0.1:5432';
let databases = 0;

export type { ScratchPostgres };

/** A fresh, uniquely named database on the local server. */
export async function createScratchPostgres(): Promise<ScratchPostgres> {
  databases += 1;
  const name = `iometer_test_${process.pid}_${Date.now()}_${databases}`;
  const unlist = listLeftover('database', name);
  const scratch = await createScratchDatabase(SERVER, name, 'test');
  return {
    url: scratch.url,
    drop: async () => {
      await scratch.drop();
      unlist();
    },
  };
}

/** Drops databases a run left behind (test/globalTeardown.ts). */
export async function dropScratchDatabases(names: string[]): Promise<void> {
  for (const name of names) await dropScratchDatabase(SERVER, name, 'test');
}

export interface TestDatabase {
  db: Database;
  /** Closes the database and removes whatever was created for it. */
  cleanup(): Promise<void>;
}

export interface TestBackend {
  name: Database['kind'];
  open(options?: OpenDatabaseOptions): Promise<TestDatabase>;
}

export const postgresBackend: TestBackend = {
  name: 'postgres',
  async open(options) {
    const scratch = await createScratchPostgres();
    try {
      const db = await openDatabase({ url: scratch.url, embeddedDir: IN_MEMORY }, options);
      return {
        db,
        async cleanup() {
          await db.close();
          await scratch.drop();
        },
      };
    } catch (error) {
      await scratch.drop();
      throw error;
    }
  },
};

export const pgliteBackend: TestBackend = {
  name: 'pglite',
  async open(options) {
    const db = await openDatabase({ embeddedDir: IN_MEMORY }, options);
    return { db, cleanup: () => db.close() };
  },
};

/**
 * For a `describe.each(backends)` block: a fresh database of `backend` with a CustomerStore on it,
 * opened before the block's tests and cleaned up after them. Call the getters from the tests on.
 */
export function customerStoreOn(backend: TestBackend): { db: () => Database; store: () => CustomerStore } {
  let opened: { handle: TestDatabase; store: CustomerStore } | undefined;
  const get = () => {
    if (!opened) throw new Error('the database opens in beforeAll');
    return opened;
  };
  beforeAll(async () => {
    const handle = await backend.open();
    opened = { handle, store: new CustomerStore(handle.db) };
  });
  afterAll(() => opened?.handle.cleanup());
  return { db: () => get().handle.db, store: () => get().store };
}

/** For `describe.each`: the same suite against real PostgreSQL and in-memory PGlite. */
export const backends: Array<[string, TestBackend]> = [
  ['postgres', postgresBackend],
  ['pglite', pgliteBackend],
];

export function makeTempDir(prefix = 'iometer-pglite-'): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Statements `fn` sent to the database. */
export async function countQueries<T>(
  db: Database,
  fn: () => Promise<T>,
): Promise<{ result: T; queries: number }> {
  const before = db.queryCount;
  const result = await fn();
  return { result, queries: db.queryCount - before };
}
