import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { type ErrorCode, isSessiontrailError, SessiontrailError } from '../errors.ts';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json.ts';
import { validateEvidence } from '../evidence/schema.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { IN_TOTO_PAYLOAD_TYPE, pae, readEnvelope } from './dsse.ts';
import { keyIdOf } from './keygen.ts';
import {
  DSSE_FILE,
  MANIFEST_FILE,
  type PackStatement,
  parseManifest,
  SEAL_FILES,
  SIGNATURE_FILE,
  TIMESTAMP_FILE,
} from './manifest.ts';
import { KEYS_DIR } from './pack-layout.ts';
import { readPdfAttachments } from './pdf-attachment.ts';
import { findDuplicateKey } from './strict-json.ts';
import { checkTimestamp, parseCertificates } from './timestamp.ts';

export { KEYS_DIR } from './pack-layout.ts';

/** One finding of {@link verifyPack}: `OK`, or the code of what failed. */
export interface VerifyCheck {
  readonly code: ErrorCode | 'OK';
  /** The pack file concerned, relative to the pack folder (or `keys/<id>.pem`), when there is one. */
  readonly file?: string;
  readonly message: string;
}

/**
 * What the signature proved about where the pack came from (DESIGN.md, decision 13):
 * `verified` — it verifies with a key the verifier trusts; `not checked` — it was checked only with
 * the key published beside the pack, which anyone who can write the pack can also write (integrity,
 * not origin); `failed` — no trusted key verifies it.
 */
export type Origin = 'verified' | 'not checked' | 'failed';

/** The outcome of {@link verifyPack}. */
export interface VerifyResult {
  /** True when every check is `OK` (an unchecked origin is a failed check unless explicitly allowed). */
  readonly ok: boolean;
  readonly origin: Origin;
  /** What the signature was checked with, for people: "trusted key <id>" or "key beside the pack …". */
  readonly trustBasis: string;
  /** From the manifest; null when it cannot be read. */
  readonly packId: string | null;
  /** The manifest's signer key id; null when it cannot be read. */
  readonly keyId: string | null;
  /** sha256 of the `manifest.json` bytes, null when there is none. */
  readonly manifestSha256: string | null;
  /** The parsed manifest, null when it cannot be read. */
  readonly manifest: PackStatement | null;
  /** Every check made, passed or failed, in the order made. */
  readonly checks: readonly VerifyCheck[];
  /**
   * The RFC 3161 trusted time of `manifest.tsr` when it checks out; `tsaTrusted` says whether its
   * TSA certificate was checked against a TSA CA the verifier trusts. Null without a valid token.
   */
  readonly timestamp: { readonly time: string; readonly tsa: string; readonly tsaTrusted: boolean } | null;
}

/** What {@link verifyPack} needs. */
export interface VerifyPackInput {
  readonly store: EvidenceStore;
  /** The pack folder relative to the store root, `<series>/<pack id>`. */
  readonly packDir: string;
  /**
   * The keys the verifier trusts (SPKI PEM), from `--key`, a trust file or KMS `GetPublicKey`.
   * The one whose key id the manifest names must verify the signature. Without any, the key
   * published at `keys/<key id>.pem` is used, which proves integrity only.
   */
  readonly trustedKeys?: readonly string[];
  /**
   * Accept a pack whose origin was not checked (no trusted key given): the check is then recorded as
   * passed with "origin not checked", and {@link VerifyResult.origin} still says `not checked`.
   * @default false
   */
  readonly allowUntrustedKey?: boolean;
  /**
   * Certificates (PEM) of the TSA CAs the verifier trusts. When given, the pack must carry
   * `manifest.tsr` and its TSA certificate must be one of them or issued by one.
   * @default none: a token present is checked, its TSA reported as not checked
   */
  readonly trustedTsaCas?: string;
}

