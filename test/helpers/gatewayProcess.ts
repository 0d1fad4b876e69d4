import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunningSimulator } from '../../src/simulator';
import { tracked } from './childProcesses';
import { waitFor } from './simulator';

const root = join(__dirname, '..', '..');

export interface GatewayProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines written so far. */
  logs(): Array<Record<string, any>>;
  /** The GraphQL URL, once the gateway logged that it is ready; throws if it exits first or takes longer. */
  ready(timeoutMs: number): Promise<string>;
  /** The exit code; null if killed by a signal. */
  exited: Promise<number | null>;
}

const READY_URL = /"url":"(http:[^"]+)"/;

/** `npm start` as a real child process (src/main.ts through tsx), with exactly this environment. */
export function startGatewayProcess(env: Record<string, string>): GatewayProcess {
  const child = tracked(spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', EMBEDDED_DB_DIR: 'memory://', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, any>),
    ready: async (timeoutMs) => {
      await waitFor(() => READY_URL.test(output) || child.exitCode !== null, timeoutMs, `gateway process ${child.pid} logging that it is ready`);
      const url = READY_URL.exec(output)?.[1];
      if (!url) throw new Error(`the gateway exited before it was ready:\n${output}`);
      return url;
    },
    exited,
  };
}

/** A gateway process on a free loopback port in front of this simulator, with its credentials. */
export function frontingEnv(sim: RunningSimulator): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    IOMETER_ENDPOINT: sim.url,
    IOMETER_WS_ENDPOINT: sim.wsUrl,
    IOMETER_TOKEN: sim.token,
    IOMETER_SECRET: sim.secret,
  };
}
