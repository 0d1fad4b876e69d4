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
  await administer(server, adminDatabase, `CREATE DATABASE ${name}`);
  return { url: `${server}/${name}`, drop: () => dropScratchDatabase(server, name, adminDatabase) };
}

/** Drops database `name` (if it is there) with whatever is still connected to it. */
export function dropScratchDatabase(server: string, name: string, adminDatabase: string): Promise<void> {
  return administer(server, adminDatabase, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

async function administer(server: string, adminDatabase: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: `${server}/${adminDatabase}` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
