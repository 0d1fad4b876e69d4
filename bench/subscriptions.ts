import { runFanOut } from './lib/fanOut';
import { readSettings } from './lib/settings';

/**
 * `npm run bench:subscriptions`: the live readings fan-out alone, at 1,000 / 5,000 / 10,000 subscribers
 * by default (BENCH_SUBSCRIBERS), against a direct-to-simulator baseline (bench/lib/fanOut.ts).
 */
async function main(): Promise<void> {
  const settings = readSettings([1000, 5000, 10000]);
  const result = await runFanOut(settings);
  process.stdout.write(`## Live readings fan-out (${new Date().toISOString()}, ${settings.durationSeconds} s per level)\n\n${result.markdown}\n`);
  if (result.problems.length > 0) {
    process.stderr.write(`Failed (figures of these runs are not comparable):\n  ${result.problems.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