/**
 * Verifies a sealed pack and says what it proved. Checks, each with its own code when it fails:
 * `manifest.json` has unique keys (`VERIFY_DUPLICATE_KEY`), is RFC 8785 canonical
 * (`VERIFY_NOT_CANONICAL`) and is an in-toto Statement of a pack (`VERIFY_MANIFEST_INVALID`); the
 * folder's series and pack id are the manifest's (`VERIFY_PACK_MOVED`); `manifest.sig` verifies over
 * the exact bytes (`VERIFY_BAD_SIGNATURE`) with a trusted key whose id the manifest names
 * (`VERIFY_KEY_MISMATCH`), or origin is reported unchecked (`VERIFY_ORIGIN_NOT_CHECKED`);
 * `manifest.dsse.json` carries the manifest signed over the DSSE PAE (`VERIFY_DSSE_INVALID`); every
 * subject is a regular file in the pack (`VERIFY_NOT_REGULAR_FILE`, `VERIFY_MISSING_FILE`) with its
 * sha256 (`VERIFY_DIGEST_MISMATCH`); nothing unlisted sits in the folder (`VERIFY_UNLISTED_FILE`);
 * `evidence.json` matches the schema and names the pack (`VERIFY_SCHEMA`, `VERIFY_MANIFEST_INVALID`);
 * the `evidence.json` embedded in `evidence.pdf` is byte-identical (`VERIFY_PDF_ATTACHMENT_MISMATCH`);
 * `manifest.tsr`, when present or required, is an RFC 3161 token over `manifest.json`
 * (`VERIFY_TIMESTAMP_INVALID`, `VERIFY_TIMESTAMP_MISMATCH`) from a trusted TSA
 * (`VERIFY_TIMESTAMP_UNTRUSTED`).
 *
 * A bad pack never throws: every failure is a check.
 *
 * @throws {SessiontrailError} `KEY_INVALID` when a trusted key is not an EC P-256 key (a bad request,
 *   not a bad pack); `BAD_REQUEST` for a bad `packDir`; `STORE_READ_FAILED` when the store cannot list it.
 */
