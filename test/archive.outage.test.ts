import { Client } from 'pg';
import { ReadingArchive } from '../src/archive';
import { openDatabase } from '../src/database';
import { startSimulator } from '../src/simulator';
import { createLocalFeed } from '../src/subscriptions';
import { archivedCount, archiveHoldsAll, expectArchiveMatches, firstArchivedReceiveMs } from './helpers/archive';
import { createScratchPostgres } from './helpers/database';
import { basicAuth, sleep, waitFor } from './helpers/simulator';
import { simulatorPageFetcher, testLogger } from './helpers/subscriptions';

const DAY_MS = 86_400_000;

describe('reading archive while PostgreSQL refuses writes', () => {
  it('bounds its memory by dropping buffered readings, then refetches them from IOmeter once writes succeed again', async () => {
    const sim = await startSimulator({ installations: 8, readingIntervalMs: 200, duplicateRate: 0.2, historyMs: 0 });
    const scratch = await createScratchPostgres();
    const db = await openDatabase({ url: scratch.url, embeddedDir: 'memory://' });
    const admin = new Client({ connectionString: scratch.url });
    await admin.connect();
    const { logger, lines } = testLogger();
    const archive = new ReadingArchive({
      db, logger, fetchPage: simulatorPageFetcher(sim), retentionMs: 30 * DAY_MS, batchSize: 20, flushIntervalMs: 100, maxPending: 100,
    });
    const feed = createLocalFeed({ consumer: archive })({
      url: sim.wsUrl, authorization: basicAuth(sim.token, sim.secret), logger,
      overlapMs: 5_000, retryBudgetMs: 5_000, keepAliveMs: 10_000, onReading: () => undefined, onFailure: () => undefined,
    });
    try {
      await waitFor(async () => (await archivedCount(db)) >= 40, 20_000);
      // Every batch now fails: its statement also advances the checkpoint, whose table is gone.
      await admin.query('ALTER TABLE reading_archive_checkpoint RENAME TO reading_archive_checkpoint_away');
      await waitFor(() => archive.writer.stats.droppedFromMemory > 0, 20_000);
      expect(archive.writer.stats.pending).toBeLessThanOrEqual(100 + 2 * 20);
      await admin.query('ALTER TABLE reading_archive_checkpoint_away RENAME TO reading_archive_checkpoint');

      await waitFor(() => lines.some((line) => line.includes('reading archive backfill done')), 60_000, 'the backfill to finish');
      await sleep(1_000);
      // However late a busy machine delivers and writes them, every reading up to the bound must arrive:
      // a hole never fills, so this fails on one, not on a slow run.
      const boundMs = Date.now() - 1_000;
      const fromMs = await firstArchivedReceiveMs(db);
      await waitFor(() => archiveHoldsAll(db, sim, fromMs, boundMs), 60_000, 'every reading up to the bound in the archive');
      await feed.close!();
      await archive.close();
      expect(archive.writer.missing).toBeUndefined();
      // A floor on the sample, not a rate: the simulator emits ~60 readings/s, fewer on a loaded machine.
      expect(await expectArchiveMatches(db, sim, fromMs, boundMs)).toBeGreaterThan(100);
    } finally {
      await feed.close!();
      await archive.close();
      await admin.end();
      await db.close();
      await sim.close();
      await scratch.drop();
    }
  }, 240_000);
});
