import { writeFileSync } from 'node:fs';
import { CONTRACT_PATH, contractDrift, describeDrift, printGatewaySdl, readContractSdl } from './schemaContract';

/**
 * `npm run schema` writes the unified graph's SDL to schema.graphql; `npm run schema:check`
 * (for CI systems other than jest) exits 1 listing the classified changes when the two differ.
 */
async function main(): Promise<void> {
  const built = await printGatewaySdl();
  if (!process.argv.includes('--check')) {
    writeFileSync(CONTRACT_PATH, built);
    process.stdout.write(`wrote ${CONTRACT_PATH}\n`);
    return;
  }
  const drift = await contractDrift(readContractSdl(), built);
  if (drift) {
    process.stderr.write(`${describeDrift(drift)}\n`);
    process.exit(1);
  }
  process.stdout.write('schema.graphql matches the built schema\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
