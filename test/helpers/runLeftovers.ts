import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * What a jest run makes outside its own processes (child processes, scratch databases) is listed as a
 * file in TEST_RUN_DIR (set by test/globalSetup.ts) until it is gone, so test/globalTeardown.ts can
 * remove what a timed-out test or a crashed worker left behind. Each run has a directory of its own,
 * so runs side by side never remove each other's.
 */

export type LeftoverKind = 'process' | 'database';

/** Lists one thing this run made; the returned function takes it off the list once it is gone. */
export function listLeftover(kind: LeftoverKind, name: string): () => void {
  const dir = process.env.TEST_RUN_DIR;
  if (!dir) return () => {};
  const file = join(dir, `${kind}.${name}`);
  writeFileSync(file, '');
  return () => rmSync(file, { force: true });
}

export function createRunDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** What is still listed, by kind; the directory is removed. */
export function takeLeftovers(dir: string): Record<LeftoverKind, string[]> {
  const listed: Record<LeftoverKind, string[]> = { process: [], database: [] };
  for (const file of readdirSync(dir)) {
    const [kind, name] = [file.slice(0, file.indexOf('.')), file.slice(file.indexOf('.') + 1)];
    if (kind === 'process' || kind === 'database') listed[kind].push(name);
  }
  rmSync(dir, { recursive: true, force: true });
  return listed;
}
