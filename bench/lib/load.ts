import autocannon from 'autocannon';
import type { Measurement } from './measurement';
import type { ServerProcess } from './processes';
import type { BenchSettings } from './settings';

export interface LoadOptions {
  query: string;
  /** Where the requests go when it is not the URL the server announced (the simulator announces its stats URL). */
  url?: string;
  /** Headers per request, cycled: e.g. one Authorization header per identity. */
  headerSets?: Array<Record<string, string>>;
  /** Throws when the probe answer is not what the scenario measures (e.g. a stitched field resolved to null). */
  checkAnswer?: (data: unknown) => void;
}

const CONNECTIONS = 32;
const baseHeaders = { 'content-type': 'application/json', accept: 'application/json' };

/**
 * Drives a server with autocannon from this process: one probe request that must answer with data and
 * no GraphQL errors (a 200 with errors would otherwise count as success), a warm-up (JIT, connection
 * pools, a cache entry), then the measured run. Peak RSS is taken over the measured run only.
 */
export async function measureLoad(name: string, server: ServerProcess, options: LoadOptions, settings: BenchSettings): Promise<Measurement> {
  const url = options.url ?? server.url;
  const headerSets = (options.headerSets ?? [{}]).map((headers) => ({ ...baseHeaders, ...headers }));
  await probe(name, url, options, headerSets[0]!);
  await drive(url, options.query, headerSets, settings.warmUpSeconds);
  server.resetPeakRss();
  const result = await drive(url, options.query, headerSets, settings.durationSeconds);
  return {
    name,
    throughputPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    peakRssMiB: server.peakRssMiB(),
    errors: result.errors + result.non2xx + result.graphqlErrors, // errors include timeouts
  };
}

async function probe(name: string, url: string, options: LoadOptions, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: options.query }) });
  const answer = (await response.json()) as { data?: unknown; errors?: unknown };
  if (!response.ok || answer.errors || !answer.data) {
    throw new Error(`${name}: the probe request got HTTP ${response.status} ${JSON.stringify(answer).slice(0, 500)}`);
  }
  options.checkAnswer?.(answer.data);
}

/** autocannon's result plus the 200 answers that carried GraphQL errors. */
async function drive(url: string, query: string, headerSets: Array<Record<string, string>>, durationSeconds: number) {
  const body = JSON.stringify({ query });
  let graphqlErrors = 0;
  // A substring test, not a parse: the load generator shares the machine with the server it measures.
  const onResponse = (_status: number, answer: string) => void (answer.includes('"errors":') && (graphqlErrors += 1));
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: durationSeconds,
    requests: headerSets.map((headers) => ({ method: 'POST' as const, body, headers, onResponse })),
  });
  return { ...result, graphqlErrors };
}
