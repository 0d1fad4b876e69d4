import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { ConsumptionStore } from '../src/consumption/store';
import type { Resolution } from '../src/consumption/types';
import { CustomerStore } from '../src/customers/store';
import { IN_MEMORY, openDatabase, type Database } from '../src/customers';

/**
 * Consumption query latency over a month of 2-second readings (≈1.34 M rows per installation), in a
 * scratch PostgreSQL database filled with generate_series. Baseline in the same run: a plain
 * count(*) over the same installation and range, i.e. the cheapest query that touches the same rows.
 *
 * BENCH_PG_SERVER (default postgres://postgres@127.0.0.1:5432), BENCH_INSTALLATIONS (default 3),
 * BENCH_ITERATIONS (per query, default 20), CONSUMPTION_TIME_ZONE (default Europe/Berlin).
 */
const server = process.env.BENCH_PG_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const installations = Number(process.env.BENCH_INSTALLATIONS ?? 3);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 20);
const timeZone = process.env.CONSUMPTION_TIME_ZONE ?? 'Europe/Berlin';
// March 2026 in Europe/Berlin: 31 local days, one of them 23 hours long.
const MONTH = { from: '2026-03-01T00:00:00+01:00', to: '2026-04-01T00:00:00+02:00' };
// Fill one day either side, so the first bucket has a reading before `from`.
const FILL = { from: '2026-02-28T00:00:00Z', to: '2026-04-02T00:00:00Z' };

async function administer(sql: string): Promise<void> {
  const client = new Client({ connectionString: `${server}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const installationId = (n: number) => `bench-installation-${n}`;

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
  const tariff = await store.upsertTariff({ name: 'Bench', energyPriceCtPerKwh: 31.57, basePriceEurPerMonth: 12, feedInCtPerKwh: 8.2 });
  await store.setContract({ customerId: customer.id, tariffId: tariff.id, startDate: '2026-01-01' });
}

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1)]!;
}

async function time(run: (installation: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  await run(1); // warm the cache and the connection
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const started = performance.now();
    await run((i % installations) + 1);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function main(): Promise<void> {
  const name = `iometer_bench_consumption_${process.pid}`;
  await administer(`CREATE DATABASE ${name}`);
  const db = await openDatabase({ url: `${server}/${name}`, embeddedDir: IN_MEMORY }, { maxConnections: 2 });
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
    const results: Array<[string, { p50: number; p99: number }]> = [];
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

    const fixed = (ms: number) => ms.toFixed(1);
    const lines = [
      `## Consumption query (\`npm run bench:consumption\`, ${new Date().toISOString()})`,
      '',
      `PostgreSQL, ${installations} installations × one month (${MONTH.from} to ${MONTH.to}) of 2 s readings: ` +
        `${rows.toLocaleString('en')} rows filled in ${fillSeconds.toFixed(0)} s; ${iterations} runs per query, round-robin ` +
        `over the installations; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
      '',
      '| query | p50 ms | p99 ms | p50 ratio to baseline |',
      '| --- | ---: | ---: | ---: |',
      `| baseline: count(*) of the installation's month | ${fixed(baseline.p50)} | ${fixed(baseline.p99)} | 1.00× |`,
      ...results.map(([label, r]) => `| ${label} | ${fixed(r.p50)} | ${fixed(r.p99)} | ${(r.p50 / baseline.p50).toFixed(2)}× |`),
    ];
    console.log(lines.join('\n'));
  } finally {
    await db.close();
    await administer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
