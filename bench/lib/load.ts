import autocannon from 'autocannon';

export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  peakRssMiB?: number;
}

export interface LoadOptions {
  url: string;
  query: string;
  durationSeconds: number;
  connections?: number;
  /** Headers per request, cycled: e.g. one Authorization header per identity. */
  headerSets?: Array<Record<string, string>>;
}

/** Drives one endpoint with autocannon and keeps the figures the reports compare. */
export async function runLoad(name: string, options: LoadOptions): Promise<LoadResult> {
  const body = JSON.stringify({ query: options.query });
  const base = { 'content-type': 'application/json', accept: 'application/json' };
  const requests = (options.headerSets ?? [{}]).map((headers) => ({ method: 'POST' as const, body, headers: { ...base, ...headers } }));
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 32,
    duration: options.durationSeconds,
    requests,
  });
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}
