import { SessiontrailError } from '../errors.ts';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json.ts';
import { SIGNATURE_ALGORITHM } from './signer.ts';

/** in-toto Statement v1 `_type`. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** The predicate type of a sessiontrail pack manifest. */
export const PACK_PREDICATE_TYPE = 'https://sessiontrail.dev/pack/v1';
/** The two files of a pack that the manifest cannot list: itself and its signature. */
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
/** The DSSE envelope of `manifest.json`, for in-toto and cosign tooling (signed over the PAE). */
export const DSSE_FILE = 'manifest.dsse.json';
/** Files of a pack folder that the manifest cannot list, because they hold or sign it. */
/** The RFC 3161 token over manifest.json, when the pack was sealed with a TSA (lib/signing/timestamp.ts). */
export const TIMESTAMP_FILE = 'manifest.tsr';
export const SEAL_FILES: readonly string[] = [MANIFEST_FILE, SIGNATURE_FILE, DSSE_FILE, TIMESTAMP_FILE];

/** One artifact of a pack: its path inside the pack folder and its sha256. */
export interface ManifestSubject {
  readonly name: string;
  readonly digest: { readonly sha256: string };
}

/** The pack that came before in the same series, chaining packs into a tamper-evident sequence. */
export interface PreviousPack {
  readonly pack_id: string;
  /** The previous pack's sequence number: this pack's `sequence` less one. */
  readonly sequence: number;
  /** sha256 (hex) of the previous pack's `manifest.json` bytes. */
  readonly manifest_sha256: string;
}

/**
 * The engine that ran a pack's SQL, as it describes itself (`QueryEngine.describe`). It lives in the
 * signed manifest, not in evidence.json: evidence.json says what the logs show; how it was computed
 * (this engine, and the SQL text of its dialect, each `queries/*.sql` a subject) is in the manifest.
 */
export interface EngineFacts {
  readonly name: string;
  readonly version: string;
}

/** The tool that sealed a pack, and the engine that computed it (absent when sealed without one). */
export interface ToolFacts {
  readonly name: string;
  readonly version: string;
  readonly engine?: EngineFacts;
}

/** The predicate of a pack manifest. */
export interface PackPredicate {
  readonly pack_id: string;
  readonly series: string;
  /** 1, 2, 3, … per series, taken by a conditional write (see `reserveSequence`). */
  readonly sequence: number;
  /** When the pack was sealed (ISO 8601 UTC, from the Clock): the only wall-clock time in a pack. */
  readonly created: string;
  /** Who sealed it: `--requester` or the OS user (CLI), the caller's principal or the schedule ARN (Lambda). */
  readonly operator: string;
  /** The request the pack was built from, as received (JSON), or null when sealed without one. */
  readonly request: JsonValue;
  readonly signer: { readonly key_id: string; readonly algorithm: typeof SIGNATURE_ALGORITHM };
  readonly previous: PreviousPack | null;
  readonly tool: ToolFacts;
}

/** A JSON value, as the request is recorded. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** The manifest: an in-toto Statement v1 over every artifact of a pack. */
export interface PackStatement {
  readonly _type: typeof STATEMENT_TYPE;
  /** Sorted by name (code-unit order). */
  readonly subject: readonly ManifestSubject[];
  readonly predicateType: typeof PACK_PREDICATE_TYPE;
  readonly predicate: PackPredicate;
}

/** What {@link buildManifest} needs. */
export interface ManifestInput {
  readonly series: string;
  readonly packId: string;
  /** Paths relative to the pack folder (`evidence.json`, `queries/01-x.sql`). */
  readonly artifacts: readonly { readonly name: string; readonly bytes: Uint8Array }[];
  readonly previous: PreviousPack | null;
  readonly sequence: number;
  /** The sealing time, ISO 8601 UTC: fixed when the sequence is reserved, so a resumed seal keeps it. */
  readonly sealedAt: string;
  readonly operator: string;
  readonly request: JsonValue;
  readonly tool: ToolFacts;
  readonly keyId: string;
}

/**
 * Builds the manifest of a pack: one subject per artifact with its sha256, sorted by name.
 *
 * @throws {SessiontrailError} `BAD_REQUEST` when an artifact name is not a clean relative path, is
 *   listed twice, or is `manifest.json` / `manifest.sig`.
 */