export async function verifyPack(input: VerifyPackInput): Promise<VerifyResult> {
  const { store } = input;
  const packDir = input.packDir.replace(/\/+$/, '');
  const trusted = (input.trustedKeys ?? []).map((pem, i) => ecP256PublicKey(pem, `trusted key ${i + 1}`));
  const checks: VerifyCheck[] = [];
  const fail = (code: ErrorCode, message: string, file?: string): void => {
    checks.push(file === undefined ? { code, message } : { code, file, message });
  };
  const pass = (message: string, file?: string): void => {
    checks.push(file === undefined ? { code: 'OK', message } : { code: 'OK', file, message });
  };
  const notRegular = new Set<string>();
  const read = async (name: string): Promise<Uint8Array | null> => {
    const path = `${packDir}/${name}`;
    if (!(await store.exists(path))) return null;
    try {
      return await store.get(path);
    } catch (err) {
      if (isSessiontrailError(err, 'STORE_NOT_REGULAR_FILE')) {
        notRegular.add(name);
        return null;
      }
      if (isSessiontrailError(err, 'STORE_READ_FAILED')) return null;
      throw err;
    }
  };
  const listing = await store.list(packDir);

  // 1. The manifest: unique keys, canonical form, then its shape.
  const manifestRaw = await read(MANIFEST_FILE);
  let manifest: PackStatement | null = null;
  if (manifestRaw === null) {
    fail(
      'VERIFY_MANIFEST_INVALID',
      notRegular.has(MANIFEST_FILE)
        ? `${MANIFEST_FILE} is not a regular file`
        : `${MANIFEST_FILE} is missing: the pack is incomplete`,
      MANIFEST_FILE,
    );
  } else {
    manifest = checkManifest(manifestRaw, fail, pass);
  }
  const keyId = manifest?.predicate.signer.key_id ?? null;

  // 2. The folder is the pack the manifest names: a genuine pack copied elsewhere is not that pack.
  if (manifest) {
    const [series, packId] = packDir.split('/').slice(-2);
    const p = manifest.predicate;
    if (series !== p.series || packId !== p.pack_id) {
      fail(
        'VERIFY_PACK_MOVED',
        `the folder is pack ${series}/${packId}, but the manifest seals pack ${p.series}/${p.pack_id}`,
        MANIFEST_FILE,
      );
    } else {
      pass(`the folder ${series}/${packId} is the pack the manifest seals`, MANIFEST_FILE);
    }
  }

  // 3. The signature, over the raw bytes even when they do not parse: a trusted key still decides.
  const signatureRaw = await read(SIGNATURE_FILE);
  let origin: Origin = 'failed';
  let trustBasis = 'no key verified the signature';
  let signingKey: KeyObject | null = null;
  if (signatureRaw === null) {
    fail(
      'VERIFY_MISSING_FILE',
      `${SIGNATURE_FILE} is missing: the pack is unsigned, hence incomplete`,
      SIGNATURE_FILE,
    );
  } else if (manifestRaw !== null) {
    const outcome = await checkSignature({
      store,
      packDir,
      trusted,
      keyId,
      manifestRaw,
      signatureRaw,
      allowUntrusted: input.allowUntrustedKey === true,
      fail,
      pass,
    });
    ({ origin, trustBasis, signingKey } = outcome);
  }

  // 4. The DSSE envelope, checked with the key that checked manifest.sig.
  if (manifestRaw !== null) {
    const dsse = await read(DSSE_FILE);
    if (dsse === null) {
      fail('VERIFY_DSSE_INVALID', `${DSSE_FILE} is missing`, DSSE_FILE);
    } else {
      const envelope = readEnvelope(dsse, manifestRaw, keyId ?? undefined);
      if (!envelope.ok) {
        fail('VERIFY_DSSE_INVALID', `${DSSE_FILE}: ${envelope.problem}`, DSSE_FILE);
      } else if (signingKey !== null) {
        const message = pae(IN_TOTO_PAYLOAD_TYPE, manifestRaw);
        if (envelope.signatures.some((s) => verifies(message, s.sig, signingKey))) {
          pass(`${DSSE_FILE} carries ${MANIFEST_FILE}, signed over the DSSE PAE by the same key`, DSSE_FILE);
        } else {
          fail('VERIFY_DSSE_INVALID', `${DSSE_FILE}: no signature verifies over the PAE`, DSSE_FILE);
        }
      }
    }
  }

  // 4b. The RFC 3161 token over manifest.json, when there is one (or one is required).
  let timestamp: VerifyResult['timestamp'] = null;
  if (manifestRaw !== null) {
    const cas =
      input.trustedTsaCas === undefined
        ? undefined
        : parseCertificates(input.trustedTsaCas, 'trusted TSA CAs');
    const tsr = await read(TIMESTAMP_FILE);
    if (tsr === null) {
      if (cas !== undefined)
        fail(
          'VERIFY_TIMESTAMP_UNTRUSTED',
          `${TIMESTAMP_FILE} is missing: the pack carries no trusted time, and TSA CAs were given`,
          TIMESTAMP_FILE,
        );
    } else {
      try {
        const info = checkTimestamp(tsr, manifestRaw, cas);
        timestamp = { time: info.time, tsa: info.tsa, tsaTrusted: cas !== undefined };
        pass(
          `RFC 3161 token over ${MANIFEST_FILE}: time ${info.time}, TSA ${info.tsa}${cas === undefined ? ' (TSA certificate not checked: give the TSA CA)' : ', issued by a trusted TSA CA'}`,
          TIMESTAMP_FILE,
        );
      } catch (err) {
        if (!(err instanceof SessiontrailError)) throw err;
        fail(err.code, err.message, TIMESTAMP_FILE);
      }
    }
  }

  // 5. Subjects and the files in the folder.
  if (manifest) {
    const listed = new Set(manifest.subject.map((s) => s.name));
    for (const subject of manifest.subject) {
      const bytes = await read(subject.name);
      if (bytes === null) {
        if (notRegular.has(subject.name)) {
          fail(
            'VERIFY_NOT_REGULAR_FILE',
            `${subject.name} is a symlink or not a regular file: a subject must be a file stored in the pack`,
            subject.name,
          );
        } else {
          fail('VERIFY_MISSING_FILE', `${subject.name} is listed in the manifest but missing`, subject.name);
        }
        continue;
      }
      const actual = sha256Hex(bytes);
      if (actual === subject.digest.sha256) {
        pass(`sha256 ${actual}`, subject.name);
      } else {
        fail(
          'VERIFY_DIGEST_MISMATCH',
          `sha256: expected ${subject.digest.sha256}, received ${actual}: the file was changed after sealing`,
          subject.name,
        );
      }
    }
    const unlisted = listing.filter((f) => !SEAL_FILES.includes(f) && !listed.has(f));
    for (const file of unlisted) {
      fail('VERIFY_UNLISTED_FILE', `${file} is in the pack folder but not in the manifest`, file);
    }
    if (unlisted.length === 0) pass('every file in the pack folder is listed in the manifest');
    const evidence = await checkEvidence(manifest, read, fail, pass);
    if (evidence !== null && listed.has('evidence.pdf')) {
      await checkPdfAttachment(evidence, read, fail, pass);
    }
  }

  return {
    ok: checks.every((c) => c.code === 'OK'),
    origin,
    trustBasis,
    packId: manifest?.predicate.pack_id ?? null,
    keyId,
    manifestSha256: manifestRaw === null ? null : sha256Hex(manifestRaw),
    manifest,
    checks,
    timestamp,
  };
}

