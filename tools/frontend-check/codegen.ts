import type { CodegenConfig } from '@graphql-codegen/cli';

// run.sh sets SCHEMA to an absolute path (default: the committed ../../schema.graphql).
const schema = process.env.SCHEMA ?? '../../schema.graphql';

// Every custom scalar of the schema must be mapped here. With `strictScalars` a scalar that is
// not mapped fails the run, so adding one to the API forces a decision on its frontend type.
const scalarConfig = {
  strictScalars: true,
  scalars: {
    DateTime: { input: 'string', output: 'string' },
    // A calendar date with no time or zone, "2026-12-02" (ISO 8601).
    NaiveDate: { input: 'string', output: 'string' },
    JSON: { input: 'unknown', output: 'unknown' },
  },
};

const config: CodegenConfig = {
  schema,
  documents: ['codegen/operations/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    // The whole schema as TypeScript types: every type and every scalar of the SDL, whether
    // an operation uses it or not (so strictScalars sees all of them).
    'generated/schema-types.ts': {
      schema,
      documents: [],
      plugins: ['typescript'],
      config: { ...scalarConfig, enumsAsTypes: true, useTypeImports: true },
    },
    // The operations' result and variables types. typescript-operations 6 emits the enums and
    // input types the operations need by itself, so it does not import schema-types.ts.
    'generated/operations.ts': {
      plugins: ['typescript-operations'],
      config: { ...scalarConfig, enumType: 'string-literal', useTypeImports: true },
    },
  },
};

export default config;
