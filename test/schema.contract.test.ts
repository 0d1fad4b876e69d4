import { CriticalityLevel } from '@graphql-inspector/core';
import { buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { contractDrift, describeDrift, printGatewaySdl, readContractSdl } from '../scripts/schemaContract';
import { postGraphQL } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

/** Introspection carries no directive nodes, so both sides are compared as graphql-js prints them. */
const printed = (schema: GraphQLSchema) => printSchema(lexicographicSortSchema(schema));

describe('schema.graphql, the committed contract', () => {
  let committed: string;
  let built: string;

  beforeAll(async () => {
    committed = readContractSdl();
    built = await printGatewaySdl();
  });

  it('is the schema the gateway builds (else run `npm run schema`)', async () => {
    const drift = await contractDrift(committed, built);
    if (drift) throw new Error(describeDrift(drift));
    expect(built).toBe(committed);
  });

  it('classifies drift: a removed field is BREAKING, a new argument DANGEROUS, a new field NON_BREAKING', async () => {
    const edited = committed
      .replace(/^ {2}email: String\n/m, '  nickname: String\n')
      .replace('customers(after: String,', 'customers(after: String, city: String,');
    expect(edited).not.toBe(committed);

    const drift = await contractDrift(committed, edited);
    expect(drift).toBeDefined();
    const byLevel = (level: CriticalityLevel) =>
      drift!.filter((change) => change.criticality.level === level).map((change) => change.message);
    expect(byLevel(CriticalityLevel.Breaking)).toEqual(expect.arrayContaining([expect.stringMatching(/'email'.*removed/)]));
    expect(byLevel(CriticalityLevel.Dangerous)).toEqual(expect.arrayContaining([expect.stringMatching(/'city: String' added/)]));
    expect(byLevel(CriticalityLevel.NonBreaking)).toEqual(expect.arrayContaining([expect.stringMatching(/'nickname'.*added/)]));

    const report = describeDrift(drift!);
    expect(report).toMatch(/^BREAKING \(\d+\):$/m);
    expect(report).toContain('npm run schema');
  });

  it('does not report a schema that only differs in print order as a schema change', async () => {
    const reordered = committed.replace(/(type Contract \{\n)( {2}"""Last day in force[^\n]*\n {2}endDate: Date\n)( {2}id: ID!\n)/, '$1$3$2');
    expect(reordered).not.toBe(committed);
    const drift = await contractDrift(committed, reordered);
    expect(drift).toEqual([]);
    expect(describeDrift(drift!)).toContain('only its printed form');
  });
});

describe('the running gateway', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('serves staff the committed schema.graphql', async () => {
    const response = await postGraphQL(stack.gateway.url, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
    expect(printed(buildClientSchema(response.body.data))).toBe(printed(buildSchema(readContractSdl())));
  });
});