type Fail = (code: ErrorCode, message: string, file?: string) => void;
type Pass = (message: string, file?: string) => void;

/**
 * Duplicate keys first (JSON.parse would silently keep the last), then canonical form (the bytes
 * must be what RFC 8785 makes of the parsed value: one signed text, one meaning), then the shape.
 */
function checkManifest(raw: Uint8Array, fail: Fail, pass: Pass): PackStatement | null {
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    value = JSON.parse(text);
  } catch {
    fail('VERIFY_MANIFEST_INVALID', `${MANIFEST_FILE}: expected UTF-8 JSON`, MANIFEST_FILE);
    return null;
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) {
    fail(
      'VERIFY_DUPLICATE_KEY',
      `${MANIFEST_FILE}: the object at ${duplicate.path} holds the key ${JSON.stringify(duplicate.key)} twice`,
      MANIFEST_FILE,
    );
  } else if (!Buffer.from(canonicalBytes(value)).equals(Buffer.from(raw))) {
    fail(
      'VERIFY_NOT_CANONICAL',
      `${MANIFEST_FILE}: the bytes are not the RFC 8785 canonical form of their own content`,
      MANIFEST_FILE,
    );
  } else {
    pass(`${MANIFEST_FILE} is canonical JSON with unique keys`, MANIFEST_FILE);
  }
  try {
    const manifest = parseManifest(raw);
    pass(`${MANIFEST_FILE} is an in-toto Statement v1 of pack ${manifest.predicate.pack_id}`, MANIFEST_FILE);
    return manifest;
  } catch (err) {
    if (!isSessiontrailError(err)) throw err;
    fail('VERIFY_MANIFEST_INVALID', err.message, MANIFEST_FILE);
    return null;
  }
}

interface SignatureCheckInput {
  readonly store: EvidenceStore;
  readonly packDir: string;
  readonly trusted: readonly KeyObject[];
  readonly keyId: string | null;
  readonly manifestRaw: Uint8Array;
  readonly signatureRaw: Uint8Array;
  readonly allowUntrusted: boolean;
  readonly fail: Fail;
  readonly pass: Pass;
}

interface SignatureOutcome {
  readonly origin: Origin;
  readonly trustBasis: string;
  /** The key that verified manifest.sig, to check the DSSE envelope with. */
  readonly signingKey: KeyObject | null;
}