export function buildManifest(input: ManifestInput): PackStatement {
  const problem = artifactNameProblem(input.artifacts.map((a) => a.name));
  if (problem) throw new SessiontrailError('BAD_REQUEST', `pack ${input.packId}: ${problem}`);
  const subject = input.artifacts
    .map((a) => ({ name: a.name, digest: { sha256: sha256Hex(a.bytes) } }))
    .sort((a, b) => compareCodeUnits(a.name, b.name));
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: PACK_PREDICATE_TYPE,
    predicate: {
      pack_id: input.packId,
      series: input.series,
      sequence: input.sequence,
      created: input.sealedAt,
      operator: input.operator,
      request: input.request,
      signer: { key_id: input.keyId, algorithm: SIGNATURE_ALGORITHM },
      previous: input.previous,
      tool: toolFacts(input.tool),
    },
  };
}

function toolFacts(tool: ToolFacts): ToolFacts {
  const { name, version, engine } = tool;
  return engine === undefined
    ? { name, version }
    : { name, version, engine: { name: engine.name, version: engine.version } };
}

/**
 * The bytes of `manifest.json`: canonical JSON with no trailing newline, so the file holds exactly
 * the signed bytes and `openssl dgst -verify` checks it as is.
 */
export function manifestBytes(statement: PackStatement): Uint8Array {
  return canonicalBytes(statement);
}

/**
 * Parses and checks the shape of `manifest.json` bytes. Does not check the signature or digests.
 * Extra digest algorithms beside sha256 are tolerated (in-toto allows them); anything else unknown
 * is refused, so that nothing unsigned-looking can hide in a manifest.
 *
 * @throws {SessiontrailError} `VERIFY_MANIFEST_INVALID` naming the first problem found.
 */
