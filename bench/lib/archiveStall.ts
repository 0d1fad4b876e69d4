import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withEventLoopDelay, type EventLoopDelay } from './eventLoop';
import { measureLoad } from './load';
import type { Measurement } from './measurement';
import { withServers } from './processes';
import type { BenchSettings } from './settings';
import { startGatewayProcess, startSimulatorProcess } from './stack';

/**
 * Issue 12 §5, archive writes do not stall queries: the small query at 10 connections through the
 * gateway in its embedded-database default (PGlite) while the simulator's installations read every
 * 2 s, with the reading archive on and, as the baseline, off; the gateway's event-loop delay over each
 * measured run comes from a probe in its process. In both runs one staff client holds a `readings`
 * subscription over SSE, so the upstream subscription and the readings it carries cost both sides
 * alike and only the archive differs.
 */
const QUERY = 'query Small { provider { id name } }';
const CONNECTIONS = 10;
/** 500 readings/s: a mid-sized provider on the embedded database. */
export const ARCHIVE_STALL_INSTALLATIONS = 1_000;
const SUBSCRIPTION = 'subscription { readings { time installation { id } } }';
const READING_INTERVAL = '2s';

export interface ArchiveStallRun {
  measurement: Measurement;
  delay: EventLoopDelay;
}

/** A `readings` subscription over SSE whose events are read and dropped; resolves once the first arrives. */
async function holdReadingsSubscription(url: string, authorization: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization },
    body: JSON.stringify({ query: SUBSCRIPTION }),
    signal,
  });
  const reader = response.body!.getReader();
  const first = await reader.read();
  if (first.done) throw new Error('the readings subscription ended before its first event');
  void (async () => {
    while (!(await reader.read()).done);
  })().catch(() => undefined);
}

export async function runArchiveStall(settings: BenchSettings, staffAuthorization: string): Promise<{ archiveOn: ArchiveStallRun; archiveOff: ArchiveStallRun }> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-event-loop-'));
  try {
    const run = (archive: boolean) =>
      withServers(async (start): Promise<ArchiveStallRun> => {
        const simulator = await startSimulatorProcess(start, {
          SIMULATOR_INSTALLATIONS: String(ARCHIVE_STALL_INSTALLATIONS),
          SIMULATOR_READING_INTERVAL: READING_INTERVAL,
        });
        const file = join(directory, archive ? 'on.json' : 'off.json');
        const gateway = await startGatewayProcess(start, simulator.endpoint, { CACHE_TTL: '0', ARCHIVE_ENABLED: String(archive), BENCH_EVENT_LOOP_FILE: file }, 'bench/servers/gatewayWithEventLoopProbe.ts');
        const subscription = new AbortController();
        await holdReadingsSubscription(gateway.url, staffAuthorization, subscription.signal);
        const label = `small query, ${CONNECTIONS} connections, PGlite, ${ARCHIVE_STALL_INSTALLATIONS} installations reading every ${READING_INTERVAL}, archive ${archive ? 'on' : 'off'}`;
        const { result, delay } = await withEventLoopDelay(gateway, file, () =>
          measureLoad(label, gateway, { query: QUERY, connections: CONNECTIONS, headerSets: [{ authorization: staffAuthorization }] }, settings),
        );
        subscription.abort();
        return { measurement: result, delay };
      });
    return { archiveOn: await run(true), archiveOff: await run(false) };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The event-loop table of the suite's report: each run's delay percentiles, the archive's added p99. */
export function archiveStallTable({ archiveOn, archiveOff }: { archiveOn: ArchiveStallRun; archiveOff: ArchiveStallRun }): string {
  const row = ({ measurement, delay }: ArchiveStallRun) =>
    `| ${measurement.name} | ${delay.p50Ms.toFixed(2)} | ${delay.p99Ms.toFixed(2)} | ${delay.maxMs.toFixed(1)} | ${measurement.p99Ms.toFixed(1)} |`;
  return [
    '| run | event-loop delay p50 ms | p99 ms | max ms | query p99 ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    row(archiveOn),
    row(archiveOff),
  ].join('\n');
}
