import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Frontend teams generate from the committed contract (../../schema.graphql), never from a running
 * gateway: introspection is staff-only, and the contract is what CI guarantees the gateway serves.
 */
const config: CodegenConfig = {
  schema: `${__dirname}/../../schema.graphql`,
  documents: [`${__dirname}/src/**/*.ts`, `!${__dirname}/src/gql/**`],
  ignoreNoDocuments: false,
  generates: {
    [`${__dirname}/src/gql/`]: {
      preset: 'client',
      config: {
        // Operations travel as strings, so the client needs no GraphQL library at run time.
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        // A new custom scalar must get a type here rather than silently becoming `any`.
        strictScalars: true,
        scalars: {
          Date: 'string',
          DateTime: 'string',
          MeterNumber: 'string',
          ObisCode: 'string',
          Uri: 'string',
          Uuid: 'string',
        },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
