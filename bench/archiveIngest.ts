import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createScratchDatabase } from '../scripts/scratchDatabase';
import { ArchiveWriter, toArchiveRow, type ArchiveRow } from '../src/archive';
import { openDatabase, type Database } from '../src/database';
import { createLogger } from '../src/logging/logger';
import type { MeterReading } from '../src/subscriptions';

/**
 * Archive ingest against the local PostgreSQL: can the writer keep up with 25,000 installations
 * each sending a reading every 2 s (12,500 readings/s), and how far behind does it run?
 *
 * 1. Sustained: readings generated in the bench process at the target rate (ticks of 50 ms, as a
 *    WebSocket delivers them in bursts), each turned into a row by the gateway's own toArchiveRow
 *    and handed to ArchiveWriter with the default batch settings. Lag = commit - receiveTime.
 * 2. Capacity: a backlog handed to the writer at once, written as fast as it can.
 * 3. Baseline in the same run: one INSERT ... ON CONFLICT DO NOTHING per reading over 8 pooled
 *    connections, i.e. what ingest without batching could do.
 *
 * BENCH_DURATION (seconds of sustained load, default 30), BENCH_INSTALLATIONS (default 25000),
 * BENCH_INTERVAL_MS (default 2000), ARCHIVE_BATCH_SIZE (default 5000), ARCHIVE_FLUSH_INTERVAL_MS (default 1000).
 */
const SERVER = process.env.BENCH_PG_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const durationS = Number(process.env.BENCH_DURATION ?? 30);
const installations = Number(process.env.BENCH_INSTALLATIONS ?? 25_000);
const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 2_000);
const batchSize = Number(process.env.ARCHIVE_BATCH_SIZE ?? 5_000);
const flushIntervalMs = Number(process.env.ARCHIVE_FLUSH_INTERVAL_MS ?? 1_000);
const TICK_MS = 50;
const CAPACITY_ROWS = 250_000;
const BASELINE_S = 10;
const BASELINE_CONNECTIONS = 8;
const DAY_MS = 86_400_000;

const meters = Array.from({ length: installations }, (_, i) => ({
  meter: { id: randomUUID(), number: `1BENCH${String(i).padStart(8, '0')}` },
  installation: { id: randomUUID(), externalId: `C-${i + 1}` },
}));

