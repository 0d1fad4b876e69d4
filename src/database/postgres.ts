import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { countingDatabase } from './counting';
import type { Database, OpenDatabaseOptions, Queryable } from './types';

type Run = (sql: string, params?: readonly unknown[]) => Promise<{ rows: QueryResultRow[] }>;

/** A pooled PostgreSQL connection; each transaction holds one pooled client until it ends. */
export function openPostgresDatabase(url: string, options: OpenDatabaseOptions = {}): Database {
  const pool = new Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    application_name: 'iometer-gateway',
  });
  pool.on('error', (error) => options.onError?.(error));

  const queryable = (run: Run): Queryable => ({
    async query<T>(sql: string, params?: readonly unknown[]) {
      const result = await run(sql, params);
      return { rows: result.rows as T[] };
    },
    async exec(sql: string) {
      await run(sql);
    },
  });

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client: PoolClient = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(queryable((sql, params) => client.query(sql, params as unknown[] | undefined)));
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollbackError) {
        // The connection is in an unknown state: destroy it instead of returning it to the pool.
        client.release(rollbackError as Error);
      }
      throw error;
    }
  }

  return countingDatabase({
    kind: 'postgres',
    root: queryable((sql, params) => pool.query(sql, params as unknown[] | undefined)),
    transaction,
    close: () => pool.end(),
  });
}
