import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSimulatorConfig } from '../src/config';
import { jose } from '../src/identity/jose';
import { cpuSeconds, openFileLimit, rssMiB } from './lib/procStats';
import { startServerProcess, type ServerProcess } from './lib/processes';

/**
 * Live readings fan-out: N WebSocket subscribers on one gateway process, which should hold exactly one
 * upstream subscription however large N is. Baseline in the same run: the same subscribers straight
 * on the simulator, which is what "one upstream subscription per client" would cost IOmeter.
 * The simulator, the gateway and the subscriber workers each run in their own process; the simulator
 * is separate so its open subscriptions can be counted (GET /stats) and its CPU measured.
 *
 * BENCH_SUBSCRIBERS (default 1000,5000,10000), BENCH_DURATION (seconds per level, default 10),
 * BENCH_DIRECT_MAX (largest N for the direct baseline, default 1000), SIMULATOR_INSTALLATIONS and
 * SIMULATOR_READING_INTERVAL (default 25 every 2s = 12.5 readings/s).
 */
const root = join(__dirname, '..');
const levels = (process.env.BENCH_SUBSCRIBERS ?? '1000,5000,10000').split(',').map(Number);
const durationSeconds = Number(process.env.BENCH_DURATION ?? 10);
const directMax = Number(process.env.BENCH_DIRECT_MAX ?? 1000);
const simulatorEnv = {
  SIMULATOR_INSTALLATIONS: process.env.SIMULATOR_INSTALLATIONS ?? '25',
  SIMULATOR_READING_INTERVAL: process.env.SIMULATOR_READING_INTERVAL ?? '2s',
};
const simulatorConfig = loadSimulatorConfig(simulatorEnv);
const emittedPerSecond = simulatorConfig.installations / (simulatorConfig.readingIntervalMs / 1000);
// The simulator emits each reading on its next tick after its receiveTime (src/simulator/generator.ts),
// so every measured delay includes up to one tick: the floor both runs share.
const tickMs = Math.min(Math.max(simulatorConfig.readingIntervalMs / 4, 10), 250);
const QUERY = 'subscription { readings { meter { id } time receiveTime } }';
// One event loop parsing more frames than this starts to delay the readings it measures.
const CLIENTS_PER_WORKER = 2500;
const jwtSecret = randomBytes(32).toString('hex');
const connectTimeoutSeconds = Number(process.env.BENCH_CONNECT_TIMEOUT ?? 60);
// Everything this bench started, so an interrupt does not leave thousands of sockets behind.
const children = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  });
}

