import { spawn } from 'node:child_process';

/**
 * `npm run build:mesh`: `mesh build`, with the ANSI colour codes Mesh's logger always writes taken out
 * when the output is not a terminal (CI logs, files, pipes), where they show up as `[36m` litter.
 * Exits with mesh's own status.
 */
const ANSI = /\x1b\[[0-9;]*m/g;

// npm puts node_modules/.bin on PATH for its scripts.
const child = spawn('mesh', ['build'], { stdio: ['ignore', 'pipe', 'pipe'] });
for (const [from, to] of [
  [child.stdout, process.stdout],
  [child.stderr, process.stderr],
] as const) {
  from.on('data', (chunk: Buffer) => to.write(to.isTTY ? chunk : chunk.toString('utf8').replace(ANSI, '')));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
