export interface QueryResult<T> {
  rows: T[];
}

/** What a statement can run on: the database itself or an open transaction. */
export interface Queryable {
  /** One statement, with `$1…` parameters. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** One or more statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Statements sent through query() and exec() so far, in transactions too; BEGIN/COMMIT not counted. */
  readonly queryCount: number;
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** PostgreSQL pool size (default 10). */
  maxConnections?: number;
  /** Errors of idle pooled connections, which have no caller to reject. */
  onError?: (error: Error) => void;
}

/** Where the database is: DATABASE_URL, else EMBEDDED_DB_DIR (see src/config.ts). */
export interface DatabaseLocation {
  url?: string;
  embeddedDir: string;
}
