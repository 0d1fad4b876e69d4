import { Writable } from 'node:stream';
import { loadGatewayConfig, type UpstreamConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/database';
import { createLogger } from '../../src/logging/logger';
import { startGateway, type RunningGateway } from '../../src/server';
import { postgresBackend } from './database';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator';

export interface Stack {
  simulator: RunningSimulator;
  gateway: RunningGateway;
  database: Database;
  /** Every JSON line the gateway logged. */
  logs: string[];
  close(): Promise<void>;
}

export interface StackOptions {
  simulator?: SimulatorOptions;
  /** A simulator another stack started (replicas of one cluster); this stack neither starts nor closes it. */
  sharedSimulator?: RunningSimulator;
  /** Overrides what the gateway believes about its upstream, e.g. a wrong secret. */
  upstream?: Partial<UpstreamConfig>;
  env?: Record<string, string>;
  /**
   * Defaults to a fresh database on the local PostgreSQL, which opens in a fraction of a second where
   * an in-memory PGlite takes seconds; the suites run over `backends` cover PGlite.
   */
  database?: Database;
}

/**
 * Takes a gateway out of sandbox mode (where every caller is staff), so clients sign in for real.
 * startStack points the gateway at its own simulator: this endpoint is never called.
 */
export const OUT_OF_SANDBOX_ENV = {
  IOMETER_ENDPOINT: 'http://127.0.0.1:9/v1/query',
  IOMETER_TOKEN: 'unused',
  IOMETER_SECRET: 'unused',
} as const;

/** A simulator and a gateway in front of it, both on free loopback ports. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const simulator = options.sharedSimulator ?? (await startSimulator({ readingIntervalMs: 200, ...options.simulator, port: 0 }));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  const config = loadGatewayConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug',
    // Short multiplexer timings keep the suite fast; the defaults are for production.
    SUBSCRIPTION_GRACE: '200ms',
    SUBSCRIPTION_RETRY_BUDGET: '2s',
    // The archive keeps the upstream subscription open without clients; suites that count
    // upstream subscriptions expect it to open with the first client, so they run without it.
    ARCHIVE_ENABLED: 'false',
    // Usage alerts do the same; their own suite turns them on.
    USAGE_ALERTS_ENABLED: 'false',
    ...options.env,
  });
  const scratch = options.database || config.database.url ? undefined : await postgresBackend.open();
  const database = options.database ?? scratch?.db ?? (await openDatabase(config.database));
  const upstream = {
    endpoint: simulator.url,
    wsEndpoint: simulator.wsUrl,
    token: simulator.token,
    secret: simulator.secret,
    timeoutMs: 5_000,
    ...options.upstream,
  };
  const gateway = await startGateway({ config: { ...config, upstream }, database, logger: createLogger({ level: 'debug', destination }) });
  return {
    simulator,
    gateway,
    database,
    logs,
    close: async () => {
      await gateway.close();
      if (!options.sharedSimulator) await simulator.close();
      if (scratch) await scratch.cleanup();
      else if (!options.database) await database.close();
    },
  };
}
