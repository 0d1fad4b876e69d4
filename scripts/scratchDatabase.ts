import { Client } from 'pg';

/** A PostgreSQL database made for one test run or benchmark. */
export interface ScratchPostgres {
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates database `name` on `server` (a postgres:// URL without a database; trust auth). A database
 * cannot create or drop itself, so both statements run from `adminDatabase`, which must exist.
 */
export async function createScratchDatabase(server: string, name: string, adminDatabase: string): Promise<ScratchPostgres> {
  const administer = async (sql: string) => {
    const client = new Client({ connectionString: `${server}/${adminDatabase}` });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await administer(`CREATE DATABASE ${name}`);
  return { url: `${server}/${name}`, drop: () => administer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
