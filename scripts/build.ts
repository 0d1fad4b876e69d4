import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';

const ROOT = join(__dirname, '..');

/**
 * Compiles the gateway (tsconfig.build.json: entry point, resolvers, the .mesh artifact) to
 * `outDir`, then copies the files its modules read next to themselves at run time: migrations, the
 * IOmeter SDL the sandbox simulator serves, GraphiQL's examples. Every non-TypeScript file under
 * src/ is such an asset, so a new one needs no change here. The .mesh artifact must be built first.
 */
export function buildGateway(outDir: string): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], {
    stdio: 'inherit',
  });
  cpSync(join(ROOT, 'src'), join(outDir, 'src'), { recursive: true, filter: (source) => extname(source) !== '.ts' });
}

if (require.main === module) buildGateway(resolve(ROOT, process.argv[2] ?? 'dist'));
