import type { Database, Queryable } from './types';

/** What a backend brings: how its statements run, at the top level and in a transaction. */
export interface DatabaseBackend {
  readonly kind: Database['kind'];
  readonly root: Queryable;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The backend as a Database whose queryCount counts every query and exec, in transactions too. */
export function countingDatabase(backend: DatabaseBackend): Database {
  let queryCount = 0;
  const counted = (target: Queryable): Queryable => ({
    query(sql, params) {
      queryCount += 1;
      return target.query(sql, params);
    },
    exec(sql) {
      queryCount += 1;
      return target.exec(sql);
    },
  });
  const root = counted(backend.root);
  return {
    kind: backend.kind,
    get queryCount() {
      return queryCount;
    },
    query: root.query,
    exec: root.exec,
    transaction: (fn) => backend.transaction((tx) => fn(counted(tx))),
    close: () => backend.close(),
  };
}
