import type { ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSimulatorConfig } from '../../src/config';
import { basicAuthorization } from '../../src/upstream/credentials';
import { customerAuthorizations, staffAuthorizations } from './identities';
import type { Measurement } from './measurement';
import { cpuSeconds, openFileLimit, rssMiB } from './procStats';
import { spawnTypeScript, withServers } from './processes';
import type { BenchSettings } from './settings';
import { startGatewayProcess, startSimulatorProcess, withGatewayDatabase } from './stack';

/**
 * Live readings fan-out: N WebSocket subscribers on one gateway process, which should hold exactly one
 * upstream subscription however large N is. Baseline in the same run, at every level: the same
 * subscribers on bench/servers/wsBaseline.ts, one upstream subscription whose readings are serialized
 * once and written to every socket (issue 13), i.e. what the gateway's auth, execution and
 * per-client work cost on top of the socket writes. The simulator, the server under test and the
 * subscriber workers each run in their own process, so each one's CPU and RSS are its own.
 */
const SELECTION = '{ time receiveTime installation { id } meter { id } values { obisCode value } }';

/** What the subscribers do: their document, who they are, and the readings the simulator makes for them. */
export interface FanOutLoad {
  name: string;
  query: string;
  /** Staff: yes; customers: each reading goes to its installation's one subscriber. */
  everyReadingToEverySubscriber: boolean;
  /** The simulator's world and reading rate for this many subscribers. */
  simulatorEnv(subscribers: number): Record<string, string>;
  /** Each subscriber's connection_init payload: signed in for the gateway, only its scope for the baseline. */
  connectionParams(mode: FanOutRun['mode'], subscribers: number): Promise<Array<Record<string, unknown>>>;
}

/** Staff on `readings`: every subscriber gets every reading, all with one document. */
export function staffLoad(settings: BenchSettings): FanOutLoad {
  return {
    name: 'staff on readings',
    everyReadingToEverySubscriber: true,
    query: `subscription { readings ${SELECTION} }`,
    simulatorEnv: settings.readingSimulatorEnv,
    connectionParams: async (mode, subscribers) => {
      const params = mode === 'gateway' ? { authorization: (await staffAuthorizations(1, 'bench-subscriber'))[0] } : {};
      return Array.from({ length: subscribers }, () => params);
    },
  };
}

/**
 * Issue 13's throughput target, one process sustaining 200,000 deliveries/s to clients sharing a document:
 * staff on `readings` while 20 installations read at once every second, 20 readings/s to every subscriber.
 */
export function sharedDocumentThroughputLoad(settings: BenchSettings): FanOutLoad {
  return {
    ...staffLoad(settings),
    name: 'staff on readings, 20 readings/s each',
    simulatorEnv: () => ({ SIMULATOR_INSTALLATIONS: '20', SIMULATOR_READING_INTERVAL: '1s', SIMULATOR_READING_SCHEDULE: 'aligned' }),
  };
}

/**
 * The mobile app's shape (issue 13): N customers on `myReadings`, each with an installation of their own
 * (the simulator's C-1001, C-1002, …), every installation reading every 10 s at its own phase: N/10
 * readings/s in all, each delivered to one subscriber.
 */
export function mobileLoad(): FanOutLoad {
  return {
    name: 'customers on myReadings',
    everyReadingToEverySubscriber: false,
    query: `subscription { myReadings ${SELECTION} }`,
    simulatorEnv: (subscribers) => ({
      SIMULATOR_INSTALLATIONS: String(subscribers),
      SIMULATOR_READING_INTERVAL: '10s',
      SIMULATOR_READING_SCHEDULE: 'spread',
      // A world this size backfills for long; the fan-out measures live readings only.
      SIMULATOR_HISTORY: '1m',
    }),
    connectionParams: async (mode, subscribers) => {
      const externalIds = Array.from({ length: subscribers }, (_, index) => `C-${1001 + index}`);
      if (mode === 'baseline') return externalIds.map((externalId) => ({ externalId }));
      return (await customerAuthorizations(externalIds)).map((authorization) => ({ authorization }));
    },
  };
}
// One event loop parsing more frames than this starts to delay the readings it measures.
const CLIENTS_PER_WORKER = 2500;
const MIN_WARM_UP_SECONDS = 2;

export interface FanOutRun {
  mode: 'gateway' | 'baseline';
  load: string;
  subscribers: number;
  connected: number;
  upstreamSubscriptions: number;
  idleRssMiB: number;
  peakRssMiB: number;
  cpuPercent: number;
  /** CPU time of the process serving the subscribers per reading delivered to a subscriber. */
  cpuMicrosPerDelivery: number;
  simulatorCpuPercent: number;
  clientCpuPercent: number;
  p50Ms: number;
  p99Ms: number;
  deliveredPerSecond: number;
  errors: Record<string, number>;
}

