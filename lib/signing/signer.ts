/**
 * The signing port. Adapters: a local PEM key (`local-key-signer.ts`) and AWS KMS (later).
 * Signatures are ECDSA P-256 over SHA-256 of the given bytes, DER-encoded: exactly what AWS KMS
 * `Sign` returns, and what `openssl dgst -sha256 -verify` checks.
 */
export interface Signer {
  /** Stable id of the key: for local keys the sha256 (hex) of the public key's SPKI DER. */
  keyId(): Promise<string>;
  /** The public key as SPKI PEM, for publishing beside the packs. */
  publicKeyPem(): Promise<string>;
  /** Signs `data` (the whole message, not a digest) and returns the DER signature. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export const SIGNATURE_ALGORITHM = 'ECDSA_P256_SHA256' as const;
