/** `npm run generate:schema`: writes schema/evidence.schema.json from the model (see evidence-schema.ts). */
import { writeFileSync } from 'node:fs';
import { evidenceSchemaText } from './evidence-schema.ts';

const target = new URL('../schema/evidence.schema.json', import.meta.url);
writeFileSync(target, evidenceSchemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
