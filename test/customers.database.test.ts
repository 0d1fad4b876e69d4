import fs from 'node:fs';
import path from 'node:path';
import { CustomerStore } from '../src/customers';
import { loadMigrations, migrate, openDatabase } from '../src/database';
import {
  backends,
  countQueries,
  createScratchPostgres,
  makeTempDir,
  type TestDatabase,
} from './helpers/database';

const migrations = loadMigrations();
const versions = migrations.map((migration) => migration.version);

describe.each(backends)('database on %s', (_name, backend) => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await backend.open();
  });
  afterAll(() => handle?.cleanup());

  it('applies every migration at start-up, once, and migrating again is a no-op', async () => {
    const { db } = handle;
    const before = await db.query<{ version: number; applied_at: Date }>(
      'SELECT version, applied_at FROM schema_migrations ORDER BY version',
    );
    expect(before.rows.map((row) => row.version)).toEqual(versions);

    await expect(migrate(db)).resolves.toEqual([]);
    const after = await db.query<{ version: number; applied_at: Date }>(
      'SELECT version, applied_at FROM schema_migrations ORDER BY version',
    );
    expect(after.rows.map((row) => [row.version, String(row.applied_at)])).toEqual(
      before.rows.map((row) => [row.version, String(row.applied_at)]),
    );
  });

  it('refuses to start when an applied migration was edited', async () => {
    const edited = migrations.map((migration) => ({ ...migration, checksum: 'edited' }));
    await expect(migrate(handle.db, edited)).rejects.toThrow(/was edited after it was applied/);
  });

  it('commits a transaction as a whole or not at all', async () => {
    const { db } = handle;
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO customers (external_id, name) VALUES ('TX-1', 'Rolled Back')`);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO customers (external_id, name) VALUES ('TX-2', 'Committed')`);
    });
    const { rows } = await db.query<{ external_id: string }>(
      `SELECT external_id FROM customers WHERE external_id LIKE 'TX-%' ORDER BY external_id`,
    );
    expect(rows).toEqual([{ external_id: 'TX-2' }]);
  });

  it('counts every statement, inside transactions too', async () => {
    const { db } = handle;
    const { queries } = await countQueries(db, async () => {
      await db.query('SELECT 1');
      await db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await tx.exec('SELECT 1; SELECT 2');
      });
    });
    expect(queries).toBe(3);
  });
});

describe('migrations on postgres', () => {
  it('two replicas starting together apply each migration exactly once', async () => {
    const scratch = await createScratchPostgres();
    const config = { url: scratch.url, embeddedDir: 'unused' };
    const replicas = await Promise.all([
      openDatabase(config, { migrate: false }),
      openDatabase(config, { migrate: false }),
    ]);
    try {
      const applied = await Promise.all(replicas.map((db) => migrate(db)));
      expect(applied.flat().sort()).toEqual(versions);
      const { rows } = await replicas[0]!.query('SELECT version FROM schema_migrations');
      expect(rows).toHaveLength(versions.length);
    } finally {
      await Promise.all(replicas.map((db) => db.close()));
      await scratch.drop();
    }
  });
});

describe('embedded PGlite in a directory', () => {
  const temp = makeTempDir();
  afterAll(() => temp.remove());

  it('creates the directory and keeps data across close and reopen', async () => {
    const embeddedDir = path.join(temp.dir, 'nested', 'pglite');
    const first = await openDatabase({ embeddedDir });
    try {
      expect(first.kind).toBe('pglite');
      await new CustomerStore(first).upsertCustomer({ externalId: 'C-7001', name: 'Greta Jäger' });
    } finally {
      await first.close();
    }
    expect(fs.existsSync(embeddedDir)).toBe(true);

    const second = await openDatabase({ embeddedDir });
    try {
      const [customer] = await new CustomerStore(second).customersByExternalIds(['C-7001']);
      expect(customer?.name).toBe('Greta Jäger');
      await expect(migrate(second)).resolves.toEqual([]);
    } finally {
      await second.close();
    }
  });
});
