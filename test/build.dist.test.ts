import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildGateway } from '../scripts/build';
import { SHUTDOWN_GRACE_MS, terminate, tracked } from './helpers/childProcesses';
import { postGraphQL } from './helpers/clients';

const BUILD_TIMEOUT_MS = 120_000;
// Sandbox start-up (simulator, PGlite, migrations) in a fresh process, on a machine that may be busy.
const RUN_TIMEOUT_MS = 60_000;

/** Resolves with the URL the gateway logs once it listens. */
function readyUrl(gateway: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: gateway.stdout! });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg?.startsWith('IOmeter Gateway ready')) resolve(entry.url!);
    });
    gateway.once('exit', (code) => reject(new Error(`gateway exited with ${code} before it was ready`)));
  });
}

describe('the production build (npm run build)', () => {
  let outDir: string;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'gateway-dist-'));
    buildGateway(outDir);
  }, BUILD_TIMEOUT_MS);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('runs under plain node from any directory: health, GraphQL over migrated customers, clean SIGTERM', async () => {
    const gateway = tracked(spawn(process.execPath, [join(outDir, 'src', 'main.js')], {
      cwd: tmpdir(),
      // No IOmeter credentials, so the sandbox (simulator, PGlite) starts. NODE_PATH stands in for the
      // node_modules that sits beside dist/ in the image; this build lives in a temporary directory.
      env: {
        PATH: process.env.PATH,
        NODE_PATH: join(__dirname, '..', 'node_modules'),
        PORT: '0',
        HOST: '127.0.0.1',
        EMBEDDED_DB_DIR: 'memory://',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }));
    let exitCode: number | null | undefined;
    try {
      const url = await readyUrl(gateway);

      const health = await fetch(new URL('/healthz', url));
      expect(health.status).toBe(200);

      const response = await postGraphQL(url, '{ provider { name } customers(first: 1) { totalCount } }');
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.provider.name).toEqual(expect.any(String));
      expect(response.body.data.customers.totalCount).toBeGreaterThan(0);
    } finally {
      exitCode = await terminate(gateway, SHUTDOWN_GRACE_MS);
    }
    expect(exitCode).toBe(0);
  }, RUN_TIMEOUT_MS);
});
