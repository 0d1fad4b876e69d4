import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerProcess } from './processes';

/** Event-loop delay of a process over one window, as bench/servers/gatewayWithEventLoopProbe.ts reports it. */
export interface EventLoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Runs `measure` inside one event-loop delay window of `server` (started with the probe entry and
 * BENCH_EVENT_LOOP_FILE = `file`): the probe starts a window on the first signal and reports it on the second.
 */
export async function withEventLoopDelay<T>(server: ServerProcess, file: string, measure: () => Promise<T>): Promise<{ result: T; delay: EventLoopDelay }> {
  let window = 0;
  const nextWindow = async () => {
    server.child.kill('SIGUSR2');
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const report = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as EventLoopDelay & { window: number }) : undefined;
      if (report && report.window > window) {
        window = report.window;
        return report;
      }
      await sleep(25);
    }
    throw new Error(`the event-loop probe of ${server.url} did not report within 5 s`);
  };
  await nextWindow();
  const result = await measure();
  const { p50Ms, p99Ms, maxMs } = await nextWindow();
  return { result, delay: { p50Ms, p99Ms, maxMs } };
}
