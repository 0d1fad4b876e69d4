import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSimulatorConfig } from '../../src/config';
import { basicAuthorization } from '../../src/upstream/credentials';
import { staffAuthorizations } from './identities';
import type { Measurement } from './measurement';
import { cpuSeconds, openFileLimit, rssMiB } from './procStats';
import { spawnTypeScript, withServers } from './processes';
import type { BenchSettings } from './settings';
import { startGatewayProcess, startSimulatorProcess } from './stack';

/**
 * Live readings fan-out: N WebSocket subscribers on one gateway process, which should hold exactly one
 * upstream subscription however large N is. Baseline in the same run: the same subscribers straight
 * on the simulator, which is what "one upstream subscription per client" would cost IOmeter.
 * The simulator, the gateway and the subscriber workers each run in their own process; the simulator
 * is separate so its open subscriptions can be counted and its CPU measured.
 */
const QUERY = 'subscription { readings { meter { id } time receiveTime } }';
// One event loop parsing more frames than this starts to delay the readings it measures.
const CLIENTS_PER_WORKER = 2500;
const MIN_WARM_UP_SECONDS = 2;

export interface FanOutRun {
  mode: 'gateway' | 'direct';
  subscribers: number;
  connected: number;
  upstreamSubscriptions: number;
  idleRssMiB: number;
  peakRssMiB: number;
  cpuPercent: number;
  simulatorCpuPercent: number;
  clientCpuPercent: number;
  p50Ms: number;
  p99Ms: number;
  deliveredPerSecond: number;
  errors: Record<string, number>;
}

export interface FanOutResult {
  /** Gateway runs by level, then the direct baseline. */
  runs: FanOutRun[];
  direct: FanOutRun;
  /** The gateway run with as many subscribers as the direct baseline. */
  gatewayAtDirect: FanOutRun;
  /** Markdown: the per-run table and the gateway / direct ratios, with the simulator's rate. */
  markdown: string;
  /** Why figures are not comparable (subscribers that did not connect, errors, wrong upstream count); empty when fine. */
  problems: string[];
}

type WorkerMessage =
  | { type: 'ready'; connected: number; failed: number }
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

