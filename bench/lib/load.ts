import autocannon from 'autocannon';
import type { Measurement } from './measurement';
import { cpuSeconds } from './procStats';
import type { ServerProcess } from './processes';
import type { BenchSettings } from './settings';

export interface LoadOptions {
  query: string;
  /** Where the requests go when it is not the URL the server announced (the simulator announces its stats URL). */
  url?: string;
  /** Headers per request, cycled: e.g. one Authorization header per identity. */
  headerSets?: Array<Record<string, string>>;
  /** Throws when the probe's answer is not what the scenario measures (a stitched field resolved to null, a cache miss). */
  checkAnswer?: (answer: GraphQLAnswer) => void;
  /** Concurrent keep-alive connections of the load generator (default 32: saturation on 2 cores). */
  connections?: number;
}

const CONNECTIONS = 32;
const baseHeaders = { 'content-type': 'application/json', accept: 'application/json' };

export interface GraphQLAnswer {
  data: unknown;
  headers: Headers;
}

/** One POST; throws unless it answers 2xx with data and no GraphQL errors. */
export async function graphqlRequest(url: string, headers: Record<string, string>, query: string, variables?: object): Promise<GraphQLAnswer> {
  const response = await fetch(url, { method: 'POST', headers: { ...baseHeaders, ...headers }, body: JSON.stringify({ query, variables }) });
  const answer = (await response.json()) as { data?: unknown; errors?: unknown };
  if (!response.ok || answer.errors || !answer.data) {
    throw new Error(`${query.slice(0, 60)}: HTTP ${response.status} ${JSON.stringify(answer).slice(0, 500)}`);
  }
  return { data: answer.data, headers: response.headers };
}

/**
 * Drives a server with autocannon from this process: a warm-up (JIT, connection pools, a cache entry),
 * one probe request that must answer with data, no GraphQL errors and pass the scenario's check (a
 * scenario that fails outright stops the bench with its answer instead of measuring fast errors), then
 * the measured run. Peak RSS is taken over the measured run only.
 */
export async function measureLoad(name: string, server: ServerProcess, options: LoadOptions, settings: BenchSettings): Promise<Measurement> {
  const url = options.url ?? server.url;
  const headerSets = (options.headerSets ?? [{}]).map((headers) => ({ ...baseHeaders, ...headers }));
  await drive(url, options.query, headerSets, settings.warmUpSeconds, options.connections);
  try {
    const answer = await graphqlRequest(url, headerSets[0]!, options.query);
    options.checkAnswer?.(answer);
  } catch (error) {
    throw new Error(`${name}: the probe request failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  server.resetPeakRss();
  const cpuBefore = cpuSeconds(server.child.pid!);
  const result = await drive(url, options.query, headerSets, settings.durationSeconds, options.connections);
  const cpu = cpuSeconds(server.child.pid!) - cpuBefore;
  return {
    name,
    throughputPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    peakRssMiB: server.peakRssMiB(),
    cpuMicrosPerRequest: (cpu / result.requests.total) * 1e6,
    errors: result.errors + result.non2xx + result.graphqlErrors, // errors include timeouts
  };
}

/** autocannon's result plus the 200 answers that carried GraphQL errors. */
async function drive(url: string, query: string, headerSets: Array<Record<string, string>>, durationSeconds: number, connections = CONNECTIONS) {
  const body = JSON.stringify({ query });
  let graphqlErrors = 0;
  // A substring test, not a parse: the load generator shares the machine with the server it measures.
  const onResponse = (_status: number, answer: string) => void (answer.includes('"errors":') && (graphqlErrors += 1));
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    requests: headerSets.map((headers) => ({ method: 'POST' as const, body, headers, onResponse })),
  });
  return { ...result, graphqlErrors };
}
