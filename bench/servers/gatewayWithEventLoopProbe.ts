import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The gateway (src/main.ts) with an event-loop delay probe in its own process: on each SIGUSR2 it
 * writes the delay percentiles since the previous signal (or start-up) to BENCH_EVENT_LOOP_FILE and
 * starts a new window, so a bench reads the delay of exactly its measured run (bench/lib/eventLoop.ts).
 */
const file = process.env.BENCH_EVENT_LOOP_FILE;
if (!file) throw new Error('BENCH_EVENT_LOOP_FILE is not set');

// 1 ms sampling: a stall shorter than the resolution would go unseen.
const histogram = monitorEventLoopDelay({ resolution: 1 });
histogram.enable();
let window = 0;
process.on('SIGUSR2', () => {
  window += 1;
  const ms = (ns: number) => ns / 1e6;
  const report = { window, p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) };
  histogram.reset();
  writeFileSync(file, JSON.stringify(report));
});

require('../../src/main');
