import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ArchiveWriter, toArchiveRow } from './archive';
import { loadSimulatorConfig, type GatewayConfig, type UpstreamConfig } from './config';
import { seedSandboxCustomers } from './customers/sandboxSeed';
import type { CustomerStore } from './customers/store';
import { IN_MEMORY, type Database } from './database';
import { signDemoTokens, type DemoTokens } from './identity';
import type { Logger } from './logging/logger';
import { startSimulator, type RunningSimulator } from './simulator';

export interface Sandbox {
  simulator: RunningSimulator;
  upstream: UpstreamConfig;
}

/**
 * Sandbox mode: with no IOMETER_ENDPOINT configured, the gateway fronts an in-process IOmeter
 * simulator on a free loopback port, and the customer store gets demo customers whose
 * externalIds match the simulator's installations. The credentials are generated per start.
 */
export async function startSandbox(
  settings: NonNullable<GatewayConfig['sandbox']>,
  store: CustomerStore,
  logger: Logger,
  archive?: { db: Database; retentionMs: number },
): Promise<Sandbox> {
  const simulatorConfig = loadSimulatorConfig();
  const simulator = await startSimulator({
    ...simulatorConfig,
    host: '127.0.0.1',
    port: 0,
    token: randomBytes(16).toString('hex'),
    secret: randomBytes(24).toString('hex'),
  });
  // The simulator numbers its installations C-1001, C-1002, … (see src/simulator/seed.ts).
  const onboardedExternalIds = Array.from({ length: simulatorConfig.installations }, (_, index) => `C-${1001 + index}`);
  const seeded = await seedSandboxCustomers(store, { onboardedExternalIds });
  if (archive) await seedSandboxArchive(archive, simulator, Date.now() - simulatorConfig.historyMs, logger);
  logger.warn(
    { simulator: simulator.url, demoCustomers: seeded.customers.length },
    'SANDBOX MODE: IOMETER_ENDPOINT is not set, so the gateway fronts the built-in IOmeter simulator ' +
      'with demo customers. Set IOMETER_ENDPOINT, IOMETER_TOKEN and IOMETER_SECRET to front the real IOmeter API.',
  );
  return {
    simulator,
    upstream: {
      endpoint: simulator.url,
      wsEndpoint: simulator.wsUrl,
      token: simulator.token,
      secret: simulator.secret,
      timeoutMs: settings.simulatorTimeoutMs,
    },
  };
}

/** The first day of the sandbox archive's history: the README's consumption example is March 2026. */
const HISTORY_FROM_MS = Date.parse('2026-02-28T12:00:00Z');
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The last two weeks are hourly (HOUR buckets and reading history show detail); before that, daily at noon. */
const HOURLY_MS = 14 * DAY_MS;

function* historyTimes(untilMs: number): Generator<number> {
  const hourlyFrom = Math.floor((untilMs - HOURLY_MS) / DAY_MS) * DAY_MS;
  for (let time = HISTORY_FROM_MS; time < hourlyFrom; time += DAY_MS) yield time;
  for (let time = Math.max(hourlyFrom, HISTORY_FROM_MS); time < untilMs; time += HOUR_MS) yield time;
}

/**
 * A fresh sandbox archive gets the readings the simulated installations would have reported since
 * HISTORY_FROM_MS, up to where the simulator's own history starts (`untilMs`): the archive then
 * catches up from the simulator and carries on live, without a gap. So consumption and reading
 * history show real numbers from the first start. An archive that holds anything is left alone.
 */
async function seedSandboxArchive(
  { db, retentionMs }: { db: Database; retentionMs: number },
  simulator: RunningSimulator,
  untilMs: number,
  logger: Logger,
): Promise<void> {
  const { rows } = await db.query('SELECT 1 FROM reading_archive LIMIT 1');
  if (rows.length > 0) return;
  const writer = new ArchiveWriter({ db, logger, batchSize: 5_000, flushIntervalMs: 1_000, retentionMs });
  let readings = 0;
  for (const reading of simulator.historicReadings(historyTimes(untilMs))) {
    const row = toArchiveRow(reading);
    if (!row) continue;
    writer.add(row);
    readings += 1;
    await writer.whenRoom();
  }
  await writer.close();
  logger.info({ readings, from: new Date(HISTORY_FROM_MS).toISOString() }, 'sandbox: reading archive seeded with the simulated history');
}

/** Beside the embedded database's directory, so it lives and goes with the sandbox's data. */
export const SANDBOX_SECRET_FILE = 'sandbox-jwt-secret';

/**
 * The sandbox's signing secret, kept in SANDBOX_SECRET_FILE beside EMBEDDED_DB_DIR (made on first
 * start, readable by the owner only), so demo tokens pasted into GraphiQL outlive a restart. With an
 * in-memory database nothing is kept, and neither is the secret.
 */
function sandboxSecret(embeddedDir: string): string {
  if (embeddedDir === IN_MEMORY) return randomBytes(32).toString('base64url');
  const file = join(dirname(embeddedDir), SANDBOX_SECRET_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * Sandbox mode lets anonymous requests act as staff. So that GraphiQL users can also try the
 * customer role, it signs demo JWTs, with AUTH_JWT_SECRET or, when unset, the sandbox's own secret.
 */
export async function sandboxAuth(
  auth: GatewayConfig['auth'],
  database: GatewayConfig['database'],
): Promise<{ auth: GatewayConfig['auth']; demoTokens: DemoTokens }> {
  const withSecret = { ...auth, jwtSecret: auth.jwtSecret ?? sandboxSecret(database.embeddedDir) };
  const demoTokens = await signDemoTokens({
    secret: withSecret.jwtSecret,
    issuer: withSecret.issuer,
    audience: withSecret.audience,
    roleClaim: withSecret.roleClaim,
    externalIdClaim: withSecret.externalIdClaim,
  });
  return { auth: withSecret, demoTokens };
}
