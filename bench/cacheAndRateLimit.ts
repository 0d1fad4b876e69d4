import { staffAuthorizations } from './lib/identities';
import { measureLoad } from './lib/load';
import { comparisonTable, failedMeasurements } from './lib/report';
import { readSettings } from './lib/settings';
import { answeredFromCache, withGateway, withRedisPrefix } from './lib/stack';

/**
 * `npm run bench:cache`: the response cache and the rate limiter, each as a ratio to a baseline
 * measured in this run, all through the gateway (the suite, `npm run bench`, compares a cache hit with
 * bare graphql-yoga):
 * - a cache hit vs the same query uncached (CACHE_TTL=0);
 * - the rate limiter's overhead, on vs off, for many identities and for one identity with a large budget.
 */
const QUERY = '{ provider { installations { id externalId license { status endTime } currentDevice { core { batteryLevel pinStatus } } } } }';

async function main(): Promise<void> {
  const settings = readSettings([]);
  const measure = (name: string, env: Record<string, string>, authorizations: string[]) =>
    withRedisPrefix(settings.redisUrl, (redis) =>
      withGateway({ ...redis, ...env }, (gateway) =>
        measureLoad(
          name,
          gateway,
          {
            query: QUERY,
            headerSets: authorizations.map((authorization) => ({ authorization })),
            // Every run but the uncached baseline serves the query from the cache.
            checkAnswer: env.CACHE_TTL === '0' ? undefined : answeredFromCache,
          },
          settings,
        ),
      ),
    );

  const one = await staffAuthorizations(1);
  const many = await staffAuthorizations(500);
  const limiterOn = { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '100000000' };
  const rows = [
    { scenario: await measure('cache hit (Redis)', {}, one), baseline: await measure('cache off', { CACHE_TTL: '0' }, one) },
    { scenario: await measure('limiter on, 500 identities', limiterOn, many), baseline: await measure('limiter off, 500 identities', {}, many) },
    { scenario: await measure('limiter on, 1 identity, large budget', limiterOn, one), baseline: await measure('limiter off, 1 identity', {}, one) },
  ];
  process.stdout.write(
    `## Response cache and rate limiter (${new Date().toISOString()}, ${settings.durationSeconds} s per run; limiter rows: cached query, Redis store)\n\n` +
      `${comparisonTable(rows)}\n`,
  );
  const failed = failedMeasurements(rows);
  if (failed.length > 0) {
    process.stderr.write(`Runs with errors (their figures are not comparable): ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