/** One subscriber level: the gateway and the baseline, back to back, at the same reading rate. */
export interface FanOutLevel {
  load: string;
  subscribers: number;
  installations: number;
  expectedPerSecond: number;
  readingIntervalMs: number;
  gateway: FanOutRun;
  baseline: FanOutRun;
}

export interface FanOutResult {
  levels: FanOutLevel[];
  /** Markdown: the per-run table and the gateway / baseline ratios per level, with the simulator's rate. */
  markdown: string;
  /** Why figures are not comparable (subscribers that did not connect, errors, wrong upstream count); empty when fine. */
  problems: string[];
}

type WorkerMessage =
  | { type: 'ready'; connected: number; failed: number; connectErrors: Record<string, number> }
  | { type: 'live' }
  | { type: 'result'; received: number; delays: Array<[number, number]>; errors: Record<string, number> };

function nextMessage<T extends WorkerMessage['type']>(child: ChildProcess, type: T, timeoutMs: number) {
  return new Promise<Extract<WorkerMessage, { type: T }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`subscriber worker sent no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: WorkerMessage) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as Extract<WorkerMessage, { type: T }>);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`subscriber worker exited with ${code}`)));
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'close' });
  // Closing thousands of sockets takes a moment; past that, it is not worth waiting for.
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function percentile(delays: Array<[number, number]>, total: number, fraction: number): number {
  let seen = 0;
  for (const [ms, count] of delays) {
    seen += count;
    if (seen >= total * fraction) return ms;
  }
  return NaN;
}

function run(mode: FanOutRun['mode'], subscribers: number, load: FanOutLoad, settings: BenchSettings): Promise<FanOutRun> {
  return mode === 'gateway' ? withGatewayDatabase((database) => serve(mode, subscribers, load, settings, database)) : serve(mode, subscribers, load, settings, {});
}

function serve(mode: FanOutRun['mode'], subscribers: number, load: FanOutLoad, settings: BenchSettings, database: Record<string, string>): Promise<FanOutRun> {
  return withServers(async (start) => {
    const simulator = await startSimulatorProcess(start, load.simulatorEnv(subscribers));
    const target =
      mode === 'gateway'
        ? // The reading archive has a bench of its own (bench:archive).
          await startGatewayProcess(start, simulator.endpoint, { ARCHIVE_ENABLED: 'false', ...database })
        : await start('bench/servers/wsBaseline.ts', {
            BENCH_UPSTREAM_WS_URL: simulator.endpoint.wsUrl,
            BENCH_UPSTREAM_AUTHORIZATION: basicAuthorization(simulator.endpoint.token, simulator.endpoint.secret),
          });
    const connectionParams = await load.connectionParams(mode, subscribers);
    const wsUrl = target.url.replace(/^http/, 'ws');
    await sleep(1000);
    const idleRssMiB = rssMiB(target.child.pid!);
    // Peak from here on: the gateway's start-up (mesh build, schema) may peak above its idle RSS.
    target.resetPeakRss();

    const workerCount = Math.ceil(subscribers / CLIENTS_PER_WORKER);
    const workers = Array.from({ length: workerCount }, () =>
      spawnTypeScript('bench/servers/subscribers.ts', {
        env: {
          PATH: process.env.PATH ?? '',
          BENCH_VERBOSE: process.env.BENCH_VERBOSE ?? '',
          BENCH_CONNECT_TIMEOUT: String(settings.connectTimeoutSeconds),
          BENCH_WS_URL: wsUrl,
          BENCH_QUERY: load.query,
          BENCH_UPSTREAM_WS_URL: simulator.endpoint.wsUrl,
          BENCH_UPSTREAM_AUTHORIZATION: basicAuthorization(simulator.endpoint.token, simulator.endpoint.secret),
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    workers.forEach((worker, index) => worker.send({ type: 'connect', connectionParams: connectionParams.filter((_, n) => n % workerCount === index) }));
    try {
      const ready = await Promise.all(workers.map((worker) => nextMessage(worker, 'ready', (settings.connectTimeoutSeconds + 30) * 1000)));
      const connected = ready.reduce((sum, message) => sum + message.connected, 0);
      // Every subscriber connects first, then all subscribe: a handshake never waits behind deliveries.
      // The window opens once every subscriber has had a reading, so no subscribe is still being served.
      const live = workers.map((worker) => nextMessage(worker, 'live', (settings.connectTimeoutSeconds + 30) * 1000));
      for (const worker of workers) worker.send({ type: 'subscribe' });
      await Promise.all(live);
      // Warm-up: JIT settles, and the catch-up readings a new subscriber gets are delivered; under 2 s
      // they land in the measured window as old readings.
      await sleep(Math.max(settings.warmUpSeconds, MIN_WARM_UP_SECONDS) * 1000);

      const pids = { target: target.child.pid!, simulator: simulator.server.child.pid!, workers: workers.map((worker) => worker.pid!) };
      const cpu = () => ({
        target: cpuSeconds(pids.target),
        simulator: cpuSeconds(pids.simulator),
        clients: pids.workers.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
      });
      const before = cpu();
      const started = performance.now();
      for (const worker of workers) worker.send({ type: 'start' });
      await sleep(settings.durationSeconds * 1000);
      const results = await Promise.all(
        workers.map((worker) => {
          const result = nextMessage(worker, 'result', 30_000);
          worker.send({ type: 'stop' });
          return result;
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      const after = cpu();
      // Each worker holds one of its own, to note when readings are emitted.
      const upstreamSubscriptions = (await simulator.activeSubscriptions()) - workerCount;

      const delays = new Map<number, number>();
      const errors: Record<string, number> = {};
      const count = (code: string, n: number) => (errors[code] = (errors[code] ?? 0) + n);
      for (const result of results) {
        for (const [ms, n] of result.delays) delays.set(ms, (delays.get(ms) ?? 0) + n);
        for (const [code, n] of Object.entries(result.errors)) count(code, n);
      }
      for (const message of ready) for (const [code, n] of Object.entries(message.connectErrors)) count(`connection failed (${code})`, n);
      const sorted = [...delays].sort(([a], [b]) => a - b);
      const received = results.reduce((sum, result) => sum + result.received, 0);
      const percent = (key: keyof typeof before) => ((after[key] - before[key]) / elapsed) * 100;
      return {
        mode,
        load: load.name,
        subscribers,
        connected,
        upstreamSubscriptions,
        idleRssMiB,
        peakRssMiB: target.peakRssMiB(),
        cpuPercent: percent('target'),
        cpuMicrosPerDelivery: ((after.target - before.target) / received) * 1e6,
        simulatorCpuPercent: percent('simulator'),
        clientCpuPercent: percent('clients'),
        p50Ms: percentile(sorted, received, 0.5),
        p99Ms: percentile(sorted, received, 0.99),
        deliveredPerSecond: received / elapsed,
        errors,
      };
    } finally {
      await Promise.all(workers.map(stopWorker));
    }
  });
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function table(levels: FanOutLevel[]): string {
  const lines = [
    '| load | run | subscribers | installations, reading every | upstream subscriptions | idle RSS MiB | peak RSS MiB | RSS per subscriber KiB | its CPU % of a core | CPU µs per delivery | simulator CPU % | subscriber workers CPU % | p50 ms | p99 ms | readings delivered/s | expected/s | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const level of levels) {
    for (const run of [level.baseline, level.gateway]) {
      const errors = Object.entries(run.errors).map(([code, count]) => `${code}: ${count}`).join(', ') || '0';
      lines.push(
        `| ${level.load} | ${run.mode === 'gateway' ? 'gateway' : 'ws baseline'} | ${run.connected}/${run.subscribers} | ` +
          `${level.installations}, ${level.readingIntervalMs / 1000} s | ${run.upstreamSubscriptions} | ${fixed(run.idleRssMiB)} | ${fixed(run.peakRssMiB)} | ` +
          `${fixed(((run.peakRssMiB - run.idleRssMiB) * 1024) / run.subscribers, 1)} | ${fixed(run.cpuPercent)} | ${fixed(run.cpuMicrosPerDelivery, 1)} | ` +
          `${fixed(run.simulatorCpuPercent)} | ${fixed(run.clientCpuPercent)} | ${fixed(run.p50Ms)} | ${fixed(run.p99Ms)} | ${fixed(run.deliveredPerSecond)} | ` +
          `${fixed(level.expectedPerSecond)} | ${errors} |`,
      );
    }
  }
  return lines.join('\n');
}

function ratios(levels: FanOutLevel[]): string {
  const ratio = (a: number, b: number) => `${fixed(a / b, 2)}×`;
  const lines = [
    '| load | subscribers | p50 ms gateway / baseline | p99 ms gateway / baseline | p99 ratio (target ≤ 1.5×) | CPU µs per delivery gateway / baseline | CPU ratio (target ≤ 2×) | peak RSS MiB gateway / baseline |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { load, subscribers, gateway, baseline } of levels) {
    lines.push(
      `| ${load} | ${subscribers} | ${fixed(gateway.p50Ms)} / ${fixed(baseline.p50Ms)} | ${fixed(gateway.p99Ms)} / ${fixed(baseline.p99Ms)} | ${ratio(gateway.p99Ms, baseline.p99Ms)} | ` +
        `${fixed(gateway.cpuMicrosPerDelivery, 1)} / ${fixed(baseline.cpuMicrosPerDelivery, 1)} | ${ratio(gateway.cpuMicrosPerDelivery, baseline.cpuMicrosPerDelivery)} | ` +
        `${fixed(gateway.peakRssMiB)} / ${fixed(baseline.peakRssMiB)} |`,
    );
  }
  return lines.join('\n');
}

/** The baseline, then the gateway, under `load` at each subscriber count, back to back. */
export async function runFanOut(settings: BenchSettings, loads: Array<{ load: FanOutLoad; subscribers: number[] }>): Promise<FanOutResult> {
  // Each loopback connection costs one descriptor in the server; leave room for its other files.
  const maxSubscribers = openFileLimit() - 1000;
  const capped = loads.flatMap(({ subscribers }) => subscribers).filter((n) => n > maxSubscribers);

  const levels: FanOutLevel[] = [];
  const failed: string[] = [];
  for (const { load, subscribers: counts } of loads) {
    for (const subscribers of counts.map((n) => Math.min(n, maxSubscribers))) {
      const simulatorConfig = loadSimulatorConfig(load.simulatorEnv(subscribers));
      let baseline: FanOutRun;
      let gateway: FanOutRun;
      try {
        process.stderr.write(`fan-out: ${load.name}, ws baseline, ${subscribers} subscribers…\n`);
        baseline = await run('baseline', subscribers, load, settings);
        process.stderr.write(`fan-out: ${load.name}, gateway, ${subscribers} subscribers…\n`);
        gateway = await run('gateway', subscribers, load, settings);
      } catch (error) {
        // A level that cannot be measured (subscribers never all live) is reported; the other levels still are.
        failed.push(`${load.name}, ${subscribers} subscribers: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      const readingsPerSecond = simulatorConfig.installations / (simulatorConfig.readingIntervalMs / 1000);
      levels.push({
        load: load.name,
        subscribers,
        installations: simulatorConfig.installations,
        readingIntervalMs: simulatorConfig.readingIntervalMs,
        expectedPerSecond: load.everyReadingToEverySubscriber ? readingsPerSecond * subscribers : readingsPerSecond,
        gateway,
        baseline,
      });
    }
  }

  const markdown = [
    'Staff: the installations read at once (SIMULATOR_READING_SCHEDULE=aligned), received 50 ms later, every reading to every subscriber; ' +
      'customers: each installation at its own phase, each reading to its one customer. ' +
      'Delays are from the simulator emitting a reading (its arrival at the subscriber worker straight from the simulator) to its arrival through the server under test: ' +
      'what the server adds, without the simulator tick (a reading is emitted up to 250 ms after its receiveTime). ' +
      `CPU % is of one core (this machine has ${cpus().length}); load average ${loadavg().map((n) => n.toFixed(2)).join(' / ')} at the end.`,
    ...(failed.length > 0 ? ['', `Not measured: ${failed.join('; ')}.`] : []),
    ...(capped.length > 0 ? ['', `Capped at ${maxSubscribers} subscribers by the open-file limit (${openFileLimit()}); asked for ${capped.join(', ')}.`] : []),
    '',
    table(levels),
    '',
    ratios(levels),
  ].join('\n');

  const runs = levels.flatMap((level) => [level.baseline, level.gateway]);
  const named = (r: FanOutRun) => `${r.load}, ${r.mode} ${r.subscribers}`;
  const problems = [
    ...failed,
    ...runs.filter((r) => r.connected < r.subscribers).map((r) => `${named(r)}: ${r.subscribers - r.connected} subscribers did not connect`),
    ...runs.filter((r) => Object.keys(r.errors).length > 0).map((r) => `${named(r)}: errors ${JSON.stringify(r.errors)}`),
    ...runs.filter((r) => r.upstreamSubscriptions !== 1).map((r) => `${named(r)}: ${r.upstreamSubscriptions} upstream subscriptions`),
    ...runs.filter((r) => r.deliveredPerSecond === 0).map((r) => `${named(r)}: no readings delivered`),
  ];
  return { levels, markdown, problems };
}

/** A fan-out run as one side of the suite's comparison table: throughput is readings delivered per second. */
export function fanOutMeasurement(run: FanOutRun): Measurement {
  return {
    name:
      run.mode === 'gateway'
        ? `${run.subscribers} WebSocket subscribers on the gateway (${run.upstreamSubscriptions} upstream subscription)`
        : 'the same on the minimal ws server (one upstream subscription, no execution)',
    throughputPerSecond: run.deliveredPerSecond,
    p50Ms: run.p50Ms,
    p99Ms: run.p99Ms,
    cpuMicrosPerRequest: run.cpuMicrosPerDelivery,
    peakRssMiB: run.peakRssMiB,
    // Subscribers that did not connect are among the errors, as 'connection failed (…)'.
    errors: Object.values(run.errors).reduce((sum, count) => sum + count, 0),
  };
}
