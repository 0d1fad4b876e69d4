import { randomBytes } from 'node:crypto';
import { jose } from '../src/identity/jose';
import { runLoad, type LoadResult } from './lib/load';
import { startServerProcess, type ServerProcess } from './lib/processes';
import { ratioTable } from './lib/report';

/**
 * Response cache and rate limiter figures, each as a ratio to a baseline measured in this run:
 * - a cache hit vs the same query uncached (CACHE_TTL=0), both through the gateway;
 * - a cache hit vs bare graphql-yoga answering a static resolver (the stack's ceiling here);
 * - the rate limiter's overhead, on vs off, for many identities and for one identity with a large budget.
 * Servers run in their own processes; BENCH_DURATION (seconds, default 10) sets each run's length.
 */
const durationSeconds = Number(process.env.BENCH_DURATION ?? 10);
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const QUERY = '{ provider { installations { id externalId license { status endTime } currentDevice { core { batteryLevel pinStatus } } } } }';
const jwtSecret = randomBytes(32).toString('hex');

async function measure(name: string, server: ServerProcess, options: Partial<Parameters<typeof runLoad>[1]> = {}): Promise<LoadResult> {
  // Warm up: JIT, connection pools and (for cached runs) the cache entry itself.
  await runLoad(`${name} (warm-up)`, { url: server.url, query: QUERY, durationSeconds: 1, ...options });
  const result = await runLoad(name, { url: server.url, query: QUERY, durationSeconds, ...options });
  return { ...result, peakRssMiB: server.peakRssMiB() };
}

async function withServer<T>(entry: string, env: Record<string, string>, run: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServerProcess(entry, env);
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

async function tokens(count: number): Promise<Array<Record<string, string>>> {
  const key = new TextEncoder().encode(jwtSecret);
  return Promise.all(
    Array.from({ length: count }, async (_, index) => ({
      authorization: `Bearer ${await new jose.SignJWT({ role: 'staff' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`bench-user-${index}`)
        .setExpirationTime('1h')
        .sign(key)}`,
    })),
  );
}

async function main(): Promise<void> {
  const prefix = `bench-${process.pid}-${Date.now()}:`;
  const gatewayEnv = { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'info', AUTH_JWT_SECRET: jwtSecret };
  const gateway = 'src/main.ts';

  const staticYoga = await withServer('bench/servers/staticYoga.ts', {}, (server) =>
    runLoad('bare graphql-yoga, static resolver', { url: server.url, query: '{ hello }', durationSeconds }).then((result) => ({
      ...result,
      peakRssMiB: server.peakRssMiB(),
    })),
  );
  // The cache runs measure the cache alone: one anonymous client would exhaust its rate limit at once.
  const cacheEnv = { ...gatewayEnv, RATE_LIMIT_ENABLED: 'false' };
  const uncached = await withServer(gateway, { ...cacheEnv, CACHE_TTL: '0' }, (server) => measure('gateway, cache off', server));
  const cached = await withServer(gateway, cacheEnv, (server) => measure('gateway, cache hit (Redis)', server));

  const manyIdentities = await tokens(500);
  const [oneIdentity] = await tokens(1);
  const limiterOff = { ...gatewayEnv, RATE_LIMIT_ENABLED: 'false' };
  const limiterOn = { ...gatewayEnv, RATE_LIMIT_MAX: '100000000' };
  const offMany = await withServer(gateway, limiterOff, (server) => measure('limiter off, 500 identities', server, { headerSets: manyIdentities }));
  const onMany = await withServer(gateway, limiterOn, (server) => measure('limiter on, 500 identities', server, { headerSets: manyIdentities }));
  const offOne = await withServer(gateway, limiterOff, (server) => measure('limiter off, 1 identity', server, { headerSets: [oneIdentity!] }));
  const onOne = await withServer(gateway, limiterOn, (server) => measure('limiter on, 1 identity, large budget', server, { headerSets: [oneIdentity!] }));

  const report = [
    `## Response cache and rate limiter (${new Date().toISOString()}, ${durationSeconds} s per run)`,
    '',
    ratioTable('Response cache', [
      { result: cached, baseline: uncached },
      { result: cached, baseline: staticYoga },
    ]),
    '',
    ratioTable('Rate limiter overhead (cached query, Redis store)', [
      { result: onMany, baseline: offMany },
      { result: onOne, baseline: offOne },
    ]),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  const failed = [staticYoga, uncached, cached, offMany, onMany, offOne, onOne].filter((run) => run.errors + run.non2xx > 0);
  if (failed.length > 0) {
    process.stderr.write(`Runs with errors or non-2xx answers (their figures are not comparable): ${failed.map((run) => run.name).join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
