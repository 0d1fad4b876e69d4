import { deleteKeysWithPrefix } from '../../scripts/redisKeys';
import { createScratchDatabase } from '../../scripts/scratchDatabase';
import { CACHE_HEADER } from '../../src/plugins/useGatewayResponseCache';
import { benchJwtSecret } from './identities';
import type { GraphQLAnswer } from './load';
import { withServers, type ServerProcess, type startServerProcess } from './processes';

/** What a client needs to call the simulator, as its stats endpoint (bench/servers/simulator.ts) reports it. */
export interface SimulatorEndpoint {
  url: string;
  wsUrl: string;
  token: string;
  secret: string;
}

export interface SimulatorProcess {
  server: ServerProcess;
  endpoint: SimulatorEndpoint;
  /** Upstream subscriptions the simulator holds right now. */
  activeSubscriptions(): Promise<number>;
}

async function simulatorStats(server: ServerProcess) {
  const response = await fetch(server.url);
  return (await response.json()) as SimulatorEndpoint & { activeSubscriptions: number };
}

/** The IOmeter simulator in a process of its own; SIMULATOR_* variables in `env` shape its world. */
export async function startSimulatorProcess(start: typeof startServerProcess, env: Record<string, string> = {}): Promise<SimulatorProcess> {
  const server = await start('bench/servers/simulator.ts', env);
  const { url, wsUrl, token, secret } = await simulatorStats(server);
  return {
    server,
    endpoint: { url, wsUrl, token, secret },
    activeSubscriptions: async () => (await simulatorStats(server)).activeSubscriptions,
  };
}

/**
 * The gateway (src/main.ts) in a process of its own, fronting the simulator at `endpoint` (not sandbox
 * mode, so the simulator's work is not in the gateway's CPU and RSS). It accepts staff JWTs from
 * bench/lib/identities.ts; rate limits are off unless `env` turns them on, because one load generator
 * on one loopback address would exhaust any per-client budget at once. `entry` may wrap src/main.ts
 * (bench/servers/gatewayWithEventLoopProbe.ts).
 */
export function startGatewayProcess(
  start: typeof startServerProcess,
  endpoint: SimulatorEndpoint,
  env: Record<string, string> = {},
  entry = 'src/main.ts',
): Promise<ServerProcess> {
  return start(entry, {
    IOMETER_ENDPOINT: endpoint.url,
    IOMETER_TOKEN: endpoint.token,
    IOMETER_SECRET: endpoint.secret,
    AUTH_JWT_SECRET: benchJwtSecret,
    RATE_LIMIT_ENABLED: 'false',
    // The ready line the bench waits for is logged at info.
    LOG_LEVEL: 'info',
    ...env,
  });
}

/** PostgreSQL server the gateway's scratch databases go on (BENCH_PG_SERVER), as in production. */
const PG_SERVER = process.env.BENCH_PG_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
let scratchDatabases = 0;

/**
 * Runs `use` with the variables of a fresh, empty PostgreSQL database for a gateway, dropped afterwards.
 * Without DATABASE_URL a gateway runs the embedded PGlite in its own process, a development convenience
 * whose hundreds of MiB would count as the gateway's.
 */
export async function withGatewayDatabase<T>(use: (env: { DATABASE_URL: string }) => Promise<T>): Promise<T> {
  const scratch = await createScratchDatabase(PG_SERVER, `iometer_bench_gateway_${process.pid}_${scratchDatabases++}`, 'postgres');
  try {
    return await use({ DATABASE_URL: scratch.url });
  } finally {
    await scratch.drop();
  }
}

/** Runs `use` with a fresh simulator and a gateway in front of it, both stopped afterwards. */
export function withGateway<T>(env: Record<string, string>, use: (gateway: ServerProcess) => Promise<T>): Promise<T> {
  return withServers(async (start) => {
    const simulator = await startSimulatorProcess(start);
    return use(await startGatewayProcess(start, simulator.endpoint, env));
  });
}

/**
 * Runs `use` with gateway variables for a Redis-backed response cache or rate limit, under a key prefix
 * no other run shares, and deletes that prefix's keys afterwards (readings streams, cache entries, counters).
 */
export async function withRedisPrefix<T>(redisUrl: string, use: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const prefix = `bench-${process.pid}-${Date.now()}:`;
  try {
    return await use({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix });
  } finally {
    await deleteKeysWithPrefix(redisUrl, prefix);
  }
}

/** A cache run measures the cache only if the warmed-up query is answered from it. */
export function answeredFromCache({ headers }: GraphQLAnswer): void {
  if (headers.get(CACHE_HEADER) !== 'HIT') throw new Error(`expected a cache hit, got ${CACHE_HEADER}: ${headers.get(CACHE_HEADER)}`);
}
