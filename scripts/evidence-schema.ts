/**
 * The JSON Schema of `evidence.json`, generated from the TypeScript model (`lib/evidence/model.ts`):
 * the one source of truth of what a pack holds. The model is what the code is written against and
 * where each field is documented; the generator turns that TSDoc into the schema's descriptions and
 * its tags (`@pattern`, `@format`, `@minimum`, `@minItems`, …) into constraints, so the published
 * schema that auditors validate with their own tools says the same as the code, in the same words.
 *
 *   npm run generate:schema     # writes schema/evidence.schema.json
 *
 * `test/evidence/schema-generated.test.ts` fails when the file is not what this module generates.
 */
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMA_ID = 'https://sessiontrail.dev/schemas/evidence/v1.json';

/** The schema as written to `schema/evidence.schema.json` (draft 2020-12, two-space indent, final newline). */
export function evidenceSchemaText(): string {
  const generated = createGenerator({
    path: `${ROOT}lib/evidence/model.ts`,
    tsconfig: `${ROOT}tsconfig.json`,
    type: 'EvidencePack',
    expose: 'export',
    topRef: false,
    jsDoc: 'extended',
    additionalProperties: false,
    sortProps: true,
    skipTypeCheck: true,
  }).createSchema('EvidencePack') as Record<string, unknown>;
  const { $schema: _draft07, definitions, ...root } = generated;
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'sessiontrail evidence pack (evidence.json)',
    description:
      'Generated from the EvidencePack type of lib/evidence/model.ts (npm run generate:schema); do not edit by hand.',
    ...root,
    $defs: definitions,
  };
  // Draft 2020-12 keeps definitions under $defs.
  return `${JSON.stringify(schema, null, 2).replaceAll('"#/definitions/', '"#/$defs/')}\n`;
}
