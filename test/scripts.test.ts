import { readFileSync } from 'node:fs';
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
});
