import { parentPort, workerData } from 'node:worker_threads';
import { openPgliteDatabase } from './pglite';
import type { PgliteRequest, PgliteWorkerMessage, PgliteWorkerData } from './pgliteThread';
import type { Queryable } from './types';

/**
 * The embedded database's thread (src/database/pgliteThread.ts): PGlite runs its WASM synchronously,
 * an archive batch for milliseconds to seconds at a time, so it runs here, off the gateway's event
 * loop. Statements are served as they arrive; PGlite itself queues statements outside a transaction
 * behind a running one, as it does in-process.
 */
const port = parentPort!;
const post = (message: PgliteWorkerMessage) => port.postMessage(message);

/** An error as plain data: its message and its own fields (`code`, `constraint`, `detail` of a database error). */
function plain(error: unknown) {
  if (!(error instanceof Error)) return { message: String(error) };
  return { ...Object.fromEntries(Object.entries(error)), name: error.name, message: error.message };
}

/** A transaction ended by the caller's rollback: PGlite rolls back when its callback throws. */
class RolledBack extends Error {}

interface OpenTransaction {
  tx: Queryable;
  end: (commit: boolean) => void;
  done: Promise<void>;
}

async function serve(): Promise<void> {
  const { dataDir } = workerData as PgliteWorkerData;
  const db = await openPgliteDatabase(dataDir);
  const transactions = new Map<number, OpenTransaction>();
  const target = (tx: number | undefined): Queryable => (tx === undefined ? db : transactions.get(tx)!.tx);

  const handle = async (request: PgliteRequest): Promise<unknown> => {
    switch (request.op) {
      case 'query':
        return (await target(request.tx).query(request.sql, request.params)).rows;
      case 'exec':
        return target(request.tx).exec(request.sql);
      case 'begin':
        return new Promise<void>((opened, failed) => {
          let end!: (commit: boolean) => void;
          const decided = new Promise<boolean>((resolve) => (end = resolve));
          const transaction = { end } as OpenTransaction;
          transaction.done = db.transaction(async (tx) => {
            transaction.tx = tx;
            transactions.set(request.id, transaction);
            opened();
            if (!(await decided)) throw new RolledBack();
          });
          transaction.done.catch(failed);
        });
      case 'end': {
        const transaction = transactions.get(request.tx)!;
        transactions.delete(request.tx);
        transaction.end(request.commit);
        return transaction.done.catch((error: unknown) => {
          if (!(error instanceof RolledBack)) throw error;
        });
      }
      case 'close':
        return db.close();
    }
  };

  port.on('message', (request: PgliteRequest) => {
    handle(request).then(
      (value) => post({ id: request.id, value }),
      (error: unknown) => post({ id: request.id, error: plain(error) }),
    );
  });
  post({ ready: true });
}

serve().catch((error: unknown) => post({ failed: plain(error) }));
