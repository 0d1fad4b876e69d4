import { Agent, request } from 'node:http';
import type { LoadOptions } from './load';
import type { Measurement } from './measurement';
import type { ServerProcess } from './processes';
import { cpuSeconds } from './procStats';
import type { BenchSettings } from './settings';

/** One POST on the agent's single keep-alive socket; resolves with the status once the body is read. */
function post(agent: Agent, url: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function percentile(sorted: number[], fraction: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

/**
 * One client on one keep-alive connection, each request sent when the previous answer is in: what a
 * single user waits for, to the microsecond (autocannon rounds latency to whole milliseconds, too
 * coarse for "+1 ms"). Warm-up first, then `durationSeconds` of measured requests; the CPU per
 * request is that of the process serving them (`server`).
 */
export async function measureLatency(name: string, server: ServerProcess, options: LoadOptions, settings: BenchSettings): Promise<Measurement> {
  const url = options.url ?? server.url;
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...options.headerSets?.[0] };
  const body = JSON.stringify({ query: options.query });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let errors = 0;
  const run = async (seconds: number, timings?: number[]) => {
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until) {
      const sentAt = performance.now();
      const { status, text } = await post(agent, url, headers, body);
      timings?.push(performance.now() - sentAt);
      if (timings && (status !== 200 || text.includes('"errors":'))) errors += 1;
    }
  };
  try {
    await run(settings.warmUpSeconds);
    const timings: number[] = [];
    const cpuBefore = cpuSeconds(server.child.pid!);
    const startedAt = performance.now();
    await run(settings.durationSeconds, timings);
    const elapsedSeconds = (performance.now() - startedAt) / 1000;
    const cpu = cpuSeconds(server.child.pid!) - cpuBefore;
    timings.sort((a, b) => a - b);
    return {
      name,
      throughputPerSecond: timings.length / elapsedSeconds,
      p50Ms: percentile(timings, 0.5),
      p99Ms: percentile(timings, 0.99),
      peakRssMiB: server.peakRssMiB(),
      cpuMicrosPerRequest: (cpu / timings.length) * 1e6,
      errors,
    };
  } finally {
    agent.destroy();
  }
}
