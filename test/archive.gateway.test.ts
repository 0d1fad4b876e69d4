import { Writable } from 'node:stream';
import { loadGatewayConfig } from '../src/config';
import { openDatabase, type Database } from '../src/database';
import { createLogger } from '../src/logging/logger';
import { startGateway, type RunningGateway } from '../src/server';
import { startSimulator, type RunningSimulator } from '../src/simulator';
import { frontingEnv, startGatewayProcess, type GatewayProcess } from './helpers/gatewayProcess';
import { backends, createScratchPostgres, postgresBackend, type TestDatabase } from './helpers/database';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { sleep, waitFor } from './helpers/simulator';
import { startStack } from './helpers/stack';
import { archivedCount, archiveHoldsAll, expectArchiveMatches, firstArchivedReceiveMs } from './helpers/archive';
import { storedReadings } from './helpers/subscriptions';

const iso = (ms: number) => new Date(ms).toISOString();
describe.each(backends)('reading archive in a gateway on %s', (_name, backend) => {
  it('archives every upstream reading once, without any client subscribed, despite upstream duplicates', async () => {
    const test = await backend.open();
    const stack = await startStack({
      simulator: { installations: 8, readingIntervalMs: 200, duplicateRate: 0.3, historyMs: 0 },
      env: { ARCHIVE_ENABLED: 'true', ARCHIVE_FLUSH_INTERVAL: '200ms' },
      database: test.db,
    });
    try {
      await waitFor(async () => (await archivedCount(test.db)) >= 150, 60_000, '150 readings in the archive');
      // However late a busy machine delivers and writes them, every reading up to the bound must arrive:
      // a hole never fills, so this fails on one, not on a slow run.
      const boundMs = Date.now() - 1_000;
      const fromMs = await firstArchivedReceiveMs(test.db);
      await waitFor(() => archiveHoldsAll(test.db, stack.simulator, fromMs, boundMs), 60_000, 'every reading up to the bound in the archive');
      await stack.gateway.close();
      expect(await expectArchiveMatches(test.db, stack.simulator, fromMs, boundMs)).toBeGreaterThan(100);
    } finally {
      await stack.simulator.close();
      await test.cleanup();
    }
  }, 180_000);
});

describe('reading archive catch-up of a long gap (PostgreSQL)', () => {
  it('backfills ten minutes of IOmeter history after the checkpoint while live readings flow, without a hole', async () => {
    const test = await postgresBackend.open();
    const gapStartMs = Date.now() - 10 * 60_000;
    // As if the archive had last written ten minutes ago.
    await test.db.query('INSERT INTO reading_archive_checkpoint (receive_time) VALUES ($1)', [iso(gapStartMs)]);
    const stack = await startStack({
      simulator: { installations: 8, readingIntervalMs: 200, duplicateRate: 0.2, historyMs: 12 * 60_000 },
      env: { ARCHIVE_ENABLED: 'true', ARCHIVE_FLUSH_INTERVAL: '200ms' },
      database: test.db,
    });
    try {
      const message = (msg: string) => stack.logs.map((line) => JSON.parse(line) as Record<string, any>).find((line) => line.msg === msg);
      // Ten minutes of history, page by page, beside the live readings: long on a loaded machine.
      await waitFor(() => message('reading archive backfill done') !== undefined, 150_000, 'the backfill to finish');
      expect(message('reading archive gap; backfilling from IOmeter')!.gapMs).toBeGreaterThanOrEqual(10 * 60_000);
      expect(message('reading archive backfill done')!.backfilled).toBeGreaterThan(10 * 60 * 40 * 0.9); // 8 meters, 5 readings/s each
      await sleep(1_500);
      // However late a busy machine delivers and writes them, every reading up to the bound must arrive:
      // a hole never fills, so this fails on one, not on a slow run.
      const boundMs = Date.now() - 1_000;
      await waitFor(() => archiveHoldsAll(test.db, stack.simulator, gapStartMs, boundMs), 60_000, 'every reading up to the bound in the archive');
      await stack.gateway.close();
      expect(await expectArchiveMatches(test.db, stack.simulator, gapStartMs, boundMs)).toBeGreaterThan(20_000);
    } finally {
      await stack.simulator.close();
      await test.cleanup();
    }
  }, 300_000);
});

