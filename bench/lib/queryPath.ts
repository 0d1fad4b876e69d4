import { sandboxCustomer } from '../../src/customers/sandboxSeed';
import { basicAuthorization } from '../../src/upstream/credentials';
import { measureLatency } from './latency';
import { graphqlRequest, measureLoad, type GraphQLAnswer, type LoadOptions } from './load';
import type { Measurement } from './measurement';
import { withServers, type ServerProcess } from './processes';
import type { Comparison, Target } from './report';
import type { BenchSettings } from './settings';
import { startGatewayProcess, startSimulatorProcess } from './stack';

/**
 * The query path (issue 12): one simulator, and in front of it our gateway (response cache off) and
 * the peer to beat, Hive Gateway in proxy mode injecting the same Basic credentials. Every figure is
 * measured against the same simulator process in the same run, one load at a time:
 * - saturated: the installations query (32 connections) and the small query (10 connections);
 * - one connection: the small and the installations query, latency to the microsecond;
 * - stitched: installations plus `customer` (PostgreSQL) through the gateway, against row 1.
 */
const INSTALLATION_FIELDS = 'id externalId license { status endTime } currentDevice { core { batteryLevel pinStatus } }';
export const PASSTHROUGH = `{ provider { installations { ${INSTALLATION_FIELDS} } } }`;
const STITCHED = `{ provider { installations { ${INSTALLATION_FIELDS} customer { name } } } }`;
const SMALL = 'query Small { provider { id name } }';
const UPSERT_CUSTOMER = 'mutation ($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { id } }';
const SMALL_CONNECTIONS = 10;

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

export interface QueryPathResult {
  /** Saturated runs, each beside its baseline (for the comparison table). */
  saturated: Comparison[];
  /** One-connection runs, each beside the same query straight at the simulator (for the latency table). */
  oneConnection: Comparison[];
  /** Issue 12's targets that these runs decide. */
  targets: Target[];
}

const ms = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)} ms`;
const times = (value: number) => `${value.toFixed(2)}×`;

export async function runQueryPath(settings: BenchSettings, staffAuthorization: string, step: (name: string) => void): Promise<QueryPathResult> {
  return withServers(async (start) => {
    const simulator = await startSimulatorProcess(start);
    const basic = basicAuthorization(simulator.endpoint.token, simulator.endpoint.secret);
    const gateway = await startGatewayProcess(start, simulator.endpoint, { CACHE_TTL: '0' });
    const hive = await start('bench/servers/hiveGateway.ts', { HIVE_UPSTREAM_URL: simulator.endpoint.url, HIVE_UPSTREAM_AUTHORIZATION: basic });
    await seedCustomers(gateway, staffAuthorization);

    const targets = {
      direct: { server: simulator.server, options: { url: simulator.endpoint.url, headerSets: [{ authorization: basic }] }, label: 'straight at the simulator' },
      gateway: { server: gateway, options: { headerSets: [{ authorization: staffAuthorization }] }, label: 'through the gateway, cache off' },
      hive: { server: hive, options: {}, label: 'through Hive Gateway (proxy mode)' },
    };
    type Name = keyof typeof targets;
    const saturated = (name: Name, query: string, label: string, connections?: number, extra: Partial<LoadOptions> = {}) => {
      const target = targets[name];
      return measureLoad(`${label}, ${target.label}`, target.server, { query, connections, ...target.options, ...extra }, settings);
    };
    const single = (name: Name, query: string, label: string) => {
      const target = targets[name];
      return measureLatency(`${label}, ${target.label}`, target.server, { query, ...target.options }, settings);
    };

    const byTarget = async (names: Name[], measure: (name: Name) => Promise<Measurement>) => {
      const results = {} as Record<Name, Measurement>;
      for (const name of names) results[name] = await measure(name);
      return results;
    };
    const all: Name[] = ['direct', 'gateway', 'hive'];
    step('query path: installations, 32 connections');
    const installations = await byTarget(all, (name) => saturated(name, PASSTHROUGH, 'installations query, 32 connections'));
    step('query path: small query, 10 connections');
    const small = await byTarget(all, (name) => saturated(name, SMALL, `small query, ${SMALL_CONNECTIONS} connections`, SMALL_CONNECTIONS));
    step('query path: one connection');
    const smallSingle = await byTarget(all, (name) => single(name, SMALL, 'small query'));
    const installationsSingle = await byTarget(all, (name) => single(name, PASSTHROUGH, 'installations query'));
    step('query path: stitched');
    const stitched = await saturated('gateway', STITCHED, 'stitched: installations plus customer, 32 connections', undefined, { checkAnswer: everyInstallationHasACustomer });

    const cpuRatio = installations.gateway.cpuMicrosPerRequest! / installations.direct.cpuMicrosPerRequest!;
    return {
      saturated: [
        { scenario: installations.gateway, baseline: installations.direct },
        { scenario: small.gateway, baseline: small.direct },
        { scenario: stitched, baseline: installations.gateway },
        { scenario: installations.hive, baseline: installations.direct },
        { scenario: small.hive, baseline: small.direct },
      ],
      oneConnection: [
        { scenario: smallSingle.gateway, baseline: smallSingle.direct },
        { scenario: installationsSingle.gateway, baseline: installationsSingle.direct },
        { scenario: smallSingle.hive, baseline: smallSingle.direct },
        { scenario: installationsSingle.hive, baseline: installationsSingle.direct },
      ],
      targets: [
        ...[smallSingle, installationsSingle].flatMap((run, index) => {
          const query = index === 0 ? 'small' : 'installations';
          const p50 = run.gateway.p50Ms - run.direct.p50Ms;
          const p99 = run.gateway.p99Ms - run.direct.p99Ms;
          return [
            { figure: `1 connection, ${query} query: added p50`, value: p50, shown: ms(p50), target: '≤ +1 ms', met: p50 <= 1 },
            { figure: `1 connection, ${query} query: added p99`, value: p99, shown: ms(p99), target: '≤ +3 ms', met: p99 <= 3 },
          ];
        }),
        {
          figure: 'gateway CPU per installations request / the simulator’s (saturated)',
          value: cpuRatio,
          shown: times(cpuRatio),
          target: '≤ 1.00×',
          met: cpuRatio <= 1,
        },
        ...[
          ['saturated installations query / direct', installations.gateway.throughputPerSecond / installations.direct.throughputPerSecond, 0.75],
          [`saturated small query (${SMALL_CONNECTIONS} connections) / direct`, small.gateway.throughputPerSecond / small.direct.throughputPerSecond, 0.75],
          ['stitched / unstitched', stitched.throughputPerSecond / installations.gateway.throughputPerSecond, 0.8],
          ['gateway / Hive Gateway, saturated installations query', installations.gateway.throughputPerSecond / installations.hive.throughputPerSecond, 1],
        ].map(([figure, value, target]) => ({
          figure: figure as string,
          value: value as number,
          shown: times(value as number),
          target: `≥ ${(target as number).toFixed(2)}×`,
          met: (value as number) >= (target as number),
        })),
      ],
    };
  });
}
