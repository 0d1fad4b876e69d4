import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChildDirectory } from './helpers/childProcesses';

export default function globalSetup(): void {
  // Set here, in jest's parent process, so every worker inherits it.
  process.env.TEST_CHILD_DIR = join(tmpdir(), `iometer-test-children-${process.pid}`);
  createChildDirectory(process.env.TEST_CHILD_DIR);
}
