import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Peak resident set size seen by polling the process, in MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/**
 * Starts a TypeScript entry point in its own Node process, so load generation and the server under
 * test do not share an event loop, and waits for it to print `READY <url>` or the gateway's
 * "GraphiQL at <url>" line.
 */
export async function startServerProcess(entry: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', EMBEDDED_DB_DIR: 'memory://', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start:\n${output}`)), 30_000);
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
  let peak = 0;
  const poll = setInterval(() => void sampleRss(child.pid!).then((rss) => (peak = Math.max(peak, rss))), 250);
  return {
    url,
    child,
    peakRssMiB: () => peak,
    stop: async () => {
      clearInterval(poll);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function sampleRss(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kib / 1024;
  } catch {
    return 0;
  }
}