function spawnGateway(sim: RunningSimulator, databaseUrl: string, env: Record<string, string> = {}): GatewayProcess {
  return startGatewayProcess({
    ...frontingEnv(sim),
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: 'archive-test-secret-archive-test-secret',
    DATABASE_URL: databaseUrl,
    ...env,
  });
}

const logged = (gateway: GatewayProcess, msg: string) => gateway.logs().find((line) => line.msg === msg);

async function checkpoint(db: Database): Promise<{ receiveMs: number; updatedMs: number } | undefined> {
  const { rows } = await db.query<{ receive_time: Date; updated_at: Date }>('SELECT receive_time, updated_at FROM reading_archive_checkpoint');
  return rows[0] && { receiveMs: new Date(rows[0].receive_time).getTime(), updatedMs: new Date(rows[0].updated_at).getTime() };
}

describe('reading archive across gateway restarts (child processes, PostgreSQL)', () => {
  let sim: RunningSimulator;
  let test: TestDatabase & { url: string };
  const running: GatewayProcess[] = [];

  beforeEach(async () => {
    sim = await startSimulator({ installations: 8, readingIntervalMs: 200, duplicateRate: 0.2, historyMs: 0 });
    const scratch = await createScratchPostgres();
    const db = await openDatabase({ url: scratch.url, embeddedDir: 'memory://' });
    test = { db, url: scratch.url, cleanup: async () => (await db.close(), await scratch.drop()) };
  });

  afterEach(async () => {
    for (const gateway of running.splice(0)) {
      gateway.child.kill('SIGKILL');
      await gateway.exited;
    }
    await sim.close();
    await test.cleanup();
  });

  const start = (env: Record<string, string> = {}) => {
    const gateway = spawnGateway(sim, test.url, env);
    running.push(gateway);
    return gateway;
  };

  const stop = async (gateway: GatewayProcess) => {
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  };

  it('after downtime, logs the gap, backfills it from provider.readings and goes live without a hole', async () => {
    const first = start({ ARCHIVE_FLUSH_INTERVAL: '200ms' });
    await waitFor(async () => (await archivedCount(test.db)) >= 50, 60_000);
    await stop(first);
    await sleep(3_000); // downtime: the simulator keeps producing

    const second = start({ ARCHIVE_FLUSH_INTERVAL: '200ms' });
    await waitFor(() => logged(second, 'reading archive backfill done') !== undefined, 60_000);
    const gap = logged(second, 'reading archive gap; backfilling from IOmeter')!;
    const done = logged(second, 'reading archive backfill done')!;
    expect(gap.gapMs).toBeGreaterThanOrEqual(3_000);
    expect(done.backfilled).toBeGreaterThan(3 * 8 * 5 * 0.9); // 3 s of 8 meters at 5 readings/s
    await sleep(2_000);
    const stoppedMs = Date.now();
    await stop(second);

    const fromMs = await firstArchivedReceiveMs(test.db);
    expect(await expectArchiveMatches(test.db, sim, fromMs, stoppedMs - 1_000)).toBeGreaterThan(200);
  }, 150_000);

  it('a gateway killed mid-batch (SIGKILL) loses no reading: the restart fetches everything after the last committed batch', async () => {
    // Batches every 2 s, so the kill lands with about a second of readings only in memory.
    const env = { ARCHIVE_BATCH_SIZE: '50000', ARCHIVE_FLUSH_INTERVAL: '2s' };
    const first = start(env);
    await waitFor(async () => (await checkpoint(test.db)) !== undefined, 60_000);
    const committed = (await checkpoint(test.db))!;
    await waitFor(async () => (await checkpoint(test.db))!.updatedMs > committed.updatedMs, 10_000);
    await sleep(1_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = (await checkpoint(test.db))!;
    // The kill really did lose buffered readings: the simulator stored some after the last commit.
    const unwritten = (await storedReadings(sim, iso(atKill.receiveMs + 1))).length;
    expect(unwritten).toBeGreaterThan(0);

    const second = start(env);
    await waitFor(() => logged(second, 'reading archive backfill done') !== undefined, 60_000);
    await sleep(2_500);
    const stoppedMs = Date.now();
    await stop(second);

    const fromMs = await firstArchivedReceiveMs(test.db);
    expect(await expectArchiveMatches(test.db, sim, fromMs, stoppedMs - 1_000)).toBeGreaterThan(100);
  }, 150_000);
});

describe('reading archive on a cluster (two gateways sharing Redis and PostgreSQL)', () => {
  interface Replica {
    gateway: RunningGateway;
    db: Database;
    messages: () => string[];
  }

  async function startReplica(sim: RunningSimulator, url: string, keyPrefix: string): Promise<Replica> {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        callback();
      },
    });
    const db = await openDatabase({ url, embeddedDir: 'memory://' });
    const config = loadGatewayConfig({
      PORT: '0', HOST: '127.0.0.1', REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix, ARCHIVE_FLUSH_INTERVAL: '200ms',
    });
    const gateway = await startGateway({
      config: { ...config, upstream: { endpoint: sim.url, wsEndpoint: sim.wsUrl, token: sim.token, secret: sim.secret, timeoutMs: 5_000 } },
      database: db,
      logger: createLogger({ level: 'info', destination }),
    });
    return { gateway, db, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
  }

  it('holds one upstream subscription without clients, only the leader writes, and a new leader catches up', async () => {
    const sim = await startSimulator({ installations: 6, readingIntervalMs: 200, duplicateRate: 0.2, historyMs: 0 });
    const scratch = await createScratchPostgres();
    const keyPrefix = uniqueKeyPrefix('archive');
    /** Replicas still running; every database pool is closed at the end. */
    const replicas: Replica[] = [];
    const databases: Database[] = [];
    try {
      const first = await startReplica(sim, scratch.url, keyPrefix);
      replicas.push(first);
      databases.push(first.db);
      await waitFor(async () => (await archivedCount(first.db)) >= 30, 20_000);
      const second = await startReplica(sim, scratch.url, keyPrefix);
      replicas.push(second);
      databases.push(second.db);
      await sleep(2_000);
      expect(sim.stats.activeSubscriptions).toBe(1);
      expect(first.messages()).toContain('reading archive is empty; archiving live readings from now');
      // The follower neither catches up nor writes while the leader lives.
      expect(second.messages().filter((msg) => msg.startsWith('reading archive'))).toEqual([]);

      await replicas.shift()!.gateway.close();
      await waitFor(() => second.messages().includes('reading archive backfill done'), 60_000, "the new leader's backfill");
      await sleep(2_000);
      expect(sim.stats.activeSubscriptions).toBe(1);
      // Every reading up to the bound must arrive, however late (see the first test).
      const boundMs = Date.now() - 1_000;
      const fromMs = await firstArchivedReceiveMs(second.db);
      await waitFor(() => archiveHoldsAll(second.db, sim, fromMs, boundMs), 60_000, 'every reading up to the bound in the archive');
      await second.gateway.close();
      replicas.length = 0;
      expect(await expectArchiveMatches(second.db, sim, fromMs, boundMs)).toBeGreaterThan(100);
    } finally {
      for (const replica of replicas) await replica.gateway.close();
      for (const db of databases) await db.close();
      await sim.close();
      await scratch.drop();
      await deleteKeysWithPrefix(SHARED_REDIS_URL, keyPrefix);
    }
  }, 240_000);
});
