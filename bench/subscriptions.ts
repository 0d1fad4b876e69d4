import { mobileLoad, runFanOut, sharedDocumentThroughputLoad, staffLoad } from './lib/fanOut';
import { readSettings } from './lib/settings';

/**
 * `npm run bench:subscriptions`: the live readings fan-out alone, against a minimal ws server in the same
 * run (bench/lib/fanOut.ts): staff at 1,000 / 5,000 / 10,000 subscribers by default (BENCH_SUBSCRIBERS),
 * then the mobile-shaped load, 10,000 customers on myReadings (BENCH_MOBILE_CUSTOMERS), then the throughput row,
 * 10,000 staff at 20 readings/s each (BENCH_THROUGHPUT_SUBSCRIBERS).
 */
async function main(): Promise<void> {
  const settings = readSettings([1000, 5000, 10000]);
  const result = await runFanOut(settings, [
    { load: staffLoad(settings), subscribers: settings.subscriberLevels },
    { load: mobileLoad(), subscribers: [settings.mobileCustomers] },
    { load: sharedDocumentThroughputLoad(settings), subscribers: [settings.throughputSubscribers] },
  ]);
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
