/** What tests and the sandbox observe about traffic reaching the simulator. */
export interface SimulatorStats {
  /** Authenticated HTTP GraphQL requests served. */
  graphqlRequests: number;
  /** Every Authorization header value seen on HTTP requests. */
  authorizationHeaders: string[];
  /** Every graphql-ws connection_init payload seen. */
  connectionInitPayloads: unknown[];
  /** Subscriptions currently open. */
  activeSubscriptions: number;
  /** HTTP GraphQL requests that arrived, whatever became of them (refused, failed by a fault, served). */
  httpRequests: number;
  /** The documents of the latest HTTP GraphQL requests, oldest first (at most MAX_QUERIES_KEPT). */
  queries: string[];
}

const MAX_QUERIES_KEPT = 50;

export function noteQuery(stats: SimulatorStats, query: string): void {
  stats.queries.push(query);
  if (stats.queries.length > MAX_QUERIES_KEPT) stats.queries.shift();
}

export function createStats(): SimulatorStats {
  return { graphqlRequests: 0, authorizationHeaders: [], connectionInitPayloads: [], activeSubscriptions: 0, httpRequests: 0, queries: [] };
}

/** Resets in place so references held by tests stay live. activeSubscriptions is a gauge, not a counter, so it is kept. */
export function resetStats(stats: SimulatorStats): void {
  stats.graphqlRequests = 0;
  stats.httpRequests = 0;
  stats.authorizationHeaders.length = 0;
  stats.connectionInitPayloads.length = 0;
  stats.queries.length = 0;
}
