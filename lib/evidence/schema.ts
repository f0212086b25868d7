import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { SessiontrailError } from '../errors.ts';
import { EVIDENCE_SCHEMA_ID } from './model.ts';

/** Where the JSON Schema of `evidence.json` lives, relative to this module (also in the built tree). */
export const EVIDENCE_SCHEMA_URL = new URL('../../schema/evidence.schema.json', import.meta.url);

/** The outcome of {@link validateEvidence}: `errors` are one line each, `<json pointer> <problem>`. */
export type EvidenceValidation = { ok: true } | { ok: false; errors: string[] };

// Compiled on first use, not at import: importing the module must not touch the disk.
let compiled: ValidateFunction | undefined;

/**
 * Validates a parsed `evidence.json` against `schema/evidence.schema.json` (draft 2020-12): every
 * object closed, enums for the string unions, `date-time` (UTC, milliseconds) for times.
 *
 * @returns `{ ok: true }` or every error found (ajv `allErrors`), never throws for bad input.
 * @throws {SessiontrailError} `BAD_CONFIG` when the schema file itself is missing or does not compile
 *   (an installation problem, not a bad pack).
 */
export function validateEvidence(json: unknown): EvidenceValidation {
  const validate = evidenceValidator();
  if (validate(json)) return { ok: true };
  return { ok: false, errors: (validate.errors ?? []).map(formatError) };
}

function evidenceValidator(): ValidateFunction {
  if (compiled) return compiled;
  let schema: SchemaObject;
  try {
    schema = JSON.parse(readFileSync(EVIDENCE_SCHEMA_URL, 'utf8')) as SchemaObject;
  } catch (cause) {
    throw new SessiontrailError(
      'BAD_CONFIG',
      `cannot read the evidence schema at ${EVIDENCE_SCHEMA_URL.pathname}`,
      {
        cause,
      },
    );
  }
  if (schema.$id !== EVIDENCE_SCHEMA_ID) {
    throw new SessiontrailError(
      'BAD_CONFIG',
      `evidence schema $id: expected ${EVIDENCE_SCHEMA_ID}, received ${String(schema.$id)}`,
    );
  }
  try {
    // strict catches typos in the schema itself (unknown keywords, ignored constraints); union types
    // (`["string", "null"]`) are how the model's nullable fields are written, so they are allowed.
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
    addFormats.default(ajv, ['date-time', 'date']);
    compiled = ajv.compile(schema);
  } catch (cause) {
    throw new SessiontrailError('BAD_CONFIG', 'the evidence schema does not compile', { cause });
  }
  return compiled;
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '/' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty?: string }).additionalProperty;
    return `${where} has unknown property ${JSON.stringify(extra)}`;
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `${where} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where} ${error.message ?? error.keyword}`;
}
