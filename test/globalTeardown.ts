import { killLeftovers } from './helpers/childProcesses';
import { dropScratchDatabases } from './helpers/database';
import { takeLeftovers, type Leftover } from './helpers/runLeftovers';

const described = (leftovers: Leftover[]) => leftovers.map(({ name, madeBy }) => `${name} (${madeBy})`).join(', ');

/** Removes what a timed-out test or a crashed worker left: its child processes, then its scratch databases. */
export default async function globalTeardown(): Promise<void> {
  const dir = process.env.TEST_RUN_DIR;
  if (!dir) return;
  const leftovers = takeLeftovers(dir);
  const killed = killLeftovers(leftovers.process);
  if (killed.length > 0) console.warn(`globalTeardown killed processes tests left running: ${described(killed)}`);
  await dropScratchDatabases(leftovers.database.map(({ name }) => name));
  if (leftovers.database.length > 0) console.warn(`globalTeardown dropped databases tests left: ${described(leftovers.database)}`);
}
