import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  type KMSClient,
  SignCommand,
} from '@aws-sdk/client-kms';
import { type ErrorCode, SessiontrailError } from '../errors.ts';
import { keyIdOf, publicKeyPemOf } from './keygen.ts';
import type { Signer } from './signer.ts';

/** Options of {@link KmsSigner}. */
export interface KmsSignerOptions {
  readonly client: KMSClient;
  /** The KMS key: key id, key ARN, alias name (`alias/…`) or alias ARN. */
  readonly keyId: string;
}

interface KmsKey {
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  readonly keyId: string;
  readonly arn: string;
}

/**
 * A {@link Signer} over an AWS KMS asymmetric key (`ECC_NIST_P256`, `SIGN_VERIFY`). The manifest is
 * hashed here and KMS signs the digest (`MessageType: 'DIGEST'`), so manifests of any size fit
 * KMS's 4 KB message limit; the DER signature KMS returns is what `openssl dgst -sha256 -verify`
 * checks over the manifest itself. The private key never leaves KMS.
 */
export class KmsSigner implements Signer {
  readonly #client: KMSClient;
  readonly #kmsKeyId: string;
  #key: Promise<KmsKey> | undefined;

  constructor(options: KmsSignerOptions) {
    this.#client = options.client;
    this.#kmsKeyId = options.keyId;
  }

  /**
   * sha256 (hex) of the public key's SPKI DER, as for local keys: an auditor derives it from the
   * published PEM alone, and `sealPack` refuses any other id. The KMS ARN is {@link kmsKeyArn}.
   *
   * @throws {SessiontrailError} as {@link publicKeyPem}.
   */
  async keyId(): Promise<string> {
    return (await this.#load()).keyId;
  }

  /** The full ARN of the KMS key, as KMS reports it. @throws {SessiontrailError} as {@link publicKeyPem}. */
  async kmsKeyArn(): Promise<string> {
    return (await this.#load()).arn;
  }

  /**
   * The public key as SPKI PEM, from KMS `GetPublicKey` (read once, then cached).
   *
   * @throws {SessiontrailError} `KEY_NOT_FOUND` when KMS has no such key or denies access to it;
   *   `KEY_INVALID` when it is not an `ECC_NIST_P256` `SIGN_VERIFY` key that can sign with
   *   `ECDSA_SHA_256`, or is disabled; `SIGNER_UNAVAILABLE` when KMS cannot be reached.
   */
  async publicKeyPem(): Promise<string> {
    return (await this.#load()).publicKeyPem;
  }

  /**
   * ECDSA P-256 / SHA-256 over `data`, DER-encoded: KMS `Sign` of the SHA-256 digest of `data`.
   *
   * @throws {SessiontrailError} `KEY_NOT_FOUND`, `KEY_INVALID` or `SIGNER_UNAVAILABLE` as for
   *   {@link publicKeyPem}; `KEY_INVALID` when KMS returns no signature.
   */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(data).digest();
    let signature: Uint8Array | undefined;
    try {
      const out = await this.#client.send(
        new SignCommand({
          KeyId: this.#kmsKeyId,
          Message: digest,
          // DIGEST: KMS signs the given hash as is. With RAW it would hash again, and the signature
          // would be over sha256(sha256(manifest)), which openssl would reject.
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      signature = out.Signature;
    } catch (err) {
      throw kmsError(err, 'Sign', this.#kmsKeyId);
    }
    if (signature === undefined || signature.byteLength === 0) {
      throw new SessiontrailError('KEY_INVALID', `KMS key ${this.#kmsKeyId}: Sign returned no signature`);
    }
    return new Uint8Array(signature);
  }

  #load(): Promise<KmsKey> {
    this.#key ??= this.#fetch().catch((err: unknown) => {
      // A failed read is not cached: the next call asks KMS again.
      this.#key = undefined;
      throw err;
    });
    return this.#key;
  }

  async #fetch(): Promise<KmsKey> {
    const id = this.#kmsKeyId;
    let out: GetPublicKeyCommandOutput;
    try {
      out = await this.#client.send(new GetPublicKeyCommand({ KeyId: id }));
    } catch (err) {
      throw kmsError(err, 'GetPublicKey', id);
    }
    const invalid = (received: string): SessiontrailError =>
      new SessiontrailError(
        'KEY_INVALID',
        `KMS key ${id}: expected an ECC_NIST_P256 key for SIGN_VERIFY with ECDSA_SHA_256, received ${received}`,
      );
    // CustomerMasterKeySpec is the deprecated name of KeySpec; KMS still returns both, some emulators only it.
    const keySpec = out.KeySpec ?? out.CustomerMasterKeySpec;
    if (keySpec !== 'ECC_NIST_P256') throw invalid(`key spec ${keySpec ?? 'unknown'}`);
    if (out.KeyUsage !== 'SIGN_VERIFY') throw invalid(`key usage ${out.KeyUsage ?? 'unknown'}`);
    if (out.SigningAlgorithms !== undefined && !out.SigningAlgorithms.includes('ECDSA_SHA_256')) {
      throw invalid(`signing algorithms ${out.SigningAlgorithms.join(', ')}`);
    }
    if (out.PublicKey === undefined) throw invalid('no public key');
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' });
    } catch (cause) {
      throw new SessiontrailError('KEY_INVALID', `KMS key ${id}: its public key is not SPKI DER`, { cause });
    }
    if (publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw invalid(`a public key on curve ${publicKey.asymmetricKeyDetails?.namedCurve ?? 'unknown'}`);
    }
    return {
      publicKey,
      publicKeyPem: publicKeyPemOf(publicKey),
      keyId: keyIdOf(publicKey),
      arn: out.KeyId ?? id,
    };
  }
}

/** KMS errors by name (KMS API reference) to the signer's codes. */
function kmsError(err: unknown, operation: string, keyId: string): SessiontrailError {
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const code: ErrorCode =
    name === 'NotFoundException' || name === 'AccessDeniedException'
      ? 'KEY_NOT_FOUND'
      : name === 'DisabledException' ||
          name === 'KMSInvalidStateException' ||
          name === 'InvalidKeyUsageException' ||
          name === 'UnsupportedOperationException' ||
          name === 'ValidationException'
        ? 'KEY_INVALID'
        : 'SIGNER_UNAVAILABLE';
  return new SessiontrailError(code, `KMS ${operation} with key ${keyId} failed: ${name}: ${message}`, {
    cause: err,
  });
}
