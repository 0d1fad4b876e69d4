import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apiKeyEnv } from './helpers/apiKeys';
import { postGraphQL } from './helpers/clients';
import { createScratchPostgres, type ScratchPostgres } from './helpers/database';
import { archiveReadings } from './helpers/readingArchive';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './helpers/redis';
import { startStack, type Stack } from './helpers/stack';
import { IN_MEMORY, openDatabase, type Database } from '../src/database';

/*
 * `npm run import -- file.csv` run as a provider runs it, against the database a running gateway uses
 * (PostgreSQL) and the Redis its response cache lives in.
 */

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const STAFF = { 'x-api-key': 'staff-key' };
const HEADER = 'customer_external_id,customer_name,customer_email,street,postal_code,city,tariff_name,energy_price_ct_per_kwh,feed_in_ct_per_kwh,base_price_eur_per_month,contract_start,contract_end';

describe('npm run import', () => {
  let scratch: ScratchPostgres;
  let db: Database;
  let stack: Stack;
  let dir: string;
  const keyPrefix = uniqueKeyPrefix('test-import');

  async function importFile(name: string, content: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const file = join(dir, name);
    writeFileSync(file, content);
    const env = { ...process.env, DATABASE_URL: scratch.url, REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix, LOG_LEVEL: 'info' };
    try {
      const { stdout, stderr } = await run('npm', ['run', '--silent', 'import', '--', file], { cwd: ROOT, env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iometer-import-'));
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, embeddedDir: IN_MEMORY });
    stack = await startStack({
      database: db,
      env: { ...apiKeyEnv({ staff: 'staff-key' }), REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix },
      simulator: { installations: 1, readingIntervalMs: 5_000 },
    });
  });
  afterAll(async () => {
    await stack.close();
    await db.close();
    await scratch.drop();
    await deleteKeysWithPrefix(SHARED_REDIS_URL, keyPrefix);
    rmSync(dir, { recursive: true, force: true });
  });

  const goodFile = [
    HEADER,
    'C-1001,Ada Import,ada@example.com,Hauptstraße 1,10115,Berlin,Import Basis,31.57,8.2,12.90,2026-01-01,2026-06-30',
    'C-1001,Ada Import,ada@example.com,Hauptstraße 1,10115,Berlin,Import Öko,29.5,8.2,14.90,2026-07-01,',
    'C-1002,"Bo, Import",,,,,Import Basis,,,,2026-03-01,',
  ].join('\n');

  it('refuses a file with a bad row, naming each bad row and why, and applies nothing', async () => {
    const bad = [
      HEADER,
      'C-1001,Ada Import,ada@example.com,Hauptstraße 1,10115,Berlin,Import Basis,31.57,8.2,12.90,2026-01-01,2026-06-30',
      'C-1001,,,,,,Import Basis,,,,2026-06-01,',
      'C-1003,Cy,not-an-email,,,,Import Basis,31.57,8.2,12.90,2026-01-01,',
      'C-1004,Di,,,,,Unknown Tariff,,,,2026-01-01,',
      'C-1005,Ed,,,,,Import Cheap,0.12345,0,1,,',
    ].join('\n');
    const result = await importFile('bad.csv', bad);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('row 2: customer C-1001 created; tariff "Import Basis" created; contract 2026-01-01 to 2026-06-30 created');
    expect(lines[1]).toMatch(/^row 3: refused: contract_start: overlaps contract [0-9a-f-]{36} of customer C-1001 \(2026-01-01 to 2026-06-30\)/);
    expect(lines[2]).toBe('row 4: refused: customer_email: must be a valid email address');
    expect(lines[3]).toBe('row 5: refused: tariff_name: no tariff "Unknown Tariff" exists; give its prices to create it');
    expect(lines[4]).toBe('row 6: refused: energy_price_ct_per_kwh: must have at most 4 decimal places');
    expect(lines[5]).toBe('import refused: 4 of 5 rows are bad; nothing was applied');
    expect([await count('customers'), await count('tariffs'), await count('contracts')]).toEqual([0, 0, 0]);
    expect(result.stderr).not.toContain('"audit"');
  });

  it('refuses a file whose header it does not know, before touching anything', async () => {
    const result = await importFile('header.csv', 'customer,name\nC-1,X\n');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown: customer, name');
  });

  it('applies a good file completely, reports every row, audits each change, and is idempotent', async () => {
    const first = await importFile('good.csv', goodFile);
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n')).toEqual([
      'row 2: customer C-1001 created; tariff "Import Basis" created; contract 2026-01-01 to 2026-06-30 created',
      'row 3: customer C-1001 unchanged; tariff "Import Öko" created; contract 2026-07-01 to open-ended created',
      'row 4: customer C-1002 created; contract 2026-03-01 to open-ended created',
      'imported 3 rows: 7 records created or updated',
    ]);
    const audit = first.stderr.trim().split('\n').map((line) => JSON.parse(line)).filter((entry) => entry.audit);
    expect(audit).toHaveLength(7);
    expect(audit[0].audit).toMatchObject({ by: { via: 'import' }, action: 'import', entity: 'Customer', before: null, after: { externalId: 'C-1001', name: 'Ada Import' } });

    const again = await importFile('good.csv', goodFile);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('row 4: customer C-1002 unchanged; contract 2026-03-01 to open-ended unchanged');
    expect(again.stdout).toContain('imported 3 rows: 0 records created or updated');
    expect([await count('customers'), await count('tariffs'), await count('contracts')]).toEqual([2, 2, 3]);
  });

  it("drops the gateways' cached responses it changed (shared response cache in Redis)", async () => {
    const { body } = await postGraphQL(stack.gateway.url, '{ provider { installation(externalId: "C-1001") { id } } }', {}, STAFF);
    const meter = { meterId: 'meter-i', meterNumber: '1ISK0000000077', installationId: body.data.provider.installation.id, externalId: 'C-1001' };
    await archiveReadings(db, [
      { ...meter, time: '2026-08-03T08:00:00Z', importedWh: 5_000 },
      // 2 kWh on Aug 3 under "Import Öko" (29.5 ct/kWh): €0.59; under a new tariff at 30 ct: €0.60.
      { ...meter, time: '2026-08-03T12:00:00Z', importedWh: 7_000 },
    ]);
    const query = '{ customer(externalId: "C-1001") { consumption(from: "2026-08-03T00:00:00+02:00", to: "2026-08-04T00:00:00+02:00", resolution: DAY) { cost } } }';
    const before = await postGraphQL(stack.gateway.url, query, {}, STAFF);
    expect(before.body.data.customer.consumption).toEqual([{ cost: 0.59 }]);
    expect((await postGraphQL(stack.gateway.url, query, {}, STAFF)).headers.get('x-cache')).toBe('HIT');

    const switched = await importFile('switch.csv', [HEADER, 'C-1001,,,,,,Import Öko,,,,2026-07-01,2026-07-31', 'C-1001,,,,,,Import Neu,30,8.2,14.90,2026-08-01,'].join('\n'));
    expect(switched.code).toBe(0);
    const after = await postGraphQL(stack.gateway.url, query, {}, STAFF);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.body.data.customer.consumption).toEqual([{ cost: 0.6 }]);
  });
});
