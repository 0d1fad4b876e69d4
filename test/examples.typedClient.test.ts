import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import ts from 'typescript';
import { execute, GatewayError } from '../examples/typed-client/src/client';
import { customerSummary } from '../examples/typed-client/src/customerSummary';
import { CustomerOverview } from '../examples/typed-client/src/operations';
import { seedSandboxCustomers } from '../src/customers/sandboxSeed';
import { CustomerStore } from '../src/customers/store';
import { postgresBackend, type TestDatabase } from './helpers/database';
import { startStack, type Stack } from './helpers/stack';

const ROOT = join(__dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'typed-client');
// The CLI runs in its own process: its ESM dependencies do not load inside jest's module system.
const CODEGEN_BIN = join(ROOT, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js');

/** Type-checks the example with its own tsconfig, the way a frontend project would build it. */
function typeErrors(): string[] {
  const configPath = join(EXAMPLE, 'tsconfig.json');
  const { config: raw } = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(raw, ts.sys, EXAMPLE);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

describe('examples/typed-client', () => {
  it('commits exactly what codegen generates from schema.graphql (else run `npm run codegen`)', () => {
    const check = spawnSync(process.execPath, [CODEGEN_BIN, '--config', join(EXAMPLE, 'codegen.ts'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect({ status: check.status, stale: check.stdout.match(/stale files[\s\S]*/)?.[0] ?? check.stderr }).toEqual({ status: 0, stale: '' });
  });

  it('type-checks against the generated operation types', () => {
    expect(typeErrors()).toEqual([]);
  });

  describe('against a running gateway', () => {
    let testDb: TestDatabase;
    let stack: Stack;

    beforeAll(async () => {
      testDb = await postgresBackend.open();
      await seedSandboxCustomers(new CustomerStore(testDb.db), { onboardedExternalIds: ['C-1001'] });
      stack = await startStack({ database: testDb.db });
    });
    afterAll(async () => {
      await stack.close();
      await testDb.cleanup();
    });

    it('runs the typed operation and returns data in the generated shape', async () => {
      const { customer } = await execute(stack.gateway.url, CustomerOverview, { externalId: 'C-1001' });
      expect(customer).toEqual({
        externalId: 'C-1001',
        name: expect.any(String),
        contract: { status: 'active', tariff: { name: expect.any(String), energyPriceCtPerKwh: expect.any(Number) } },
        installation: { id: expect.any(String), currentMeter: { number: expect.any(String) } },
      });
    });

    it('renders a summary from the typed result, and null for an unknown customer', async () => {
      expect(await customerSummary(stack.gateway.url, 'C-1001')).toMatch(/^.+ · .+ \(active\) · meter \S+$/);
      expect(await customerSummary(stack.gateway.url, 'C-9999')).toBeNull();
    });

    it("surfaces the gateway's GraphQL errors with their codes", async () => {
      const failure = execute(stack.gateway.url, CustomerOverview, { externalId: 'C-1001' }, { authorization: 'Bearer not-a-jwt' });
      await expect(failure).rejects.toBeInstanceOf(GatewayError);
      await expect(failure).rejects.toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    });
  });
});
