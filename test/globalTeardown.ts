import { killLeftovers } from './helpers/childProcesses';

export default function globalTeardown(): void {
  const dir = process.env.TEST_CHILD_DIR;
  if (!dir) return;
  const killed = killLeftovers(dir);
  if (killed.length > 0) console.warn(`globalTeardown killed processes tests left running: ${killed.join(', ')}`);
}
