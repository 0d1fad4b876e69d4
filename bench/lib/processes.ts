import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { rssMiB } from './procStats';

const root = join(__dirname, '..', '..');

// Everything a bench started, so an interrupt does not leave servers or thousands of sockets behind.
const children = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  });
}

// BENCH_CPU_PROFILE_DIR: every process a bench starts writes a V8 CPU profile there when it exits
// (node --cpu-prof; summarize with cpuprofile-summary), so a figure can be explained from the same run.
const profiling = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`] : [];

/** Runs a TypeScript entry point of this repository in a Node process of its own, killed if the bench is interrupted. */
export function spawnTypeScript(entry: string, options: SpawnOptions): ChildProcess {
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', entry], { cwd: root, ...options });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Peak resident set size in MiB since start-up or the last resetPeakRss(), polled every 250 ms. */
  peakRssMiB(): number;
  /** Starts a new peak window at the current RSS, so start-up or an earlier run does not count. */
  resetPeakRss(): void;
  /** SIGTERM; a server busy with thousands of sockets that has not exited within 15 s is killed. */
  stop(): Promise<void>;
}

/**
 * Starts a server entry point in its own process, so load generation and the server under test do not
 * share an event loop and its RSS is its own, and waits for it to print `READY <url>` or the gateway's
 * "GraphiQL at <url>" line.
 */
export async function startServerProcess(entry: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawnTypeScript(entry, {
    // NODE_ENV=production as the container runs the gateway (graphql-js drops its development checks).
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', EMBEDDED_DB_DIR: 'memory://', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /(?:READY|GraphiQL at) (http:\/\/[^\s"]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}:\n${output}`)));
  });
  // Past start-up the output is drained unread: a full pipe would stall a server that logs.
  child.stdout!.removeAllListeners('data').resume();
  child.stderr!.removeAllListeners('data').resume();
  let peak = 0;
  const sample = () => {
    // A crashed process is reported by its missing results, not by a throw in this timer.
    if (child.exitCode === null) peak = Math.max(peak, rssMiB(child.pid!));
  };
  const poll = setInterval(sample, 250);
  sample();
  return {
    url,
    child,
    peakRssMiB: () => peak,
    resetPeakRss: () => {
      peak = 0;
      sample();
    },
    stop: async () => {
      clearInterval(poll);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `use` with a start function whose servers are all stopped afterwards, last started first. */
export async function withServers<T>(use: (start: typeof startServerProcess) => Promise<T>): Promise<T> {
  const started: ServerProcess[] = [];
  try {
    return await use(async (entry, env) => {
      const server = await startServerProcess(entry, env);
      started.push(server);
      return server;
    });
  } finally {
    for (const server of started.reverse()) await server.stop();
  }
}
