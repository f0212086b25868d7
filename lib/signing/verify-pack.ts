import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { type ErrorCode, isSessiontrailError, SessiontrailError } from '../errors.ts';
import { sha256Hex } from '../evidence/canonical-json.ts';
import { validateEvidence } from '../evidence/schema.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { keyIdOf } from './keygen.ts';
import { MANIFEST_FILE, type PackStatement, parseManifest, SIGNATURE_FILE } from './manifest.ts';
import { KEYS_DIR } from './seal-pack.ts';

/** One finding of {@link verifyPack}: `OK`, or the code of what failed. */
export interface VerifyCheck {
  readonly code: ErrorCode | 'OK';
  /** The pack file concerned, relative to the pack folder (or `keys/<id>.pem`), when there is one. */
  readonly file?: string;
  readonly message: string;
}

/** The outcome of {@link verifyPack}. */
export interface VerifyResult {
  /** True when every check is `OK`. */
  readonly ok: boolean;
  /** From the manifest; null when it cannot be read. */
  readonly packId: string | null;
  /** The manifest's signer key id; null when it cannot be read. */
  readonly keyId: string | null;
  /** Every check made, passed or failed, in the order made. */
  readonly checks: readonly VerifyCheck[];
}

/** What {@link verifyPack} needs. */
export interface VerifyPackInput {
  readonly store: EvidenceStore;
  /** The pack folder relative to the store root, `<series>/<pack id>`. */
  readonly packDir: string;
  /**
   * The key the auditor trusts (SPKI PEM). Without it the key published in the store at
   * `keys/<key id>.pem` beside the series is used, which proves integrity but not origin.
   */
  readonly publicKeyPem?: string;
}

/**
 * Verifies a sealed pack: the manifest is an in-toto Statement of a pack; `manifest.sig` is a valid
 * ECDSA P-256 / SHA-256 signature over the exact bytes of `manifest.json`; every subject is present
 * with its sha256; no unlisted file sits in the pack folder; `evidence.json` matches the schema and
 * names the same pack. It is what `openssl dgst -verify` and `sha256sum -c` check, and more.
 *
 * A bad pack never throws: every failure found is reported as a check with its own code
 * (`VERIFY_MANIFEST_INVALID`, `VERIFY_BAD_SIGNATURE`, `VERIFY_KEY_MISMATCH`, `VERIFY_DIGEST_MISMATCH`,
 * `VERIFY_MISSING_FILE`, `VERIFY_UNLISTED_FILE`, `VERIFY_SCHEMA`). A missing `manifest.json` is
 * `VERIFY_MANIFEST_INVALID`; a missing `manifest.sig` is `VERIFY_MISSING_FILE`.
 *
 * @throws {SessiontrailError} `KEY_INVALID` when the given `publicKeyPem` is not an EC P-256 key
 *   (a bad request, not a bad pack); `BAD_REQUEST` for a bad `packDir`; `STORE_READ_FAILED` when the
 *   store cannot list the folder.
 */