async function checkSignature(c: SignatureCheckInput): Promise<SignatureOutcome> {
  if (c.trusted.length > 0) {
    const ids = c.trusted.map((k) => keyIdOf(k));
    const index = c.keyId === null ? -1 : ids.indexOf(c.keyId);
    if (index < 0) {
      c.fail(
        'VERIFY_KEY_MISMATCH',
        `the manifest was signed by key ${c.keyId ?? '(unknown)'}, which is not a trusted key (${ids.join(', ')})`,
        MANIFEST_FILE,
      );
    }
    const candidates = index < 0 ? c.trusted : [c.trusted[index] as KeyObject];
    const key = candidates.find((k) => verifies(c.manifestRaw, c.signatureRaw, k));
    if (key && index >= 0) {
      c.pass(`signature verifies with the trusted key ${ids[index]}`, SIGNATURE_FILE);
      return { origin: 'verified', trustBasis: `trusted key ${ids[index]}`, signingKey: key };
    }
    c.fail(
      'VERIFY_BAD_SIGNATURE',
      `signature does not verify with the trusted key${c.trusted.length > 1 ? 's' : ''} ${ids.join(', ')}`,
      SIGNATURE_FILE,
    );
    return { origin: 'failed', trustBasis: `trusted key(s) ${ids.join(', ')}`, signingKey: null };
  }
  // No trusted key: the key published at the store root beside the series (`<series>/<pack>` →
  // `keys/`) checks integrity. Whoever can write the pack can write that key too (issue 13: an
  // attacker re-signed a pack and placed their key there), so origin stays unchecked.
  const parent = c.packDir.split('/').slice(0, -2).join('/');
  const keysDir = parent === '' ? KEYS_DIR : `${parent}/${KEYS_DIR}`;
  if (c.keyId === null) {
    c.fail(
      'VERIFY_BAD_SIGNATURE',
      'signature cannot be checked: the manifest does not say which key signed it and no key was given',
      SIGNATURE_FILE,
    );
    return { origin: 'failed', trustBasis: 'no key', signingKey: null };
  }
  const keyFile = `${keysDir}/${c.keyId}.pem`;
  let published: KeyObject;
  try {
    const pem = new TextDecoder().decode(await c.store.get(keyFile));
    published = ecP256PublicKey(pem, keyFile);
  } catch (err) {
    if (!isSessiontrailError(err)) throw err;
    c.fail('VERIFY_BAD_SIGNATURE', `signature cannot be checked: ${err.message}`, SIGNATURE_FILE);
    return { origin: 'failed', trustBasis: `key beside the pack ${keyFile} (unreadable)`, signingKey: null };
  }
  const publishedId = keyIdOf(published);
  if (publishedId !== c.keyId) {
    c.fail('VERIFY_KEY_MISMATCH', `${keyFile} holds key ${publishedId}, not ${c.keyId}`, keyFile);
    return { origin: 'failed', trustBasis: `key beside the pack ${keyFile}`, signingKey: null };
  }
  const basis = `key beside the pack ${keyFile} (integrity only)`;
  if (!verifies(c.manifestRaw, c.signatureRaw, published)) {
    c.fail(
      'VERIFY_BAD_SIGNATURE',
      `signature does not verify with the key published at ${keyFile}`,
      SIGNATURE_FILE,
    );
    return { origin: 'failed', trustBasis: basis, signingKey: null };
  }
  c.pass(`signature verifies with the key published at ${keyFile}`, SIGNATURE_FILE);
  const why =
    'origin not checked: the key beside the pack proves integrity only, since whoever can write the pack can write that key; give a trusted key (--key, --trust-file, --kms-key-id)';
  if (c.allowUntrusted) c.pass(`${why} (allowed by --allow-untrusted-key)`, SIGNATURE_FILE);
  else c.fail('VERIFY_ORIGIN_NOT_CHECKED', why, SIGNATURE_FILE);
  return { origin: 'not checked', trustBasis: basis, signingKey: published };
}

