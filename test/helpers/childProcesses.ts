import type { ChildProcess } from 'node:child_process';
import { listLeftover, type Leftover } from './runLeftovers';

/* Every process a test spawns is listed (runLeftovers) until it exits. */

/** SHUTDOWN_TIMEOUT's default (10 s) plus room: a gateway still running after this never shuts down by itself. */
export const SHUTDOWN_GRACE_MS = 15_000;

/** Lists the child until it exits; returns it. */
export function tracked<T extends ChildProcess>(child: T): T {
  if (child.pid === undefined) return child;
  child.once('exit', listLeftover('process', String(child.pid)));
  return child;
}

/**
 * SIGTERM, then the exit code once it exits; a child still running after `graceMs` is SIGKILLed and
 * the promise rejects saying so, instead of leaving it behind for a generic jest timeout.
 */
export async function terminate(child: ChildProcess, graceMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome !== 'late') return outcome;
  child.kill('SIGKILL');
  await exited;
  throw new Error(`pid ${child.pid} did not exit within ${graceMs} ms of SIGTERM; killed`);
}

/** SIGKILL and wait until it is gone. */
export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** SIGKILLs each listed process still running; returns those it killed. */
export function killLeftovers(processes: Leftover[]): Leftover[] {
  const killed: Leftover[] = [];
  for (const leftover of processes) {
    try {
      process.kill(Number(leftover.name), 'SIGKILL');
      killed.push(leftover);
    } catch {
      // already gone
    }
  }
  return killed;
}
