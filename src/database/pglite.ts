import fs from 'node:fs';
import path from 'node:path';
import type { PGlite as PGliteInstance, Transaction } from '@electric-sql/pglite';
import { countingDatabase } from './counting';
import type { Database, Queryable } from './types';

type PGliteModule = typeof import('@electric-sql/pglite');

/**
 * PGlite loads its WASM and file system lazily through `import()`. Jest evaluates modules in a
 * vm sandbox that rejects `import()`, so the package is required through Node's own loader
 * (`process.getBuiltinModule`, Node ≥ 20.16) rather than through whatever wraps `require` here.
 * Under plain Node or tsx this is the same as `require('@electric-sql/pglite')`.
 */
function loadPGlite(): PGliteModule['PGlite'] {
  const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const nodeModule = getBuiltinModule?.('node:module') as typeof import('node:module') | undefined;
  const nativeRequire = nodeModule ? nodeModule.createRequire(__filename) : require;
  return (nativeRequire('@electric-sql/pglite') as PGliteModule).PGlite;
}

/** Embedded PostgreSQL: in memory without dataDir, else persisted in dataDir (created if missing). */
export async function openPgliteDatabase(dataDir?: string): Promise<Database> {
  let location: string | undefined;
  if (dataDir !== undefined) {
    location = path.resolve(dataDir);
    fs.mkdirSync(location, { recursive: true });
  }
  const PGlite = loadPGlite();
  const pglite: PGliteInstance = await PGlite.create(location ? { dataDir: location } : {});

  const queryable = (target: PGliteInstance | Transaction): Queryable => ({
    async query<T>(sql: string, params?: readonly unknown[]) {
      const result = await target.query<T>(sql, params as unknown[] | undefined);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
  });

  return countingDatabase({
    kind: 'pglite',
    root: queryable(pglite),
    // PGlite has one connection: top-level statements wait until a running transaction ends.
    transaction: (fn) => pglite.transaction((tx) => fn(queryable(tx))),
    close: () => pglite.close(),
  });
}
