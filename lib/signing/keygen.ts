import { createPublicKey, generateKeyPair as generateNodeKeyPair, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { SessiontrailError } from '../errors.ts';
import { sha256Hex } from '../evidence/canonical-json.ts';

const generateEcKeyPair = promisify(generateNodeKeyPair);

/** What {@link generateKeyPair} made: the key id and the public key to publish beside the packs. */
export interface GeneratedKey {
  /** sha256 (hex) of the public key's SPKI DER; see {@link keyIdOf}. */
  readonly keyId: string;
  /** The public key as SPKI PEM. */
  readonly publicKeyPem: string;
}

/**
 * Creates a new ECDSA P-256 private key at `path` (PKCS#8 PEM, unencrypted, mode 0600), creating
 * parent folders as needed. The file is opened with `wx`, so an existing key is never replaced:
 * losing a signing key orphans every pack it signed.
 *
 * @throws {SessiontrailError} `KEY_EXISTS` when `path` already exists; `STORE_WRITE_FAILED` when the
 *   folder or file cannot be written.
 */
export async function generateKeyPair(path: string): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  try {
    await mkdir(dirname(path), { recursive: true });
    const file = await open(path, 'wx', 0o600);
    try {
      await file.writeFile(pem, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    // The open mode is filtered by the umask; chmod makes 0600 hold whatever the umask is.
    await chmod(path, 0o600);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SessiontrailError(
        'KEY_EXISTS',
        `a key already exists at ${path}; keygen never overwrites a key (move it away first if you really mean to replace it)`,
        { cause },
      );
    }
    throw new SessiontrailError('STORE_WRITE_FAILED', `cannot write the new key to ${path}`, { cause });
  }
  return { keyId: keyIdOf(publicKey), publicKeyPem: publicKeyPemOf(publicKey) };
}

/**
 * The key id used in manifests and in `keys/<key id>.pem`: lower-case hex sha256 of the public
 * key's SPKI DER. An auditor recomputes it with
 * `openssl pkey -pubin -in key.pem -outform DER | sha256sum`.
 *
 * @param publicKey a public key (or a private key, whose public half is used) as PEM or KeyObject.
 * @throws {SessiontrailError} `KEY_INVALID` when the PEM does not hold a key.
 */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = toPublicKey(publicKey);
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
}

/**
 * The key's fingerprint for people: `SHA256:` and all 64 hex digits of the key id (sha256 of the
 * SPKI DER), in groups of four. The full 256 bits: a 64-bit prefix can be matched by a key an
 * attacker grinds for (issue 13). `openssl pkey -pubin -in key.pem -outform DER | sha256sum` prints
 * the same digits.
 *
 * @throws {SessiontrailError} `KEY_INVALID` when the PEM does not hold a key.
 */
export function fingerprint(publicKeyPem: string): string {
  const groups = keyIdOf(publicKeyPem).match(/.{4}/g) ?? [];
  return `SHA256:${groups.join(':')}`;
}

/** The SPKI PEM of a key's public half. */
export function publicKeyPemOf(key: KeyObject): string {
  return toPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
}

function toPublicKey(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') return key.type === 'public' ? key : createPublicKey(key);
  try {
    return createPublicKey(key);
  } catch (cause) {
    throw new SessiontrailError('KEY_INVALID', 'expected a PEM public key (SPKI), received something else', {
      cause,
    });
  }
}