interface Run {
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

function startWorker(clients: number, wsUrl: string, authorization: string): ChildProcess {
  return track(spawn(process.execPath, ['--import', 'tsx', 'bench/servers/subscribers.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', BENCH_VERBOSE: process.env.BENCH_VERBOSE ?? '', BENCH_WS_URL: wsUrl, BENCH_CLIENTS: String(clients), BENCH_AUTHORIZATION: authorization, BENCH_QUERY: QUERY },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }));
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A server busy with thousands of sockets may take long to shut down; past 15 s it is killed. */
async function stopServer(server: ServerProcess): Promise<void> {
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await server.stop();
  clearTimeout(timer);
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

async function simulatorStats(server: ServerProcess) {
  const response = await fetch(server.url);
  return (await response.json()) as { url: string; wsUrl: string; token: string; secret: string; activeSubscriptions: number };
}

function percentile(delays: Array<[number, number]>, total: number, fraction: number): number {
  let seen = 0;
  for (const [ms, count] of delays) {
    seen += count;
    if (seen >= total * fraction) return ms;
  }
  return NaN;
}

async function run(mode: Run['mode'], subscribers: number): Promise<Run> {
  const cleanup: Array<() => Promise<void>> = [];
  try {
    const simulator = await startServerProcess('bench/servers/simulator.ts', simulatorEnv);
    track(simulator.child);
    cleanup.unshift(() => stopServer(simulator));
    const endpoint = await simulatorStats(simulator);
    let target = simulator;
    let wsUrl = endpoint.wsUrl;
    let authorization = `Basic ${Buffer.from(`${endpoint.token}:${endpoint.secret}`).toString('base64')}`;
    if (mode === 'gateway') {
      target = await startServerProcess('src/main.ts', {
        IOMETER_ENDPOINT: endpoint.url,
        IOMETER_TOKEN: endpoint.token,
        IOMETER_SECRET: endpoint.secret,
        AUTH_JWT_SECRET: jwtSecret,
        // Thousands of subscriptions from one loopback address would exceed any per-client limit.
        RATE_LIMIT_ENABLED: 'false',
        // The ready line the bench waits for is logged at info.
        LOG_LEVEL: 'info',
      });
      track(target.child);
      cleanup.unshift(() => stopServer(target));
      wsUrl = target.url.replace(/^http/, 'ws');
      const token = await new jose.SignJWT({ role: 'staff' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('bench-subscriber')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(jwtSecret));
      authorization = `Bearer ${token}`;
    }
    await sleep(1000);
    const idleRssMiB = rssMiB(target.child.pid!);
    // Peak from here on: the gateway's start-up (mesh build, schema) may peak above its idle RSS.
    let peakRssMiB = idleRssMiB;
    const poll = setInterval(() => {
      // A crashed process is reported by its missing results, not by a throw in this timer.
      if (target.child.exitCode === null) peakRssMiB = Math.max(peakRssMiB, rssMiB(target.child.pid!));
    }, 250);
    cleanup.unshift(async () => clearInterval(poll));

    const workerCount = Math.ceil(subscribers / CLIENTS_PER_WORKER);
    const workers = Array.from({ length: workerCount }, (_, index) =>
      startWorker(Math.floor(subscribers / workerCount) + (index < subscribers % workerCount ? 1 : 0), wsUrl, authorization),
    );
    cleanup.unshift(async () => void (await Promise.all(workers.map(stopWorker))));
    const ready = await Promise.all(workers.map((worker) => nextMessage(worker, 'ready', (connectTimeoutSeconds + 30) * 1000)));
    const connected = ready.reduce((sum, message) => sum + message.connected, 0);
    // Warm-up: subscriptions reach the hub (or the simulator), JIT settles.
    await sleep(2000);

    const pids = { target: target.child.pid!, simulator: simulator.child.pid!, workers: workers.map((worker) => worker.pid!) };
    const cpu = () => ({
      target: cpuSeconds(pids.target),
      simulator: cpuSeconds(pids.simulator),
      clients: pids.workers.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    });
    const before = cpu();
    const started = performance.now();
    for (const worker of workers) worker.send({ type: 'start' });
    await sleep(durationSeconds * 1000);
    const results = await Promise.all(
      workers.map((worker) => {
        const result = nextMessage(worker, 'result', 30_000);
        worker.send({ type: 'stop' });
        return result;
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const after = cpu();
    const { activeSubscriptions } = await simulatorStats(simulator);

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
      upstreamSubscriptions: activeSubscriptions,
      idleRssMiB,
      peakRssMiB,
      cpuPercent: percent('target'),
      simulatorCpuPercent: percent('simulator'),
      clientCpuPercent: percent('clients'),
      p50Ms: percentile(sorted, received, 0.5),
      p99Ms: percentile(sorted, received, 0.99),
      deliveredPerSecond: received / elapsed,
      errors,
    };
  } finally {
    for (const step of cleanup) await step();
  }
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function table(runs: Run[]): string {
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
        `${fixed(run.subscribers * emittedPerSecond)} | ${errors} |`,
    );
  }
  return lines.join('\n');
}

function ratios(gateway: Run, direct: Run): string {
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

async function main(): Promise<void> {
  // Each loopback connection costs one descriptor in the gateway; leave room for its other files.
  const maxSubscribers = openFileLimit() - 1000;
  const capped = levels.filter((n) => n > maxSubscribers);
  const counts = levels.map((n) => Math.min(n, maxSubscribers));
  const directCount = Math.min(...counts, directMax);

  const runs: Run[] = [];
  const skipped: number[] = [];
  for (const subscribers of counts) {
    // Once the gateway cannot take on all subscribers of a level, larger levels only take longer to fail.
    if (runs.some((r) => r.connected < r.subscribers)) {
      skipped.push(subscribers);
      continue;
    }
    process.stderr.write(`gateway, ${subscribers} subscribers…\n`);
    runs.push(await run('gateway', subscribers));
  }
  process.stderr.write(`direct to simulator, ${directCount} subscribers…\n`);
  const direct = await run('direct', directCount);
  runs.push(direct);
  const gatewayAtDirect = runs.find((r) => r.mode === 'gateway' && r.subscribers === directCount) ?? (await run('gateway', directCount));

  process.stdout.write(
    [
      `## Live readings fan-out (${new Date().toISOString()}, ${durationSeconds} s per level)`,
      '',
      `Simulator: ${simulatorConfig.installations} installations every ${simulatorConfig.readingIntervalMs} ms = ${emittedPerSecond} readings/s; ` +
        `delays are receiveTime → client receipt and include up to ${tickMs} ms of simulator tick. CPU % is of one core (this machine has ${cpus().length}).`,
      skipped.length > 0
        ? `\nSkipped ${skipped.join(', ')} subscribers: the gateway did not accept all subscribers of a smaller level within ${connectTimeoutSeconds} s (saturated).`
        : '',
      capped.length > 0 ? `\nCapped at ${maxSubscribers} subscribers by the open-file limit (${openFileLimit()}); asked for ${capped.join(', ')}.` : '',
      '',
      table(runs),
      '',
      ratios(gatewayAtDirect, direct),
    ].join('\n') + '\n',
  );

  const problems = [
    ...runs.filter((r) => r.connected < r.subscribers).map((r) => `${r.mode} ${r.subscribers}: ${r.subscribers - r.connected} subscribers did not connect`),
    ...runs.filter((r) => Object.keys(r.errors).length > 0).map((r) => `${r.mode} ${r.subscribers}: subscription errors ${JSON.stringify(r.errors)}`),
    ...runs
      .filter((r) => r.upstreamSubscriptions !== (r.mode === 'gateway' ? 1 : r.subscribers))
      .map((r) => `${r.mode} ${r.subscribers}: ${r.upstreamSubscriptions} upstream subscriptions`),
    ...skipped.map((n) => `gateway ${n}: skipped`),
    ...runs.filter((r) => r.deliveredPerSecond === 0).map((r) => `${r.mode} ${r.subscribers}: no readings delivered`),
  ];
  if (problems.length > 0) {
    process.stderr.write(`Failed (figures of these runs are not comparable):\n  ${problems.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
