import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SessiontrailError } from '../errors.ts';
import { keyIdOf, publicKeyPemOf } from './keygen.ts';
import type { Signer } from './signer.ts';

const KEYGEN_HINT = 'run `sessiontrail keygen` to create one';

/**
 * A {@link Signer} over a local ECDSA P-256 private key in PEM (PKCS#8 as `keygen` writes it; the
 * SEC1 `EC PRIVATE KEY` form that `openssl ecparam -genkey` writes is accepted too). Signatures are
 * DER, as AWS KMS returns them, so packs signed locally and with KMS verify the same way.
 */
export class LocalKeySigner implements Signer {
  readonly #privateKey: KeyObject;
  readonly #publicKeyPem: string;
  readonly #keyId: string;

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    const publicKey = createPublicKey(privateKey);
    this.#publicKeyPem = publicKeyPemOf(publicKey);
    this.#keyId = keyIdOf(publicKey);
  }

  /**
   * Loads the private key at `path`.
   *
   * @throws {SessiontrailError} `KEY_NOT_FOUND` when the file is missing or unreadable;
   *   `KEY_INVALID` when it is not an unencrypted EC P-256 private key in PEM.
   */
  static async fromFile(path: string): Promise<LocalKeySigner> {
    let pem: string;
    try {
      pem = await readFile(path, 'utf8');
    } catch (cause) {
      const reason =
        (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no file' : 'the file cannot be read';
      throw new SessiontrailError('KEY_NOT_FOUND', `signing key ${path}: ${reason}; ${KEYGEN_HINT}`, {
        cause,
      });
    }
    return LocalKeySigner.fromPem(pem, path);
  }

  /**
   * Builds a signer from PEM text already in memory.
   *
   * @param source names where the PEM came from, for error messages (never the key itself).
   * @throws {SessiontrailError} `KEY_INVALID` when the PEM is not an unencrypted EC P-256 private key.
   */
  static fromPem(pem: string, source = 'the given PEM'): LocalKeySigner {
    const invalid = (received: string, cause?: unknown): SessiontrailError =>
      new SessiontrailError(
        'KEY_INVALID',
        `signing key ${source}: expected an unencrypted EC P-256 private key in PEM, received ${received}; ${KEYGEN_HINT}`,
        { cause },
      );
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch (cause) {
      // A public key, an encrypted key or garbage all land here; the cause says which.
      throw invalid('something that is not a readable private key', cause);
    }
    if (key.asymmetricKeyType !== 'ec') throw invalid(`a ${key.asymmetricKeyType ?? 'unknown'} key`);
    const curve = key.asymmetricKeyDetails?.namedCurve;
    // Node names P-256 by its OpenSSL name.
    if (curve !== 'prime256v1') throw invalid(`an EC key on curve ${curve ?? 'unknown'}`);
    return new LocalKeySigner(key);
  }

  /** sha256 (hex) of the public key's SPKI DER. */
  async keyId(): Promise<string> {
    return this.#keyId;
  }

  /** The public key as SPKI PEM. */
  async publicKeyPem(): Promise<string> {
    return this.#publicKeyPem;
  }

  /** ECDSA P-256 / SHA-256 over `data`, DER-encoded. */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(sign('sha256', data, { key: this.#privateKey, dsaEncoding: 'der' }));
  }
}