export async function verifyPack(input: VerifyPackInput): Promise<VerifyResult> {
  const { store } = input;
  const packDir = input.packDir.replace(/\/+$/, '');
  const pinned =
    input.publicKeyPem === undefined ? undefined : ecP256PublicKey(input.publicKeyPem, 'the given key');
  const checks: VerifyCheck[] = [];
  const fail = (code: ErrorCode, message: string, file?: string): void => {
    checks.push(file === undefined ? { code, message } : { code, file, message });
  };
  const pass = (message: string, file?: string): void => {
    checks.push(file === undefined ? { code: 'OK', message } : { code: 'OK', file, message });
  };
  const read = async (name: string): Promise<Uint8Array | null> => {
    const path = `${packDir}/${name}`;
    if (!(await store.exists(path))) return null;
    try {
      return await store.get(path);
    } catch (err) {
      if (isSessiontrailError(err, 'STORE_READ_FAILED')) return null;
      throw err;
    }
  };
  const listing = await store.list(packDir);

  // 1. The manifest.
  const manifestRaw = await read(MANIFEST_FILE);
  let manifest: PackStatement | null = null;
  if (manifestRaw === null) {
    fail('VERIFY_MANIFEST_INVALID', `${MANIFEST_FILE} is missing: the pack is incomplete`, MANIFEST_FILE);
  } else {
    try {
      manifest = parseManifest(manifestRaw);
      pass(
        `${MANIFEST_FILE} is an in-toto Statement v1 of pack ${manifest.predicate.pack_id}`,
        MANIFEST_FILE,
      );
    } catch (err) {
      if (!isSessiontrailError(err)) throw err;
      fail('VERIFY_MANIFEST_INVALID', err.message, MANIFEST_FILE);
    }
  }
  const keyId = manifest?.predicate.signer.key_id ?? null;

  // 2. The signature, over the raw bytes even when they do not parse: a pinned key still decides.
  const signatureRaw = await read(SIGNATURE_FILE);
  if (signatureRaw === null) {
    fail(
      'VERIFY_MISSING_FILE',
      `${SIGNATURE_FILE} is missing: the pack is unsigned, hence incomplete`,
      SIGNATURE_FILE,
    );
  } else if (manifestRaw !== null) {
    await checkSignature({ store, packDir, pinned, keyId, manifestRaw, signatureRaw, fail, pass });
  }

  // 3. Subjects and the files in the folder.
  if (manifest) {
    const listed = new Set(manifest.subject.map((s) => s.name));
    for (const subject of manifest.subject) {
      const bytes = await read(subject.name);
      if (bytes === null) {
        fail('VERIFY_MISSING_FILE', `${subject.name} is listed in the manifest but missing`, subject.name);
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
    const unlisted = listing.filter((f) => f !== MANIFEST_FILE && f !== SIGNATURE_FILE && !listed.has(f));
    for (const file of unlisted) {
      fail('VERIFY_UNLISTED_FILE', `${file} is in the pack folder but not in the manifest`, file);
    }
    if (unlisted.length === 0) pass('every file in the pack folder is listed in the manifest');
    await checkEvidence(manifest, read, fail, pass);
  }

  return {
    ok: checks.every((c) => c.code === 'OK'),
    packId: manifest?.predicate.pack_id ?? null,
    keyId,
    checks,
  };
}

interface SignatureCheckInput {
  readonly store: EvidenceStore;
  readonly packDir: string;
  readonly pinned: KeyObject | undefined;
  readonly keyId: string | null;
  readonly manifestRaw: Uint8Array;
  readonly signatureRaw: Uint8Array;
  readonly fail: (code: ErrorCode, message: string, file?: string) => void;
  readonly pass: (message: string, file?: string) => void;
}

async function checkSignature(c: SignatureCheckInput): Promise<void> {
  if (c.pinned) {
    const pinnedId = keyIdOf(c.pinned);
    if (c.keyId !== null && pinnedId !== c.keyId) {
      c.fail(
        'VERIFY_KEY_MISMATCH',
        `the manifest was signed by key ${c.keyId}, but the given key is ${pinnedId}`,
        MANIFEST_FILE,
      );
    }
    if (verifies(c.manifestRaw, c.signatureRaw, c.pinned)) {
      c.pass(`signature verifies with the given key ${pinnedId}`, SIGNATURE_FILE);
    } else {
      c.fail(
        'VERIFY_BAD_SIGNATURE',
        `signature does not verify with the given key ${pinnedId}`,
        SIGNATURE_FILE,
      );
    }
    return;
  }
  // Keys are published at the store root beside the series: `<series>/<pack>` → `keys/`.
  const parent = c.packDir.split('/').slice(0, -2).join('/');
  const keysDir = parent === '' ? KEYS_DIR : `${parent}/${KEYS_DIR}`;
  if (c.keyId === null) {
    c.fail(
      'VERIFY_BAD_SIGNATURE',
      'signature cannot be checked: the manifest does not say which key signed it and no key was given',
      SIGNATURE_FILE,
    );
    return;
  }
  const keyFile = `${keysDir}/${c.keyId}.pem`;
  let published: KeyObject;
  try {
    const pem = new TextDecoder().decode(await c.store.get(keyFile));
    published = ecP256PublicKey(pem, keyFile);
  } catch (err) {
    if (!isSessiontrailError(err)) throw err;
    c.fail('VERIFY_BAD_SIGNATURE', `signature cannot be checked: ${err.message}`, SIGNATURE_FILE);
    return;
  }
  const publishedId = keyIdOf(published);
  if (publishedId !== c.keyId) {
    c.fail('VERIFY_KEY_MISMATCH', `${keyFile} holds key ${publishedId}, not ${c.keyId}`, keyFile);
    return;
  }
  if (verifies(c.manifestRaw, c.signatureRaw, published)) {
    c.pass(
      `signature verifies with the key published at ${keyFile} (pass --key to pin the key you trust)`,
      SIGNATURE_FILE,
    );
  } else {
    c.fail(
      'VERIFY_BAD_SIGNATURE',
      `signature does not verify with the key published at ${keyFile}`,
      SIGNATURE_FILE,
    );
  }
}

async function checkEvidence(
  manifest: PackStatement,
  read: (name: string) => Promise<Uint8Array | null>,
  fail: (code: ErrorCode, message: string, file?: string) => void,
  pass: (message: string, file?: string) => void,
): Promise<void> {
  const file = 'evidence.json';
  if (!manifest.subject.some((s) => s.name === file)) {
    fail('VERIFY_MISSING_FILE', `the manifest lists no ${file}; every pack has one`, file);
    return;
  }
  const bytes = await read(file);
  if (bytes === null) return; // already reported as missing
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    fail('VERIFY_SCHEMA', `${file} is not UTF-8 JSON`, file);
    return;
  }
  const result = validateEvidence(json);
  if (!result.ok) {
    fail('VERIFY_SCHEMA', `${file} does not match the evidence schema: ${result.errors.join('; ')}`, file);
    return;
  }
  const pack = (json as { pack: { id: string; series: string } }).pack;
  const { pack_id, series } = manifest.predicate;
  if (pack.id !== pack_id || pack.series !== series) {
    fail(
      'VERIFY_MANIFEST_INVALID',
      `the manifest seals pack ${series}/${pack_id}, but ${file} is pack ${pack.series}/${pack.id}`,
      file,
    );
    return;
  }
  pass(`${file} matches the evidence schema`, file);
}

function verifies(data: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  try {
    return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    // Malformed DER can throw instead of returning false; either way it is not a valid signature.
    return false;
  }
}

function ecP256PublicKey(pem: string, source: string): KeyObject {
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
