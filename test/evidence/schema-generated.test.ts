import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evidenceSchemaText } from '../../scripts/evidence-schema.ts';

describe('schema/evidence.schema.json', () => {
  it('is exactly what the model generates (npm run generate:schema): the types and the schema cannot drift', () => {
    const committed = readFileSync(new URL('../../schema/evidence.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(evidenceSchemaText());
  }, 60_000);
});
