import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunDirectory } from './helpers/runLeftovers';

export default function globalSetup(): void {
  // Set here, in jest's parent process, so every worker inherits it.
  process.env.TEST_RUN_DIR = join(tmpdir(), `iometer-test-run-${process.pid}`);
  createRunDirectory(process.env.TEST_RUN_DIR);
}
