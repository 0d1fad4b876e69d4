import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createScratchDatabase } from '../scripts/scratchDatabase';
import { ConsumptionStore } from '../src/consumption/store';
import type { Resolution } from '../src/consumption/types';
import { CustomerStore } from '../src/customers/store';
import { IN_MEMORY, openDatabase, type Database } from '../src/database';

/**
 * Consumption query latency over a month of 2-second readings (≈1.34 M rows per installation), in a
 * scratch PostgreSQL database filled with generate_series. Baseline in the same run: a plain
 * count(*) over the same installation and range, i.e. the cheapest query that touches the same rows.
 * Then what the rollup trigger (migration 005) costs the ingest: batches of 5,000 readings, one from
 * each of 5,000 meters, inserted alternately with the trigger enabled and disabled.
 *
 * BENCH_PG_SERVER (default postgres://postgres@127.0.0.1:5432), BENCH_INSTALLATIONS (default 3),
 * BENCH_ITERATIONS (per query and per ingest side, default 20), CONSUMPTION_TIME_ZONE (default Europe/Berlin).
 */
const server = process.env.BENCH_PG_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const installations = Number(process.env.BENCH_INSTALLATIONS ?? 3);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 20);
const timeZone = process.env.CONSUMPTION_TIME_ZONE ?? 'Europe/Berlin';
// March 2026 in Europe/Berlin: 31 local days, one of them 23 hours long.
const MONTH = { from: '2026-03-01T00:00:00+01:00', to: '2026-04-01T00:00:00+02:00' };
// Fill one day either side, so the first bucket has a reading before `from`.
const FILL = { from: '2026-02-28T00:00:00Z', to: '2026-04-02T00:00:00Z' };

const installationId = (n: number) => `bench-installation-${n}`;

const INGEST_BATCH = 5_000;
const INGEST_START = Date.parse('2026-04-01T12:00:00Z');

async function fill(db: Database): Promise<number> {
  await db.query('SELECT reading_archive_ensure_partitions($1, $2)', [FILL.from, FILL.to]);
  for (let n = 1; n <= installations; n += 1) {
    // Registers rise ~0.35 Wh per reading (≈630 W); power varies so averages and peaks differ.
    await db.query(
      `INSERT INTO reading_archive (meter_id, meter_number, installation_id, external_id, reading_time, receive_time,
         imported_wh, exported_wh, power_w, reading_values)
       SELECT $1 || '-meter', 'BENCH' || $2, $1, 'BENCH-' || $2, t, t + INTERVAL '1 second',
              extract(epoch FROM t - $3::timestamptz) * 0.175, extract(epoch FROM t - $3::timestamptz) * 0.025,
              600 + (extract(epoch FROM t)::bigint % 100), '[]'::jsonb
       FROM generate_series($3::timestamptz, $4::timestamptz - INTERVAL '2 seconds', INTERVAL '2 seconds') AS t`,
      [installationId(n), n, FILL.from, FILL.to],
    );
  }
  await db.exec('VACUUM ANALYZE reading_archive');
  const { rows } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM reading_archive');
  return rows[0]!.count;
}

async function priceFirstInstallation(db: Database): Promise<void> {
  const store = new CustomerStore(db);
  const customer = await store.upsertCustomer({ externalId: 'BENCH-1', name: 'Bench Customer' });
  const { after: tariff } = await store.upsertTariff({ name: 'Bench', energyPriceCtPerKwh: 31.57, basePriceEurPerMonth: 12, feedInCtPerKwh: 8.2 });
  await store.upsertContract({ customerExternalId: customer.externalId, tariffId: tariff.id, startDate: '2026-01-01' });
}

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1)]!;
}

interface Timing {
  p50: number;
  p99: number;
}

