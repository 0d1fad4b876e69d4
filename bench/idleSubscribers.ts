import { setTimeout as sleep } from 'node:timers/promises';
import { loadavg } from 'node:os';
import { basicAuthorization } from '../src/upstream/credentials';
import { mobileLoad } from './lib/fanOut';
import { rssMiB } from './lib/procStats';
import { spawnTypeScript, withServers, type ServerProcess } from './lib/processes';
import { startGatewayProcess, startSimulatorProcess, withGatewayDatabase } from './lib/stack';

/**
 * `npm run bench:idle-subscribers`: RSS per idle subscriber (issue 13 §4, target ≤ 20 KiB). N customers
 * (BENCH_MOBILE_CUSTOMERS, default 3,000; not the fan-out's default) connect and subscribe to myReadings while their installations
 * read once an hour, so nothing is delivered; the server's RSS before and after, per subscriber. The
 * baseline in the same run: the same subscribers on bench/servers/wsBaseline.ts. BENCH_HEAP_SNAPSHOT_DIR:
 * the gateway writes a heap snapshot there idle and with its subscribers (SIGUSR2), to diff by constructor.
 */
// Long enough for the subscribe burst to settle (JIT, the first GCs) before RSS is read.
const SETTLE_MS = 5000;

/** Writing a snapshot of ~200 MB blocks the process for seconds; the wait covers it on a busy machine. */
const SNAPSHOT_MS = 15_000;

async function snapshot(server: ServerProcess, dir: string | undefined): Promise<void> {
  if (!dir) return;
  server.child.kill('SIGUSR2');
  await sleep(SNAPSHOT_MS);
}

async function measure(mode: 'gateway' | 'baseline', customers: number): Promise<{ idle: number; subscribed: number }> {
  const load = mobileLoad();
  const snapshotDir = mode === 'gateway' ? process.env.BENCH_HEAP_SNAPSHOT_DIR : undefined;
  const serve = (database: Record<string, string>) => withServers(async (start) => {
    const simulator = await startSimulatorProcess(start, { ...load.simulatorEnv(customers), SIMULATOR_READING_INTERVAL: '1h' });
    const target =
      mode === 'gateway'
        ? await startGatewayProcess(start, simulator.endpoint, {
            ARCHIVE_ENABLED: 'false',
            ...database,
            ...(snapshotDir ? { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}` } : {}),
          })
        : await start('bench/servers/wsBaseline.ts', {
            BENCH_UPSTREAM_WS_URL: simulator.endpoint.wsUrl,
            BENCH_UPSTREAM_AUTHORIZATION: basicAuthorization(simulator.endpoint.token, simulator.endpoint.secret),
          });
    await sleep(SETTLE_MS);
    await snapshot(target, snapshotDir);
    const idle = rssMiB(target.child.pid!);
    const worker = spawnTypeScript('bench/servers/subscribers.ts', {
      env: { PATH: process.env.PATH ?? '', BENCH_WS_URL: target.url.replace(/^http/, 'ws'), BENCH_QUERY: load.query },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = new Promise<{ connected: number }>((resolve) =>
      worker.on('message', (message: { type: string; connected: number }) => message.type === 'ready' && resolve(message)),
    );
    worker.send({ type: 'connect', connectionParams: await load.connectionParams(mode, customers) });
    const { connected } = await ready;
    worker.send({ type: 'subscribe' });
    await sleep(SETTLE_MS * 2);
    await snapshot(target, snapshotDir);
    const subscribed = rssMiB(target.child.pid!);
    worker.kill('SIGKILL');
    if (connected !== customers) throw new Error(`${mode}: ${connected} of ${customers} connected`);
    return { idle, subscribed };
  });
  return mode === 'gateway' ? withGatewayDatabase(serve) : serve({});
}

async function main(): Promise<void> {
  const customers = Number(process.env.BENCH_MOBILE_CUSTOMERS ?? 3000);
  const rows = [];
  for (const mode of ['baseline', 'gateway'] as const) {
    const { idle, subscribed } = await measure(mode, customers);
    rows.push({ mode, idle, subscribed, perSubscriberKiB: ((subscribed - idle) * 1024) / customers });
  }
  const [baseline, gateway] = rows;
  process.stdout.write(`## Idle subscribers (${new Date().toISOString()}, ${customers} customers on myReadings, load average ${loadavg().map((n) => n.toFixed(1)).join(' ')})\n\n`);
  process.stdout.write('| run | RSS idle MiB | RSS subscribed MiB | RSS per subscriber KiB |\n| --- | ---: | ---: | ---: |\n');
  for (const row of rows) process.stdout.write(`| ${row.mode} | ${row.idle.toFixed(0)} | ${row.subscribed.toFixed(0)} | ${row.perSubscriberKiB.toFixed(1)} |\n`);
  process.stdout.write(`\nper-subscriber ratio gateway / baseline: ${(gateway!.perSubscriberKiB / baseline!.perSubscriberKiB).toFixed(2)}×\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
