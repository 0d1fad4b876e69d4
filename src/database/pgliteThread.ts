import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { countingDatabase } from './counting';
import type { Database, Queryable, QueryResult } from './types';

/** What the worker (src/database/pgliteWorker.ts) is started with. */
export interface PgliteWorkerData {
  dataDir?: string;
}

/** A statement, or a transaction's start or end, for the worker; `tx` is the id of the `begin` that opened it. */
export type PgliteRequest =
  | { id: number; op: 'query'; sql: string; params?: readonly unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

type PlainError = { message: string } & Record<string, unknown>;

export type PgliteWorkerMessage = { ready: true } | { failed: PlainError } | { id: number; value?: unknown; error?: PlainError };

/** The worker's error with the fields callers match on (`constraint`, `code`) back on an Error. */
const errorOf = ({ message, ...fields }: PlainError) => Object.assign(new Error(message), fields);

/**
 * The build runs the compiled worker. From source (tsx, jest) the worker is TypeScript: a worker
 * thread gets none of the parent's module hooks, so it registers tsx's (a devDependency, present
 * wherever the sources run) before requiring the worker.
 */
function startWorker(data: PgliteWorkerData): Worker {
  const extension = extname(__filename);
  const entry = join(__dirname, `pgliteWorker${extension}`);
  if (extension !== '.ts') return new Worker(entry, { workerData: data });
  const bootstrap = `require('tsx/cjs/api').register(); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

/**
 * The embedded PGlite on a worker thread: the same Database as in-process (src/database/pglite.ts),
 * but its WASM runs beside the event loop instead of on it, so an archive batch does not hold up
 * queries (issue 12 §5). Rows and parameters cross as structured clones (Dates, objects, arrays).
 * The worker keeps the process alive only while a statement is pending, as an in-process database does.
 */
export async function openPgliteInWorker(dataDir?: string): Promise<Database> {
  const worker = startWorker({ dataDir });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exited: Error | undefined;

  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: PgliteWorkerMessage) => {
      if ('ready' in message) resolve();
      else if ('failed' in message) reject(errorOf(message.failed));
      else return;
      worker.off('message', onMessage);
      worker.off('error', reject);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
  worker.unref();
  worker.on('message', (message: PgliteWorkerMessage) => {
    if (!('id' in message)) return;
    const call = pending.get(message.id);
    pending.delete(message.id);
    if (pending.size === 0) worker.unref();
    if (message.error) call?.reject(errorOf(message.error));
    else call?.resolve(message.value);
  });
  worker.once('exit', (code) => {
    exited = new Error(`the embedded database's worker exited (code ${code})`);
    for (const call of pending.values()) call.reject(exited);
    pending.clear();
  });

  type Request = PgliteRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
  const call = (request: Request, id = nextId++): Promise<unknown> => {
    if (exited) return Promise.reject(exited);
    if (pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  };

  const queryable = (tx?: number): Queryable => ({
    async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      return { rows: (await call({ op: 'query', sql, params, tx })) as T[] };
    },
    async exec(sql: string) {
      await call({ op: 'exec', sql, tx });
    },
  });

  return countingDatabase({
    kind: 'pglite',
    root: queryable(),
    async transaction(fn) {
      // The transaction is known by the id of the request that opened it.
      const tx = nextId++;
      await call({ op: 'begin' }, tx);
      let result;
      try {
        result = await fn(queryable(tx));
      } catch (error) {
        await call({ op: 'end', tx, commit: false });
        throw error;
      }
      await call({ op: 'end', tx, commit: true });
      return result;
    },
    async close() {
      if (!exited) await call({ op: 'close' });
      await worker.terminate();
    },
  });
}