/** Checks evidence.json; returns its bytes when it is present and names the pack, else null. */
async function checkEvidence(
  manifest: PackStatement,
  read: (name: string) => Promise<Uint8Array | null>,
  fail: Fail,
  pass: Pass,
): Promise<Uint8Array | null> {
  const file = 'evidence.json';
  if (!manifest.subject.some((s) => s.name === file)) {
    fail('VERIFY_MISSING_FILE', `the manifest lists no ${file}; every pack has one`, file);
    return null;
  }
  const bytes = await read(file);
  if (bytes === null) return null; // already reported as missing
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    fail('VERIFY_SCHEMA', `${file} is not UTF-8 JSON`, file);
    return bytes;
  }
  const result = validateEvidence(json);
  if (!result.ok) {
    fail('VERIFY_SCHEMA', `${file} does not match the evidence schema: ${result.errors.join('; ')}`, file);
    return bytes;
  }
  const pack = (json as { pack: { id: string; series: string } }).pack;
  const { pack_id, series } = manifest.predicate;
  if (pack.id !== pack_id || pack.series !== series) {
    fail(
      'VERIFY_MANIFEST_INVALID',
      `the manifest seals pack ${series}/${pack_id}, but ${file} is pack ${pack.series}/${pack.id}`,
      file,
    );
    return bytes;
  }
  pass(`${file} matches the evidence schema`, file);
  return bytes;
}

/** The PDF shows what its attachment holds: that attachment must be the pack's evidence.json. */
async function checkPdfAttachment(
  evidence: Uint8Array,
  read: (name: string) => Promise<Uint8Array | null>,
  fail: Fail,
  pass: Pass,
): Promise<void> {
  const file = 'evidence.pdf';
  const pdf = await read(file);
  if (pdf === null) return; // reported as missing or not regular
  const found = readPdfAttachments(pdf);
  const mismatch = (why: string) =>
    fail('VERIFY_PDF_ATTACHMENT_MISMATCH', `${file}: ${why}: the PDF may show other evidence`, file);
  if (found.problem) return mismatch(found.problem);
  if (found.files.length !== 1) {
    return mismatch(`expected exactly one embedded file (evidence.json), found ${found.files.length}`);
  }
  const [only] = found.files as [(typeof found.files)[number]];
  if (only.bytes === null) return mismatch(only.problem ?? 'the attachment cannot be decoded');
  if (only.names.length === 0 || only.names.some((n) => n !== 'evidence.json')) {
    return mismatch(`the attachment is named ${JSON.stringify(only.names)}, expected "evidence.json"`);
  }
  if (!Buffer.from(only.bytes).equals(Buffer.from(evidence))) {
    return mismatch(
      `the embedded evidence.json (sha256 ${sha256Hex(only.bytes)}) differs from the pack's (sha256 ${sha256Hex(evidence)})`,
    );
  }
  pass(`the evidence.json embedded in ${file} is byte-identical to the pack's`, file);
}

function verifies(data: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  try {
    return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    // Malformed DER can throw instead of returning false; either way it is not a valid signature.
    return false;
  }
}

/**
 * Parses an EC P-256 public key (or the public half of a private key) from PEM.
 * @throws {SessiontrailError} `KEY_INVALID` for anything else.
 */
export function ecP256PublicKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new SessiontrailError('KEY_INVALID', `${source}: expected an EC P-256 public key in PEM`, {
      cause,
    });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SessiontrailError(
      'KEY_INVALID',
      `${source}: expected an EC P-256 public key, received ${key.asymmetricKeyType ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim(),
    );
  }
  return key;
}

/**
 * Splits a trust file into its PEM public keys: one or more `-----BEGIN PUBLIC KEY-----` blocks,
 * anything between them (comments) ignored.
 * @throws {SessiontrailError} `KEY_INVALID` when the file holds no key or a key that is not EC P-256.
 */
export function parseTrustFile(text: string, source: string): string[] {
  const blocks = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0) {
    throw new SessiontrailError('KEY_INVALID', `${source}: expected one or more PEM public keys, found none`);
  }
  for (const [i, b] of blocks.entries()) ecP256PublicKey(b, `${source} key ${i + 1}`);
  return blocks.map((b) => `${b}\n`);
}
