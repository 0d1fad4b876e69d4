import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Every process a test spawns is listed as a file named by its pid in TEST_CHILD_DIR (set by
 * test/globalSetup.ts) until it exits, so test/globalTeardown.ts can kill what a timed-out test or
 * a crashed worker left running.
 */

/** SHUTDOWN_TIMEOUT's default (10 s) plus room: a gateway still running after this never shuts down by itself. */
export const SHUTDOWN_GRACE_MS = 15_000;

/** Lists the child until it exits; returns it. */
export function tracked<T extends ChildProcess>(child: T): T {
  const dir = process.env.TEST_CHILD_DIR;
  if (!dir || child.pid === undefined) return child;
  const file = join(dir, String(child.pid));
  writeFileSync(file, '');
  child.once('exit', () => rmSync(file, { force: true }));
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

export function createChildDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Kills every child still listed in the directory, then removes it. */
export function killLeftovers(dir: string): number[] {
  const killed: number[] = [];
  for (const name of readdirSync(dir)) {
    try {
      process.kill(Number(name), 'SIGKILL');
      killed.push(Number(name));
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return killed;
}
