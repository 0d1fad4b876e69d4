import { join } from 'node:path';
import { sandboxCustomer } from '../src/customers/sandboxSeed';
import { basicAuthorization } from '../src/upstream/credentials';
import { fanOutMeasurement, runFanOut } from './lib/fanOut';
import { staffAuthorizations } from './lib/identities';
import { graphqlRequest, measureLoad, type GraphQLAnswer } from './lib/load';
import { withServers, type ServerProcess } from './lib/processes';
import { comparisonTable, failedMeasurements, machineFacts, recordSection, type Comparison } from './lib/report';
import { readSettings } from './lib/settings';
import { answeredFromCache, redisEnv, startSimulatorProcess, withGateway } from './lib/stack';

/**
 * `npm run bench`: the whole suite in one run on one machine, every scenario as a ratio to a baseline
 * measured in this run (README, "Benchmarks"):
 *   1. a passthrough query through the gateway, cache off, vs the same query straight at the simulator;
 *   2. the same query stitched with `customer` (PostgreSQL) vs without it, both through the gateway;
 *   3. a response cache hit vs bare graphql-yoga answering a static resolver;
 *   4. live readings fan-out: subscribers on the gateway vs the same subscribers straight at the simulator.
 * Every server runs in a process of its own. A full run records its table in docs/benchmarks.md;
 * `--smoke` only proves the harness works and records nothing.
 */
const INSTALLATION_FIELDS = 'id externalId license { status endTime } currentDevice { core { batteryLevel pinStatus } }';
const PASSTHROUGH = `{ provider { installations { ${INSTALLATION_FIELDS} } } }`;
const STITCHED = `{ provider { installations { ${INSTALLATION_FIELDS} customer { name } } } }`;
const UPSERT_CUSTOMER = 'mutation ($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { id } }';
const RESULTS_FILE = join(__dirname, '..', 'docs', 'benchmarks.md');

type Installations = { provider: { installations: Array<{ externalId: string | null; customer?: { name: string } | null }> } };

/** A customer for every installation's externalId, created through the gateway's own API. */
async function seedCustomers(gateway: ServerProcess, authorization: string): Promise<void> {
  const { data } = await graphqlRequest(gateway.url, { authorization }, '{ provider { installations { externalId } } }');
  const externalIds = (data as Installations).provider.installations.flatMap((installation) => installation.externalId ?? []);
  for (const [n, externalId] of externalIds.entries()) {
    await graphqlRequest(gateway.url, { authorization }, UPSERT_CUSTOMER, { input: sandboxCustomer(externalId, n) });
  }
}

/** The stitched run measures nothing if `customer` resolved to null: every installation has a customer. */
function everyInstallationHasACustomer({ data }: GraphQLAnswer): void {
  const installations = (data as Installations).provider.installations;
  const missing = installations.filter((installation) => installation.externalId && !installation.customer?.name);
  if (installations.length === 0 || missing.length > 0) throw new Error(`stitched probe: ${missing.length} of ${installations.length} installations without a customer`);
}

async function main(): Promise<void> {
  const settings = readSettings([1000]);
  const startedAt = new Date();
  const machine = machineFacts();
  const [staff] = (await staffAuthorizations(1)) as [string];
  const asStaff = { headerSets: [{ authorization: staff }] };
  const cacheOff = { CACHE_TTL: '0' };
  const step = (name: string) => process.stderr.write(`${Math.round((Date.now() - startedAt.getTime()) / 1000)} s: ${name}…\n`);

  step('1. passthrough, 2. stitched');
  // One gateway serves both: scenario 1's query is scenario 2's baseline, so it is measured once.
  const [passthrough, stitched] = await withGateway(cacheOff, async (gateway) => {
    await seedCustomers(gateway, staff);
    const plain = await measureLoad('1. passthrough query through the gateway, cache off', gateway, { query: PASSTHROUGH, ...asStaff }, settings);
    const joined = await measureLoad('2. stitched: installations plus customer, cache off', gateway, { query: STITCHED, ...asStaff, checkAnswer: everyInstallationHasACustomer }, settings);
    return [plain, joined];
  });
  const direct = await withServers(async (start) => {
    const simulator = await startSimulatorProcess(start);
    const headerSets = [{ authorization: basicAuthorization(simulator.endpoint.token, simulator.endpoint.secret) }];
    return measureLoad('the same query straight at the simulator', simulator.server, { query: PASSTHROUGH, url: simulator.endpoint.url, headerSets }, settings);
  });

  step('3. cache hit');
  const cacheHit = await withGateway(redisEnv(settings.redisUrl), (gateway) =>
    measureLoad('3. cache hit (Redis), passthrough query', gateway, { query: PASSTHROUGH, ...asStaff, checkAnswer: answeredFromCache }, settings),
  );
  const staticYoga = await withServers(async (start) =>
    measureLoad('bare graphql-yoga, static resolver', await start('bench/servers/staticYoga.ts'), { query: '{ hello }' }, settings),
  );

  step('4. fan-out');
  const fanOut = await runFanOut(settings);
  const fanOutScenario = fanOutMeasurement(fanOut.gatewayAtDirect);
  const rows: Comparison[] = [
    { scenario: passthrough, baseline: direct },
    { scenario: stitched, baseline: { ...passthrough, name: 'the same without customer (row 1)' } },
    { scenario: cacheHit, baseline: staticYoga },
    { scenario: { ...fanOutScenario, name: `4. fan-out: ${fanOutScenario.name}` }, baseline: fanOutMeasurement(fanOut.direct) },
  ];

  const problems = [...failedMeasurements(rows).map((name) => `${name}: errors during the run`), ...fanOut.problems];
  const section = [
    `## Suite (\`npm run bench\`), ${startedAt.toISOString().slice(0, 10)}${settings.provisional ? ' — PROVISIONAL' : ''}`,
    ...(settings.provisional
      ? ['', '> Provisional: measured on a machine shared with other engineers running tests, so the figures are noisy. To be rerun on a quiet machine.']
      : []),
    '',
    `Machine: ${machine}. Started ${startedAt.toISOString()}, ${settings.durationSeconds} s per measured run ` +
      `after ${settings.warmUpSeconds} s of warm-up; HTTP load from 32 autocannon connections in the bench process. ` +
      'Every server ran in a process of its own; the gateway fronted the simulator in another process (not sandbox mode). ' +
      'Rows 1 and 2 were measured on the same gateway process, one after the other.',
    '',
    comparisonTable(rows),
    '',
    'Throughput is requests/s (fan-out: readings delivered/s); peak RSS is that of the process serving the load, during the measured run ' +
      '(fan-out: from idle through connect and delivery). Ratios are scenario / baseline: above 1 is better for throughput, below 1 for latency and RSS.',
    ...(problems.length > 0 ? ['', 'Not comparable (errors or failed checks):', ...problems.map((problem) => `- ${problem}`)] : []),
    '',
    '### Fan-out detail',
    '',
    fanOut.markdown,
  ].join('\n');

  step('done');
  process.stdout.write(`${section}\n`);
  if (settings.smoke) {
    process.stderr.write('Smoke run: nothing recorded.\n');
  } else {
    recordSection(RESULTS_FILE, section);
    process.stderr.write(`Recorded in ${RESULTS_FILE}.\n`);
  }
  if (problems.length > 0) {
    process.stderr.write(`Failed (figures of these runs are not comparable):\n  ${problems.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
