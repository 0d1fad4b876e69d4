import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadSimulatorConfig, type SimulatorConfig } from '../config';
import { RETENTION_MS } from './readingStore';
import { GRAPHQL_PATH, serveSimulation } from './server';
import { createSimulation } from './simulation';
import type { SimulatorFaults } from './faults';
import { historicReadings, type HistoricReading } from './history';
import { createStats, resetStats, type SimulatorStats } from './stats';

/**
 * A stand-in for the IOmeter Provider API with the documented semantics, for tests and the sandbox.
 * The gateway never imports this outside sandbox start-up and tests.
 */

export interface SimulatorOptions extends Partial<SimulatorConfig> {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

export interface RunningSimulator {
  /** http://HOST:PORT/v1/query */
  url: string;
  /** ws://HOST:PORT/v1/query (graphql-ws) */
  wsUrl: string;
  port: number;
  token: string;
  secret: string;
  provider: { id: string; name: string };
  stats: SimulatorStats;
  resetStats(): void;
  /** Stalls or failures of HTTP requests, switched on and off by setting fields; starts empty. */
  faults: SimulatorFaults;
  /** Forcibly terminates all open WebSocket connections, to simulate an upstream drop. */
  dropConnections(): void;
  /** Same as POST /sandbox/redeem; rejects with a RedeemError (status 404, 409 or 410). */
  redeem(token: string): Promise<{ installationId: string }>;
  /** The readings the provider's installations would have reported at these times (src/simulator/history.ts). */
  historicReadings(times: Iterable<number>): Iterable<HistoricReading>;
  /** Stands in for the Admin Backend, so tests can void tokens signed with a key. */
  setSigningKeyEnabled(id: string, enabled: boolean): void;
  /** Drives the instantaneous power the installation's readings report (undefined: the load curve again). */
  setPowerW(externalId: string, powerW: number | undefined): void;
  close(): Promise<void>;
}

export { RedeemError } from './registrations';
export type { SimulatorFaults } from './faults';
export type { SimulatorStats } from './stats';

function resolveConfig(options: SimulatorOptions): SimulatorConfig {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const config: SimulatorConfig = { ...loadSimulatorConfig({}), port: 0, ...given };
  const problems = [
    !(Number.isInteger(config.installations) && config.installations >= 1) && 'installations must be an integer >= 1',
    !(config.readingIntervalMs >= 10) && 'readingIntervalMs must be at least 10',
    !(config.duplicateRate >= 0 && config.duplicateRate <= 1) && 'duplicateRate must be between 0 and 1',
    !(config.historyMs >= 0 && config.historyMs <= RETENTION_MS) && 'historyMs must be between 0 and 24h',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`Invalid simulator options: ${problems.join('; ')}`);
  return config;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// A wildcard bind address is not somewhere a client can connect to; IPv6 literals need brackets in URLs.
function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const config = resolveConfig(options);
  const httpServer = createServer();
  await listen(httpServer, config.port, config.host);
  const { port } = httpServer.address() as AddressInfo;
  const origin = `http://${clientHost(config.host)}:${port}`;

  const stats = createStats();
  const sim = createSimulation(config, stats, origin);
  const faults: SimulatorFaults = {};
  const server = serveSimulation(httpServer, sim, config, faults);
  let closing: Promise<void> | undefined;

  return {
    url: `${origin}${GRAPHQL_PATH}`,
    wsUrl: `${origin.replace(/^http/, 'ws')}${GRAPHQL_PATH}`,
    port,
    token: config.token,
    secret: config.secret,
    provider: { ...sim.world.provider },
    stats,
    faults,
    resetStats: () => resetStats(stats),
    dropConnections: server.dropConnections,
    redeem: async (token) => sim.registrations.redeem(token),
    historicReadings: (times) => historicReadings(sim.world, times),
    setSigningKeyEnabled(id, enabled) {
      const key = sim.world.signingKey(id);
      if (!key) throw new Error(`Signing key ${id} does not exist`);
      key.enabled = enabled;
    },
    setPowerW(externalId, powerW) {
      const installation = sim.world.installationByExternalId(externalId);
      if (!installation) throw new Error(`No installation has externalId ${externalId}`);
      installation.powerOverrideW = powerW;
    },
    close() {
      // Idempotent, so a test that takes IOmeter down mid-test can still close its whole stack at the end.
      closing ??= (async () => {
        sim.stop();
        await server.close();
        httpServer.closeAllConnections();
        await new Promise<void>((resolve, reject) => httpServer.close((error) => (error ? reject(error) : resolve())));
      })();
      return closing;
    },
  };
}
