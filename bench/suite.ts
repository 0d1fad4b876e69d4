import { join } from 'node:path';
import { fanOutMeasurement, runFanOut, staffLoad, type FanOutLevel } from './lib/fanOut';
import { staffAuthorizations } from './lib/identities';
import { archiveStallTable, runArchiveStall } from './lib/archiveStall';
import { measureLoad } from './lib/load';
import { withServers } from './lib/processes';
import { PASSTHROUGH, runQueryPath } from './lib/queryPath';
import { comparisonTable, failedMeasurements, latencyTable, machineFacts, recordSection, targetTable, type Comparison } from './lib/report';
import { readSettings } from './lib/settings';
import { answeredFromCache, withGateway, withRedisPrefix } from './lib/stack';

/**
 * `npm run bench`: the whole suite in one run on one machine, every scenario as a ratio to a baseline
 * measured in this run (docs/operations.md, "Benchmarks"):
 *   1. the query path (bench/lib/queryPath.ts): the gateway (cache off) and Hive Gateway in proxy mode
 *      vs the same queries straight at the simulator, saturated and at one connection, CPU per request,
 *      and a stitched query vs the same without the stitched field;
 *   2. a response cache hit vs bare graphql-yoga answering a static resolver;
 *   3. queries while the reading archive writes to the embedded database vs the same without the
 *      archive, with the gateway's event-loop delay (bench/lib/archiveStall.ts);
 *   4. live readings fan-out: subscribers on the gateway vs the same subscribers on a minimal ws server.
 * Every server runs in a process of its own. A full run records its tables in docs/benchmarks.md;
 * `--smoke` only proves the harness works and records nothing.
 */
const RESULTS_FILE = join(__dirname, '..', 'docs', 'benchmarks.md');
const CACHE_HIT_TARGET = 0.8;
/** Issue 12 §5: archive batches must not block the event loop for milliseconds at a time. */
const ARCHIVE_ADDED_DELAY_TARGET_MS = 1;

async function main(): Promise<void> {
  const settings = readSettings([1000]);
  const startedAt = new Date();
  const machine = machineFacts();
  const [staff] = (await staffAuthorizations(1)) as [string];
  const step = (name: string) => process.stderr.write(`${Math.round((Date.now() - startedAt.getTime()) / 1000)} s: ${name}…\n`);

  const queryPath = await runQueryPath(settings, staff, step);

  step('cache hit');
  const cacheHit = await withRedisPrefix(settings.redisUrl, (redis) =>
    withGateway(redis, (gateway) =>
      measureLoad('cache hit (Redis), installations query', gateway, { query: PASSTHROUGH, headerSets: [{ authorization: staff }], checkAnswer: answeredFromCache }, settings),
    ),
  );
  const staticYoga = await withServers(async (start) =>
    measureLoad('bare graphql-yoga, static resolver', await start('bench/servers/staticYoga.ts'), { query: '{ hello }' }, settings),
  );
  const cacheRatio = cacheHit.throughputPerSecond / staticYoga.throughputPerSecond;

  step('archive writes and the event loop');
  const archiveStall = await runArchiveStall(settings, staff);
  const addedDelay = archiveStall.archiveOn.delay.p99Ms - archiveStall.archiveOff.delay.p99Ms;
  const targets = [
    ...queryPath.targets,
    { figure: 'cache hit / bare yoga static resolver', value: cacheRatio, shown: `${cacheRatio.toFixed(2)}×`, target: `≥ ${CACHE_HIT_TARGET.toFixed(2)}×`, met: cacheRatio >= CACHE_HIT_TARGET },
    {
      figure: 'event-loop delay p99 added by archive writes (PGlite)',
      value: addedDelay,
      shown: `${addedDelay >= 0 ? '+' : ''}${addedDelay.toFixed(2)} ms`,
      target: `≤ +${ARCHIVE_ADDED_DELAY_TARGET_MS} ms`,
      met: addedDelay <= ARCHIVE_ADDED_DELAY_TARGET_MS,
    },
  ];

  step('fan-out');
  const fanOut = await runFanOut(settings, [{ load: staffLoad(settings), subscribers: settings.subscriberLevels }]);
  const [fanOutLevel] = fanOut.levels as [FanOutLevel];
  const fanOutScenario = fanOutMeasurement(fanOutLevel.gateway);
  const rows: Comparison[] = [
    ...queryPath.saturated,
    { scenario: cacheHit, baseline: staticYoga },
    { scenario: archiveStall.archiveOn.measurement, baseline: archiveStall.archiveOff.measurement },
    { scenario: { ...fanOutScenario, name: `fan-out: ${fanOutScenario.name}` }, baseline: fanOutMeasurement(fanOutLevel.baseline) },
  ];

  const problems = [...failedMeasurements([...rows, ...queryPath.oneConnection]).map((name) => `${name}: errors during the run`), ...fanOut.problems];
  const section = [
    `## Suite (\`npm run bench\`), ${startedAt.toISOString().slice(0, 10)}${settings.provisional ? ' — PROVISIONAL' : ''}`,
    ...(settings.provisional
      ? ['', '> Provisional: measured on a machine shared with other engineers running tests, so the figures are noisy. To be rerun on a quiet machine.']
      : []),
    '',
    `Machine: ${machine}. Started ${startedAt.toISOString()}, ${settings.durationSeconds} s per measured run ` +
      `after ${settings.warmUpSeconds} s of warm-up; HTTP load from autocannon in the bench process (connections as named). ` +
      'Every server ran in a process of its own; the gateway (response cache off, not sandbox mode) and Hive Gateway (proxy mode) ' +
      'fronted one simulator process, which the direct runs called too; one load ran at a time.',
    '',
    '### Targets (issue 12)',
    '',
    targetTable(targets),
    '',
    '### Saturated',
    '',
    comparisonTable(rows),
    '',
    'Throughput is requests/s (fan-out: readings delivered/s); CPU is user + system time of the process serving the load per request ' +
      '(the direct runs: the simulator\'s own); peak RSS is that of the process serving the load, during the measured run ' +
      '(fan-out: from idle through connect and delivery). Ratios are scenario / baseline: above 1 is better for throughput, below 1 for latency, CPU and RSS.',
    '',
    '### One connection',
    '',
    latencyTable(queryPath.oneConnection),
    '',
    'One client on one keep-alive connection, each request sent when the previous answer arrived; latency measured to the microsecond.',
    ...(problems.length > 0 ? ['', 'Not comparable (errors or failed checks):', ...problems.map((problem) => `- ${problem}`)] : []),
    '',
    '### Archive writes and the event loop',
    '',
    archiveStallTable(archiveStall),
    '',
    'The gateway\'s event-loop delay (perf_hooks, 1 ms resolution) over each measured run, from a probe in its process ' +
      '(bench/servers/gatewayWithEventLoopProbe.ts); one staff client held a `readings` subscription in both runs.',
    '',
    '### Fan-out detail',
    '',
    fanOut.markdown,
  ].join('\n');

  step('done');
  process.stdout.write(`${section}\n`);
  if (settings.smoke) {
    process.stderr.write('Smoke run: nothing recorded.\n');
  } else {
    recordSection(RESULTS_FILE, section);
    process.stderr.write(`Recorded in ${RESULTS_FILE}.\n`);
  }
  if (problems.length > 0) {
    process.stderr.write(`Failed (figures of these runs are not comparable):\n  ${problems.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