export function parseManifest(bytes: Uint8Array): PackStatement {
  const invalid = (why: string, cause?: unknown): SessiontrailError =>
    new SessiontrailError('VERIFY_MANIFEST_INVALID', `manifest.json: ${why}`, { cause });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw invalid('expected UTF-8 JSON, received bytes that do not parse', cause);
  }
  const root = asRecord(json, 'the document', ['_type', 'subject', 'predicateType', 'predicate'], invalid);
  if (root._type !== STATEMENT_TYPE)
    throw invalid(`_type: expected ${STATEMENT_TYPE}, received ${show(root._type)}`);
  if (root.predicateType !== PACK_PREDICATE_TYPE) {
    throw invalid(`predicateType: expected ${PACK_PREDICATE_TYPE}, received ${show(root.predicateType)}`);
  }
  if (!Array.isArray(root.subject)) throw invalid('subject: expected an array');
  const subject: ManifestSubject[] = root.subject.map((entry: unknown, i: number) => {
    const s = asRecord(entry, `subject[${i}]`, ['name', 'digest'], invalid);
    if (typeof s.name !== 'string') throw invalid(`subject[${i}].name: expected a string`);
    const digest = asRecord(s.digest, `subject[${i}].digest`, null, invalid);
    if (!isSha256(digest.sha256))
      throw invalid(`subject[${i}].digest.sha256: expected 64 lower-case hex digits`);
    return { name: s.name, digest: { sha256: digest.sha256 } };
  });
  const problem = artifactNameProblem(subject.map((s) => s.name));
  if (problem) throw invalid(`subject: ${problem}`);

  const p = asRecord(
    root.predicate,
    'predicate',
    ['pack_id', 'series', 'sequence', 'created', 'operator', 'request', 'signer', 'previous', 'tool'],
    invalid,
  );
  if (!isSequence(p.sequence)) throw invalid('predicate.sequence: expected a whole number of at least 1');
  for (const field of ['pack_id', 'series', 'created', 'operator'] as const) {
    if (typeof p[field] !== 'string' || p[field] === '')
      throw invalid(`predicate.${field}: expected a string`);
  }
  if (Number.isNaN(Date.parse(p.created as string)))
    throw invalid('predicate.created: expected an ISO 8601 time');
  const signer = asRecord(p.signer, 'predicate.signer', ['key_id', 'algorithm'], invalid);
  if (typeof signer.key_id !== 'string' || !/^[0-9a-f]{64}$/.test(signer.key_id)) {
    throw invalid('predicate.signer.key_id: expected 64 lower-case hex digits');
  }
  if (signer.algorithm !== SIGNATURE_ALGORITHM) {
    throw invalid(
      `predicate.signer.algorithm: expected ${SIGNATURE_ALGORITHM}, received ${show(signer.algorithm)}`,
    );
  }
  let previous: PreviousPack | null = null;
  if (p.previous !== null) {
    const prev = asRecord(
      p.previous,
      'predicate.previous',
      ['pack_id', 'sequence', 'manifest_sha256'],
      invalid,
    );
    if (typeof prev.pack_id !== 'string' || !isSequence(prev.sequence) || !isSha256(prev.manifest_sha256)) {
      throw invalid('predicate.previous: expected { pack_id, sequence, manifest_sha256 } or null');
    }
    previous = { pack_id: prev.pack_id, sequence: prev.sequence, manifest_sha256: prev.manifest_sha256 };
  }
  const expectedPrevious = (p.sequence as number) - 1;
  if ((previous?.sequence ?? 0) !== expectedPrevious) {
    throw invalid(
      `predicate.previous: sequence ${p.sequence as number} expects ${expectedPrevious === 0 ? 'null' : `the pack of sequence ${expectedPrevious}`}, received ${previous === null ? 'null' : `sequence ${previous.sequence}`}`,
    );
  }
  const tool = asRecord(
    p.tool,
    'predicate.tool',
    p.tool !== null && typeof p.tool === 'object' && 'engine' in p.tool
      ? ['name', 'version', 'engine']
      : ['name', 'version'],
    invalid,
  );
  if (typeof tool.name !== 'string' || typeof tool.version !== 'string') {
    throw invalid('predicate.tool: expected { name, version } strings');
  }
  let engine: EngineFacts | undefined;
  if (tool.engine !== undefined) {
    const e = asRecord(tool.engine, 'predicate.tool.engine', ['name', 'version'], invalid);
    if (typeof e.name !== 'string' || typeof e.version !== 'string')
      throw invalid('predicate.tool.engine: expected { name, version } strings');
    engine = { name: e.name, version: e.version };
  }
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: PACK_PREDICATE_TYPE,
    predicate: {
      pack_id: p.pack_id as string,
      series: p.series as string,
      sequence: p.sequence as number,
      created: p.created as string,
      operator: p.operator as string,
      request: p.request as JsonValue,
      signer: { key_id: signer.key_id, algorithm: SIGNATURE_ALGORITHM },
      previous,
      tool: toolFacts({ name: tool.name, version: tool.version, ...(engine ? { engine } : {}) }),
    },
  };
}

/**
 * Why a list of artifact names cannot be a pack's subjects, or `null` when it can: names must be
 * clean relative paths (no `..`, `.`, empty segments, leading `/` or backslash), unique, and not the
 * manifest or its signature.
 */
export function artifactNameProblem(names: readonly string[]): string | null {
  const seen = new Set<string>();
  for (const name of names) {
    if (SEAL_FILES.includes(name)) return `artifact name ${name} is reserved`;
    if (seen.has(name)) return `artifact ${JSON.stringify(name)} is listed twice`;
    seen.add(name);
    const segments = name.split('/');
    if (
      name.includes('\\') ||
      name.includes('\0') ||
      segments.some((s) => s === '' || s === '.' || s === '..')
    ) {
      return `artifact name ${JSON.stringify(name)}: expected a relative path without ".", ".." or empty segments`;
    }
  }
  return null;
}

/** Orders strings by UTF-16 code unit, as RFC 8785 orders keys: independent of locale. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isSequence(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function isSha256(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function asRecord(
  value: unknown,
  where: string,
  exactKeys: readonly string[] | null,
  invalid: (why: string) => SessiontrailError,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${where}: expected an object`);
  const record = value as Record<string, unknown>;
  if (exactKeys) {
    const missing = exactKeys.filter((k) => !(k in record));
    if (missing.length > 0) throw invalid(`${where}: missing ${missing.join(', ')}`);
    const extra = Object.keys(record).filter((k) => !exactKeys.includes(k));
    if (extra.length > 0) throw invalid(`${where}: unknown ${extra.join(', ')}`);
  }
  return record;
}
