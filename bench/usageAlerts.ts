import { randomUUID } from 'node:crypto';
import { createLocalAlertBus } from '../src/alerts/bus';
import { UsageAlertEvaluator } from '../src/alerts/evaluator';
import type { UsageAlertRules } from '../src/alerts/rules';
import { toArchiveRow } from '../src/archive';
import { createLogger } from '../src/logging/logger';
import type { MeterReading } from '../src/subscriptions';
import { toHubReading } from '../src/subscriptions/payload';
import { machineFacts } from './lib/report';

/**
 * What usage alert evaluation adds per reading: 25,000 installations reading every 2 s (12,500
 * readings/s), 10,000 of their customers with all three rules. CPU time (process.cpuUsage) per reading
 * of UsageAlertEvaluator.onReading, beside two baselines measured in the same run on the same
 * readings: the hub's own per-reading work of building the shared payload (toHubReading) and the
 * archive's row (toArchiveRow). The share of one core at 12,500 readings/s is µs/reading × 1.25 %.
 *
 * BENCH_READINGS (per measurement, default 500,000), BENCH_ROUNDS (default 5; the median is reported).
 */
const INSTALLATIONS = 25_000;
const RULES = 10_000;
const INTERVAL_MS = 2_000;
const READINGS = Number(process.env.BENCH_READINGS ?? 500_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RATE = INSTALLATIONS / (INTERVAL_MS / 1000);

const installations = Array.from({ length: INSTALLATIONS }, (_, i) => ({
  meter: { id: randomUUID(), number: `1BENCH${String(i).padStart(8, '0')}` },
  installation: { id: randomUUID(), externalId: `C-${i + 1}` },
}));
const start = Date.parse('2026-12-07T06:00:00Z');

function reading(n: number): MeterReading {
  const index = n % INSTALLATIONS;
  const time = start + Math.floor(n / INSTALLATIONS) * INTERVAL_MS;
  return {
    ...installations[index]!,
    time: new Date(time).toISOString(),
    receiveTime: new Date(time).toISOString(),
    values: [
      { obisCode: '1-0:1.8.0', value: 1_000_000 + (time - start) / 3_600 + index, unit: 'Wh' },
      { obisCode: '1-0:16.7.0', value: 300 + ((index * 7 + n) % 900), unit: 'W' },
    ],
  };
}

function cpuMicros(run: () => void): number {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const rules = new Map<string, UsageAlertRules>(
    // The power threshold sits inside the readings' range (300 to 1,199 W), so alerts start and end too.
    Array.from({ length: RULES }, (_, i) => [`C-${i * 2 + 1}`, { powerAboveW: 1_150, dailyEnergyAboveKwh: 20, noReadingForMinutes: 30 }]),
  );
  const bus = createLocalAlertBus();
  let published = 0;
  bus.listen(() => (published += 1));
  const evaluator = new UsageAlertEvaluator({
    store: { allRules: async () => rules, rulesOf: async (externalId) => rules.get(externalId)! },
    bus,
    timeZone: 'Europe/Berlin',
    logger: createLogger({ level: 'warn' }),
  });
  await evaluator.start();

  const batch = Array.from({ length: READINGS }, (_, n) => reading(n));
  let sink = 0;
  const results = { evaluator: [] as number[], hub: [] as number[], archive: [] as number[] };
  for (let round = 0; round < ROUNDS; round += 1) {
    // Each round feeds later readings to the evaluator, so none is skipped as a repeat.
    const shifted = batch.map((_item, n) => reading(n + (round + 1) * READINGS));
    results.hub.push(cpuMicros(() => { for (const item of batch) sink += toHubReading(item) ? 1 : 0; }) / READINGS);
    results.archive.push(cpuMicros(() => { for (const item of batch) sink += toArchiveRow(item) ? 1 : 0; }) / READINGS);
    results.evaluator.push(cpuMicros(() => { for (const item of shifted) evaluator.onReading(item); }) / READINGS);
  }
  await evaluator.close();

  const evaluatorUs = median(results.evaluator);
  const hubUs = median(results.hub);
  const archiveUs = median(results.archive);
  const coreShare = (us: number) => ((us * RATE) / 1e6) * 100;
  process.stdout.write(
    [
      `usage alerts: ${INSTALLATIONS} installations, ${RULES} customers with rules, ${READINGS} readings x ${ROUNDS} rounds (median), ${published} alerts published`,
      machineFacts(),
      '| per reading | CPU µs | share of one core at 12,500/s | vs hub payload |',
      '| --- | --- | --- | --- |',
      `| hub payload (toHubReading), baseline | ${hubUs.toFixed(2)} | ${coreShare(hubUs).toFixed(2)} % | 1.00 |`,
      `| archive row (toArchiveRow), baseline | ${archiveUs.toFixed(2)} | ${coreShare(archiveUs).toFixed(2)} % | ${(archiveUs / hubUs).toFixed(2)} |`,
      `| usage alert evaluation | ${evaluatorUs.toFixed(2)} | ${coreShare(evaluatorUs).toFixed(2)} % | ${(evaluatorUs / hubUs).toFixed(2)} |`,
      `(checksum ${sink})`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