function readingOf(index: number, timeMs: number): MeterReading {
  return {
    ...meters[index % meters.length]!,
    time: new Date(timeMs).toISOString(),
    receiveTime: new Date(timeMs).toISOString(),
    values: [
      { obisCode: '1-0:1.8.0', value: 1_000_000 + timeMs / 3_600, unit: 'Wh' },
      { obisCode: '1-0:2.8.0', value: 50_000, unit: 'Wh' },
      { obisCode: '1-0:16.7.0', value: 420 + (index % 300), unit: 'W' },
    ],
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function sustained(db: Database) {
  const lags: number[] = [];
  let written = 0;
  const writer = new ArchiveWriter({
    db, logger: createLogger({ level: 'warn' }), batchSize, flushIntervalMs, retentionMs: 400 * DAY_MS,
    onWritten: (batch, inserted) => {
      const committedMs = Date.now();
      written += inserted;
      for (const row of batch) lags.push(committedMs - row.receiveTimeMs);
    },
  });
  const perTick = (installations / intervalMs) * TICK_MS;
  const startMs = Date.now();
  let offered = 0;
  let next = 0;
  // Each meter reads once per interval; ticks spread them evenly, and time = receiveTime = now.
  while (Date.now() - startMs < durationS * 1_000) {
    const due = Math.floor(((Date.now() - startMs) / TICK_MS + 1) * perTick);
    const nowMs = Date.now();
    for (; offered < due; offered += 1, next += 1) writer.add(toArchiveRow(readingOf(next, nowMs))!);
    await sleep(TICK_MS);
  }
  const offeredMs = Date.now() - startMs;
  const backlogAtEnd = writer.stats.pending;
  await writer.flush();
  const drainedMs = Date.now() - startMs;
  await writer.close();
  lags.sort((a, b) => a - b);
  return {
    offeredPerS: offered / (offeredMs / 1_000),
    writtenPerS: written / (drainedMs / 1_000),
    backlogAtEnd,
    drainAfterMs: drainedMs - offeredMs,
    lagP50: percentile(lags, 50),
    lagP99: percentile(lags, 99),
    lagMax: lags[lags.length - 1] ?? NaN,
    batches: writer.stats.batches,
  };
}

async function capacity(db: Database) {
  const writer = new ArchiveWriter({ db, logger: createLogger({ level: 'warn' }), batchSize, flushIntervalMs, retentionMs: 400 * DAY_MS });
  // A different hour than the sustained run, so nothing is a repeat.
  const baseMs = Date.now() - 3_600_000;
  const rows: ArchiveRow[] = [];
  for (let i = 0; i < CAPACITY_ROWS; i += 1) rows.push(toArchiveRow(readingOf(i, baseMs + Math.floor(i / installations) * intervalMs))!);
  const startMs = Date.now();
  for (const row of rows) writer.add(row);
  await writer.flush();
  const elapsedS = (Date.now() - startMs) / 1_000;
  await writer.close();
  return { rowsPerS: writer.stats.inserted / elapsedS };
}

async function singleRowBaseline(db: Database) {
  const baseMs = Date.now() - 2 * 3_600_000;
  const endMs = Date.now() + BASELINE_S * 1_000;
  let inserted = 0;
  let next = 0;
  const worker = async () => {
    while (Date.now() < endMs) {
      const i = next++;
      const row = toArchiveRow(readingOf(i, baseMs + Math.floor(i / installations) * intervalMs))!;
      await db.query(
        `INSERT INTO reading_archive (meter_id, meter_number, installation_id, external_id, reading_time, receive_time,
           imported_wh, exported_wh, power_w, reading_values) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (meter_id, reading_time) DO NOTHING`,
        [row.meterId, row.meterNumber, row.installationId, row.externalId, new Date(row.readingTimeMs), new Date(row.receiveTimeMs),
          row.importedWh, row.exportedWh, row.powerW, row.valuesJson],
      );
      inserted += 1;
    }
  };
  await Promise.all(Array.from({ length: BASELINE_CONNECTIONS }, worker));
  return { rowsPerS: inserted / BASELINE_S };
}

async function main(): Promise<void> {
  const scratch = await createScratchDatabase(SERVER, `iometer_bench_archive_${process.pid}`, 'test');
  const db = await openDatabase({ url: scratch.url, embeddedDir: 'memory://' }, { maxConnections: BASELINE_CONNECTIONS + 2 });
  try {
    await db.query('SELECT reading_archive_ensure_partitions(now() - interval \'1 day\', now() + interval \'1 day\')');
    const target = installations / (intervalMs / 1_000);
    process.stdout.write(`archive ingest: ${installations} installations every ${intervalMs} ms = ${target} readings/s for ${durationS} s\n`);
    const load = await sustained(db);
    const cap = await capacity(db);
    const base = await singleRowBaseline(db);
    const f = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
    const lines = [
      `## Archive ingest (\`npm run bench:archive\`, ${new Date().toISOString()}, ${durationS} s sustained)`,
      '',
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, local PostgreSQL; ` +
        `ARCHIVE_BATCH_SIZE=${batchSize}, flush interval ${flushIntervalMs} ms.`,
      '',
      '| run | offered readings/s | written readings/s | lag p50 ms | lag p99 ms | lag max ms | backlog at end | batches |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| sustained, ${installations} installations / ${intervalMs} ms | ${f(load.offeredPerS)} | ${f(load.writtenPerS)} | ${f(load.lagP50)} | ${f(load.lagP99)} | ${f(load.lagMax)} | ${load.backlogAtEnd} (drained in ${load.drainAfterMs} ms) | ${load.batches} |`,
      '',
      '| run | rows/s | ratio to single-row baseline |',
      '| --- | ---: | ---: |',
      `| writer capacity (${CAPACITY_ROWS} rows backlog) | ${f(cap.rowsPerS)} | ${f(cap.rowsPerS / base.rowsPerS, 1)}× |`,
      `| writer sustained (above) | ${f(load.writtenPerS)} | ${f(load.writtenPerS / base.rowsPerS, 1)}× |`,
      `| baseline: single-row INSERT, ${BASELINE_CONNECTIONS} connections, ${BASELINE_S} s | ${f(base.rowsPerS)} | 1.0× |`,
      '',
      `Headroom: capacity is ${f(cap.rowsPerS / target, 1)}× the ${target} readings/s target.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await db.close();
    await scratch.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
