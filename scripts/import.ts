import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { changedRecordTags } from '../src/cache/lookups';
import { createRedisResponseStore } from '../src/cache/redisStore';
import { CacheStats } from '../src/cache/stats';
import { loadGatewayConfig } from '../src/config';
import { createAuditLog } from '../src/customers/audit';
import { applyImport, type ImportResult } from '../src/customers/import/apply';
import { ImportFileError, parseImportFile } from '../src/customers/import/rows';
import { openDatabase } from '../src/database';
import { createLogger, type Logger } from '../src/logging/logger';
import { openRedis } from '../src/redis/connection';

/**
 * `npm run import -- file.csv`: customers, tariffs and contracts from a CRM export (columns in
 * src/customers/import/rows.ts) into the database the gateway uses (DATABASE_URL, else EMBEDDED_DB_DIR).
 * Prints what each row did, or why it was refused; applies everything or nothing. Exit code 0 when
 * applied, 1 when refused (nothing changed), 2 when the file cannot be read as an import.
 * Log lines (one audit line per change) go to stderr, the report to stdout.
 */

const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** How long the import waits for Redis to invalidate cached responses before it gives up on that. */
const REDIS_WAIT_MS = 5_000;

async function main(): Promise<number> {
  const file = process.argv[2];
  if (!file || process.argv.length > 3) {
    process.stderr.write('usage: npm run import -- <file.csv>\n');
    return 2;
  }
  const config = loadGatewayConfig();
  const logger = createLogger({ level: config.logLevel, destination: process.stderr });
  let rows;
  try {
    if (statSync(file).size > MAX_FILE_BYTES) throw new ImportFileError(`larger than ${MAX_FILE_BYTES} bytes; import it in parts`);
    rows = parseImportFile(readFileSync(file, 'utf8'));
  } catch (error) {
    process.stderr.write(`${file}: ${error instanceof ImportFileError ? error.message : (error as Error).message}\n`);
    return 2;
  }

  const db = await openDatabase(config.database);
  let result: ImportResult;
  try {
    result = await applyImport(db, rows);
  } finally {
    await db.close();
  }
  for (const report of result.rows) {
    process.stdout.write(`row ${report.row}: ${report.refused ? `refused: ${report.refused}` : report.done.join('; ') || 'nothing to do'}\n`);
  }
  const refused = result.rows.filter((report) => report.refused).length;
  if (!result.applied) {
    process.stdout.write(`import refused: ${refused} of ${result.rows.length} rows are bad; nothing was applied\n`);
    return 1;
  }

  const audit = createAuditLog(logger);
  const by = { subject: userInfo().username, via: 'import' };
  for (const change of result.changes) audit({ by, action: 'import', entity: change.entity, change: change.change });
  const changed = result.changes.filter(({ change }) => change.before !== change.after);
  if (changed.length > 0 && config.redis.url) await invalidateCachedResponses(config.redis.url, config.redis.keyPrefix, changed, logger);
  process.stdout.write(`imported ${result.rows.length} rows: ${changed.length} records created or updated\n`);
  return 0;
}

/**
 * Gateways share their response cache in Redis: the import drops what it changed, as a mutation would.
 * Without Redis each gateway caches in its own memory, which the import cannot reach: those entries
 * expire with their TTL (README, Response cache).
 */
async function invalidateCachedResponses(url: string, keyPrefix: string, changed: ImportResult['changes'], logger: Logger): Promise<void> {
  const redis = openRedis(url, keyPrefix, logger);
  try {
    await Promise.race([once(redis.client, 'ready'), new Promise((_resolve, reject) => setTimeout(() => reject(new Error('Redis not ready')), REDIS_WAIT_MS).unref())]);
    const store = createRedisResponseStore({ redis, logger, stats: new CacheStats() });
    await store.invalidate(
      changedRecordTags(changed.map(({ entity, change, customerExternalId }) => ({ typename: entity, id: change.after.id, customerExternalId }))),
    );
    await store.settled();
  } catch (error) {
    logger.warn({ err: error }, 'import applied, but cached responses could not be invalidated; they expire with their TTL');
  } finally {
    await redis.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