function summarise(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function elapsedMs(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function time(run: (installation: number) => Promise<unknown>): Promise<Timing> {
  await run(1); // warm the cache and the connection
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) samples.push(await elapsedMs(() => run((i % installations) + 1)));
  return summarise(samples);
}

/** One reading from each of INGEST_BATCH meters at one instant, as the live feed delivers them. */
function ingestBatch(db: Database, batch: number): Promise<unknown> {
  return db.query(
    `INSERT INTO reading_archive (meter_id, meter_number, installation_id, external_id, reading_time, receive_time,
       imported_wh, exported_wh, power_w, reading_values)
     SELECT 'ingest-meter-' || m, 'INGEST' || m, 'ingest-installation-' || m, NULL, $1, $1::timestamptz + INTERVAL '1 second',
            m + $2 * 0.35, m + $2 * 0.05, 600 + m % 100,
            jsonb_build_array(jsonb_build_object('obisCode', '1-0:1.8.0', 'value', m + $2 * 0.35, 'unit', 'Wh'),
                              jsonb_build_object('obisCode', '1-0:2.8.0', 'value', m + $2 * 0.05, 'unit', 'Wh'),
                              jsonb_build_object('obisCode', '1-0:16.7.0', 'value', 600 + m % 100, 'unit', 'W'))
     FROM generate_series(1, $3::int) AS m
     ON CONFLICT (meter_id, reading_time) DO NOTHING`,
    [new Date(INGEST_START + batch * 2_000).toISOString(), batch, INGEST_BATCH],
  );
}

/** Alternates batches with and without the rollup trigger, so both sides see the same machine load. */
async function ingestWithAndWithoutTrigger(db: Database): Promise<{ withTrigger: Timing; withoutTrigger: Timing }> {
  const setTrigger = (enabled: boolean) =>
    db.exec(`ALTER TABLE reading_archive ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER reading_archive_rollup`);
  const samples = { with: [] as number[], without: [] as number[] };
  let batch = 0;
  for (let i = -1; i < iterations; i += 1) {
    for (const enabled of [true, false]) {
      await setTrigger(enabled);
      const ms = await elapsedMs(() => ingestBatch(db, batch++));
      if (i >= 0) samples[enabled ? 'with' : 'without'].push(ms); // the first pair warms up
    }
  }
  await setTrigger(true);
  return { withTrigger: summarise(samples.with), withoutTrigger: summarise(samples.without) };
}

async function main(): Promise<void> {
  const scratch = await createScratchDatabase(server, `iometer_bench_consumption_${process.pid}`, 'postgres');
  const db = await openDatabase({ url: scratch.url, embeddedDir: IN_MEMORY }, { maxConnections: 2 });
  const loadAtStart = loadavg();
  try {
    const fillStarted = performance.now();
    const rows = await fill(db);
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    await priceFirstInstallation(db);
    const consumption = new ConsumptionStore(db, timeZone);

    const baseline = await time((n) =>
      db.query('SELECT count(*) FROM reading_archive WHERE installation_id = $1 AND reading_time >= $2 AND reading_time < $3', [
        installationId(n),
        MONTH.from,
        MONTH.to,
      ]),
    );
    const results: Array<[string, Timing]> = [];
    for (const resolution of ['HOUR', 'DAY', 'MONTH'] as Resolution[]) {
      results.push([
        `consumption, a month of ${resolution} buckets`,
        await time((n) =>
          consumption.consumption({ installationId: installationId(n), customerExternalId: `BENCH-${n}` }, { ...MONTH, resolution }),
        ),
      ]);
    }
    results.push([
      'readingHistory, first 100 mid-month',
      await time((n) => consumption.readingHistory(installationId(n), { from: '2026-03-15T00:00:00Z', to: MONTH.to, first: 100 })),
    ]);

    const ingest = await ingestWithAndWithoutTrigger(db);
    const { rows: rollup } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM reading_rollup');

    const fixed = (ms: number) => ms.toFixed(1);
    const load = (averages: number[]) => averages.map((average) => average.toFixed(1)).join(' / ');
    const lines = [
      `## Consumption query (\`npm run bench:consumption\`, ${new Date().toISOString()})`,
      '',
      `PostgreSQL, ${installations} installations × one month (${MONTH.from} to ${MONTH.to}) of 2 s readings: ` +
        `${rows.toLocaleString('en')} rows filled in ${fillSeconds.toFixed(0)} s; ${iterations} runs per query, round-robin ` +
        `over the installations; ${rollup[0]!.count.toLocaleString('en')} rollup rows in all (incl. the ingest batches); ` +
        `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
        `load average (1 / 5 / 15 min) ${load(loadAtStart)} at the start, ${load(loadavg())} at the end.`,
      '',
      '| query | p50 ms | p99 ms | p50 ratio to baseline |',
      '| --- | ---: | ---: | ---: |',
      `| baseline: count(*) of the installation's month | ${fixed(baseline.p50)} | ${fixed(baseline.p99)} | 1.00× |`,
      ...results.map(([label, r]) => `| ${label} | ${fixed(r.p50)} | ${fixed(r.p99)} | ${(r.p50 / baseline.p50).toFixed(2)}× |`),
      '',
      `Ingest: ${iterations} batches of ${INGEST_BATCH.toLocaleString('en')} readings (one per meter, one INSERT each) per side, alternating.`,
      '',
      '| insert of one batch | p50 ms | p99 ms | readings/s at p50 |',
      '| --- | ---: | ---: | ---: |',
      ...([['without the rollup trigger', ingest.withoutTrigger], ['with the rollup trigger', ingest.withTrigger]] as const).map(
        ([label, r]) => `| ${label} | ${fixed(r.p50)} | ${fixed(r.p99)} | ${Math.round((INGEST_BATCH / r.p50) * 1000).toLocaleString('en')} |`,
      ),
      '',
      `Trigger overhead (p50 with / without): ${(ingest.withTrigger.p50 / ingest.withoutTrigger.p50).toFixed(2)}×.`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await db.close();
    await scratch.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
