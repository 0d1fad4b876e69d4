import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diff, type Change } from '@graphql-inspector/core';
import { getMesh } from '@graphql-mesh/runtime';
import { GraphQLDeferDirective, GraphQLStreamDirective, printSchemaWithDirectives } from '@graphql-tools/utils';
import { buildSchema, GraphQLSchema, lexicographicSortSchema } from 'graphql';
import { getMeshOptions } from '../.mesh';

/** The committed contract frontend teams generate their clients from. */
export const CONTRACT_PATH = join(__dirname, '..', 'schema.graphql');

/**
 * The unified graph as staff see it, built from the .mesh artifact as the gateway builds it, and
 * sorted so the committed SDL diffs by meaning rather than by merge order. The IOmeter source is the
 * local SDL (src/iometer/iometer.graphql), so no upstream is contacted; the gateway's transport swap
 * (src/mesh.ts) changes how fields execute, never the schema. The gateway serves @defer and @stream
 * too (yoga's defer-stream plugin adds them, src/plugins/useIncrementalDelivery.ts), so the contract has them.
 */
export async function printGatewaySdl(): Promise<string> {
  const mesh = await getMesh(await getMeshOptions());
  try {
    const served = new GraphQLSchema({ ...mesh.schema.toConfig(), directives: [...mesh.schema.getDirectives(), GraphQLDeferDirective, GraphQLStreamDirective] });
    return `${printSchemaWithDirectives(lexicographicSortSchema(served))}\n`;
  } finally {
    mesh.destroy();
  }
}

export function readContractSdl(): string {
  return readFileSync(CONTRACT_PATH, 'utf8');
}

/** Undefined when the built SDL is the committed one, else what changed, classified by graphql-inspector. */
export async function contractDrift(committed: string, built: string): Promise<Change[] | undefined> {
  if (committed === built) return undefined;
  return diff(buildSchema(committed), buildSchema(built));
}

const LEVELS = ['BREAKING', 'DANGEROUS', 'NON_BREAKING'] as const;

export function describeDrift(changes: Change[]): string {
  const lines = ['schema.graphql differs from the schema the gateway builds.'];
  for (const level of LEVELS) {
    const found = changes.filter((change) => change.criticality.level === level);
    if (found.length) lines.push(`${level} (${found.length}):`, ...found.map((change) => `  - ${change.message}`));
  }
  if (!changes.length) lines.push('(no schema change, only its printed form)');
  lines.push('If the change is intended, run `npm run schema` and commit schema.graphql.');
  return lines.join('\n');
}
