import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/*
 * What a jest run makes outside its own processes (child processes, scratch databases) is listed as a
 * file in TEST_RUN_DIR (set by test/globalSetup.ts) until it is gone, so test/globalTeardown.ts can
 * remove what a timed-out test or a crashed worker left behind. Each run has a directory of its own,
 * so runs side by side never remove each other's.
 */

export type LeftoverKind = 'process' | 'database';

export interface Leftover {
  name: string;
  /** The test file that made it, so a leak names the file that forgot to clean up. */
  madeBy: string;
}

/** Lists one thing this run made; the returned function takes it off the list once it is gone. */
export function listLeftover(kind: LeftoverKind, name: string): () => void {
  const dir = process.env.TEST_RUN_DIR;
  if (!dir) return () => {};
  const file = join(dir, `${kind}.${name}`);
  const testPath = expect.getState().testPath;
  writeFileSync(file, testPath ? relative(process.cwd(), testPath) : 'a global hook');
  return () => rmSync(file, { force: true });
}

export function createRunDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** What is still listed, by kind; the directory is removed. */
export function takeLeftovers(dir: string): Record<LeftoverKind, Leftover[]> {
  const listed: Record<LeftoverKind, Leftover[]> = { process: [], database: [] };
  for (const file of readdirSync(dir)) {
    const [kind, name] = [file.slice(0, file.indexOf('.')), file.slice(file.indexOf('.') + 1)];
    if (kind === 'process' || kind === 'database') listed[kind].push({ name, madeBy: readFileSync(join(dir, file), 'utf8') });
  }
  rmSync(dir, { recursive: true, force: true });
  return listed;
}
