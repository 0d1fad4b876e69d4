import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { scripts } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/**
 * The generated mesh (.mesh/) is not committed: every script that type-checks the project or runs the
 * gateway must build it first, or a fresh clone fails with "Cannot find module '../.mesh'".
 */
describe('npm scripts on a fresh clone', () => {
  const needsMesh = Object.entries(scripts)
    .filter(([name, command]) => !name.startsWith('pre') && /\btsc\b|\bjest\b|src\/main\.ts|scripts\/(schema|build)\.ts|bench\/(suite|cacheAndRateLimit|subscriptions)\.ts/.test(command))
    .map(([name]) => name);

  it('finds the scripts that need the generated mesh', () => {
    expect(needsMesh).toEqual(expect.arrayContaining(['start', 'test', 'typecheck', 'build', 'schema', 'bench']));
  });

  it.each(needsMesh)('%s builds the mesh first', (name) => {
    expect(`${scripts[`pre${name}`] ?? ''} ${scripts[name]}`).toMatch(/build:mesh|mesh build/);
  });

  it("build:mesh passes mesh's output on without colour codes when it is not a terminal, and its exit status", () => {
    // A stand-in for Mesh's CLI on PATH: running the real one here would rewrite .mesh/ under other test files.
    const bin = mkdtempSync(join(tmpdir(), 'fake-mesh-'));
    try {
      writeFileSync(join(bin, 'mesh'), `#!/bin/sh\nprintf '[x] INFO  \\033[36m Done! \\033[0m\\n'\nexit 3\n`, { mode: 0o755 });
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/buildMesh.ts'], {
        cwd: join(__dirname, '..'),
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      });
      expect(run.stdout).toBe('[x] INFO   Done! \n');
      expect(run.status).toBe(3);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