function run(mode: FanOutRun['mode'], subscribers: number, settings: BenchSettings): Promise<FanOutRun> {
  return withServers(async (start) => {
    const simulator = await startSimulatorProcess(start, settings.readingSimulatorEnv);
    let target = simulator.server;
    let wsUrl = simulator.endpoint.wsUrl;
    let authorization = basicAuthorization(simulator.endpoint.token, simulator.endpoint.secret);
    if (mode === 'gateway') {
      target = await startGatewayProcess(start, simulator.endpoint);
      wsUrl = target.url.replace(/^http/, 'ws');
      [authorization] = (await staffAuthorizations(1, 'bench-subscriber')) as [string];
    }
    await sleep(1000);
    const idleRssMiB = rssMiB(target.child.pid!);
    // Peak from here on: the gateway's start-up (mesh build, schema) may peak above its idle RSS.
    target.resetPeakRss();

    const workerCount = Math.ceil(subscribers / CLIENTS_PER_WORKER);
    const workers = Array.from({ length: workerCount }, (_, index) =>
      spawnTypeScript('bench/servers/subscribers.ts', {
        env: {
          PATH: process.env.PATH ?? '',
          BENCH_VERBOSE: process.env.BENCH_VERBOSE ?? '',
          BENCH_CONNECT_TIMEOUT: String(settings.connectTimeoutSeconds),
          BENCH_WS_URL: wsUrl,
          BENCH_CLIENTS: String(Math.floor(subscribers / workerCount) + (index < subscribers % workerCount ? 1 : 0)),
          BENCH_AUTHORIZATION: authorization,
          BENCH_QUERY: QUERY,
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    try {
      const ready = await Promise.all(workers.map((worker) => nextMessage(worker, 'ready', (settings.connectTimeoutSeconds + 30) * 1000)));
      const connected = ready.reduce((sum, message) => sum + message.connected, 0);
      // Warm-up: subscriptions reach the hub (or the simulator), JIT settles, and the catch-up readings a
      // new subscriber gets are delivered; under 2 s they land in the measured window as old readings.
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
      const upstreamSubscriptions = await simulator.activeSubscriptions();

      const delays = new Map<number, number>();
      const errors: Record<string, number> = {};
      for (const result of results) {
        for (const [ms, count] of result.delays) delays.set(ms, (delays.get(ms) ?? 0) + count);
        for (const [code, count] of Object.entries(result.errors)) errors[code] = (errors[code] ?? 0) + count;
      }
      const failed = ready.reduce((sum, message) => sum + message.failed, 0);
      if (failed > 0) errors['connection failed'] = failed;
      const sorted = [...delays].sort(([a], [b]) => a - b);
      const received = results.reduce((sum, result) => sum + result.received, 0);
      const percent = (key: keyof typeof before) => ((after[key] - before[key]) / elapsed) * 100;
      return {
        mode,
        subscribers,
        connected,
        upstreamSubscriptions,
        idleRssMiB,
        peakRssMiB: target.peakRssMiB(),
        cpuPercent: percent('target'),
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

function table(runs: FanOutRun[], expectedPerSubscriber: number): string {
  const lines = [
    '| run | subscribers | upstream subscriptions | process measured | idle RSS MiB | peak RSS MiB | RSS per subscriber KiB | its CPU % of a core | simulator CPU % | subscriber workers CPU % | p50 ms | p99 ms | readings delivered/s | expected/s | errors |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const run of runs) {
    const errors = Object.entries(run.errors).map(([code, count]) => `${code}: ${count}`).join(', ') || '0';
    lines.push(
      `| ${run.mode === 'gateway' ? 'gateway (multiplexed)' : 'direct to simulator (baseline)'} | ${run.connected}/${run.subscribers} | ` +
        `${run.upstreamSubscriptions} | ${run.mode === 'gateway' ? 'gateway' : 'simulator'} | ${fixed(run.idleRssMiB)} | ${fixed(run.peakRssMiB)} | ` +
        `${fixed(((run.peakRssMiB - run.idleRssMiB) * 1024) / run.subscribers, 1)} | ${fixed(run.cpuPercent)} | ${fixed(run.simulatorCpuPercent)} | ` +
        `${fixed(run.clientCpuPercent)} | ${fixed(run.p50Ms)} | ${fixed(run.p99Ms)} | ${fixed(run.deliveredPerSecond)} | ` +
        `${fixed(run.subscribers * expectedPerSubscriber)} | ${errors} |`,
    );
  }
  return lines.join('\n');
}

function ratios(gateway: FanOutRun, direct: FanOutRun): string {
  const ratio = (a: number, b: number) => `${fixed(a / b, 2)}×`;
  return [
    `| at ${direct.subscribers} subscribers | gateway | direct | gateway / direct |`,
    '| --- | ---: | ---: | ---: |',
    `| upstream subscriptions | ${gateway.upstreamSubscriptions} | ${direct.upstreamSubscriptions} | ${ratio(gateway.upstreamSubscriptions, direct.upstreamSubscriptions)} |`,
    `| simulator CPU % | ${fixed(gateway.simulatorCpuPercent, 1)} | ${fixed(direct.simulatorCpuPercent, 1)} | ${ratio(gateway.simulatorCpuPercent, direct.simulatorCpuPercent)} |`,
    `| CPU % of the process serving the subscribers | ${fixed(gateway.cpuPercent, 1)} | ${fixed(direct.cpuPercent, 1)} | ${ratio(gateway.cpuPercent, direct.cpuPercent)} |`,
    `| peak RSS MiB of that process | ${fixed(gateway.peakRssMiB)} | ${fixed(direct.peakRssMiB)} | ${ratio(gateway.peakRssMiB, direct.peakRssMiB)} |`,
    `| p50 / p99 ms | ${fixed(gateway.p50Ms)} / ${fixed(gateway.p99Ms)} | ${fixed(direct.p50Ms)} / ${fixed(direct.p99Ms)} | ${ratio(gateway.p50Ms, direct.p50Ms)} / ${ratio(gateway.p99Ms, direct.p99Ms)} |`,
  ].join('\n');
}

/** Runs the gateway at each of settings.subscriberLevels, then the direct baseline at the smallest level (at most directMax). */
export async function runFanOut(settings: BenchSettings): Promise<FanOutResult> {
  const simulatorConfig = loadSimulatorConfig(settings.readingSimulatorEnv);
  const emittedPerSecond = simulatorConfig.installations / (simulatorConfig.readingIntervalMs / 1000);
  // The simulator emits each reading on its next tick after its receiveTime (src/simulator/generator.ts),
  // so every measured delay includes up to one tick: the floor both runs share.
  const tickMs = Math.min(Math.max(simulatorConfig.readingIntervalMs / 4, 10), 250);
  // Each loopback connection costs one descriptor in the gateway; leave room for its other files.
  const maxSubscribers = openFileLimit() - 1000;
  const capped = settings.subscriberLevels.filter((n) => n > maxSubscribers);
  const counts = settings.subscriberLevels.map((n) => Math.min(n, maxSubscribers));
  const directCount = Math.min(...counts, settings.directMax);

  const runs: FanOutRun[] = [];
  const skipped: number[] = [];
  for (const subscribers of counts) {
    // Once the gateway cannot take on all subscribers of a level, larger levels only take longer to fail.
    if (runs.some((r) => r.connected < r.subscribers)) {
      skipped.push(subscribers);
      continue;
    }
    process.stderr.write(`fan-out: gateway, ${subscribers} subscribers…\n`);
    runs.push(await run('gateway', subscribers, settings));
  }
  process.stderr.write(`fan-out: direct to simulator, ${directCount} subscribers…\n`);
  const direct = await run('direct', directCount, settings);
  runs.push(direct);
  const gatewayAtDirect = runs.find((r) => r.mode === 'gateway' && r.subscribers === directCount) ?? (await run('gateway', directCount, settings));

  const markdown = [
    `Simulator: ${simulatorConfig.installations} installations every ${simulatorConfig.readingIntervalMs} ms = ${emittedPerSecond} readings/s; ` +
      `delays are receiveTime → client receipt and include up to ${tickMs} ms of simulator tick. CPU % is of one core (this machine has ${cpus().length}).`,
    ...(skipped.length > 0
      ? ['', `Skipped ${skipped.join(', ')} subscribers: the gateway did not accept all subscribers of a smaller level within ${settings.connectTimeoutSeconds} s (saturated).`]
      : []),
    ...(capped.length > 0 ? ['', `Capped at ${maxSubscribers} subscribers by the open-file limit (${openFileLimit()}); asked for ${capped.join(', ')}.`] : []),
    '',
    table(runs, emittedPerSecond),
    '',
    ratios(gatewayAtDirect, direct),
  ].join('\n');

  const problems = [
    ...runs.filter((r) => r.connected < r.subscribers).map((r) => `${r.mode} ${r.subscribers}: ${r.subscribers - r.connected} subscribers did not connect`),
    ...runs.filter((r) => Object.keys(r.errors).length > 0).map((r) => `${r.mode} ${r.subscribers}: subscription errors ${JSON.stringify(r.errors)}`),
    ...runs
      .filter((r) => r.upstreamSubscriptions !== (r.mode === 'gateway' ? 1 : r.subscribers))
      .map((r) => `${r.mode} ${r.subscribers}: ${r.upstreamSubscriptions} upstream subscriptions`),
    ...skipped.map((n) => `gateway ${n}: skipped`),
    ...runs.filter((r) => r.deliveredPerSecond === 0).map((r) => `${r.mode} ${r.subscribers}: no readings delivered`),
  ];
  return { runs, direct, gatewayAtDirect, markdown, problems };
}

/** A fan-out run as one side of the suite's comparison table: throughput is readings delivered per second. */
export function fanOutMeasurement(run: FanOutRun): Measurement {
  return {
    name:
      run.mode === 'gateway'
        ? `${run.subscribers} WebSocket subscribers on the gateway (${run.upstreamSubscriptions} upstream subscription)`
        : `the same straight at the simulator (${run.upstreamSubscriptions} upstream subscriptions)`,
    throughputPerSecond: run.deliveredPerSecond,
    p50Ms: run.p50Ms,
    p99Ms: run.p99Ms,
    peakRssMiB: run.peakRssMiB,
    // Subscribers that did not connect are among the errors, as 'connection failed'.
    errors: Object.values(run.errors).reduce((sum, count) => sum + count, 0),
  };
}
