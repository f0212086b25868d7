import { Buffer } from 'node:buffer';
import { canonicalBytes } from '../evidence/canonical-json.ts';

/** The DSSE payload type of an in-toto Statement (in-toto attestation spec, envelope.md). */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** A DSSE envelope (github.com/secure-systems-lab/dsse, envelope.md). */
export interface DsseEnvelope {
  readonly payloadType: string;
  /** Base64 (standard, padded) of the payload bytes. */
  readonly payload: string;
  readonly signatures: readonly { readonly keyid: string; readonly sig: string }[];
}

/**
 * The pre-authentication encoding DSSE signs (protocol.md):
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal byte counts.
 * A DSSE signature is over these bytes, never over the payload alone: that is why `manifest.sig`
 * (over `manifest.json`) cannot be reused inside the envelope.
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.byteLength} ${payloadType} ${payload.byteLength} `, 'utf8');
  return Buffer.concat([head, payload]);
}

/** The bytes of `manifest.dsse.json` (canonical JSON) for a manifest and its signature over the PAE. */
export function envelopeBytes(manifest: Uint8Array, keyId: string, paeSignature: Uint8Array): Uint8Array {
  const envelope: DsseEnvelope = {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: Buffer.from(manifest).toString('base64'),
    signatures: [{ keyid: keyId, sig: Buffer.from(paeSignature).toString('base64') }],
  };
  return canonicalBytes(envelope);
}

/**
 * Reads an envelope and checks its shape, that it carries exactly `manifest`, that it is in the
 * canonical form this tool writes, and (when given) that every signature names `keyId`.
 * @returns the signatures to check over `pae(payloadType, manifest)`, or why the envelope is unusable.
 */
export function readEnvelope(
  bytes: Uint8Array,
  manifest: Uint8Array,
  keyId?: string,
): { ok: true; signatures: { keyid: string; sig: Uint8Array }[] } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, problem: 'not UTF-8 JSON' };
  }
  const e = json as Partial<DsseEnvelope> | null;
  if (typeof e !== 'object' || e === null || typeof e.payload !== 'string' || !Array.isArray(e.signatures)) {
    return { ok: false, problem: 'expected { payloadType, payload, signatures }' };
  }
  if (e.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return {
      ok: false,
      problem: `payloadType: expected ${IN_TOTO_PAYLOAD_TYPE}, received ${JSON.stringify(e.payloadType)}`,
    };
  }
  // Node's base64 decoder skips characters outside the alphabet: compare the text, not the decoding.
  if (e.payload !== Buffer.from(manifest).toString('base64')) {
    return { ok: false, problem: 'the payload is not the bytes of manifest.json' };
  }
  const signatures: { keyid: string; sig: Uint8Array }[] = [];
  for (const s of e.signatures as unknown[]) {
    const sig = s as { keyid?: unknown; sig?: unknown };
    if (typeof sig?.sig !== 'string') return { ok: false, problem: 'a signature without sig' };
    if (Buffer.from(sig.sig, 'base64').toString('base64') !== sig.sig) {
      return { ok: false, problem: 'a signature that is not canonical base64' };
    }
    if (keyId !== undefined && sig.keyid !== keyId) {
      return { ok: false, problem: `keyid: expected ${keyId}, received ${JSON.stringify(sig.keyid)}` };
    }
    signatures.push({
      keyid: typeof sig.keyid === 'string' ? sig.keyid : '',
      sig: Buffer.from(sig.sig, 'base64'),
    });
  }
  if (signatures.length === 0) return { ok: false, problem: 'no signatures' };
  // Written canonical by envelopeBytes: any other form is not an envelope this tool wrote.
  if (!Buffer.from(canonicalBytes(json)).equals(Buffer.from(bytes))) {
    return { ok: false, problem: 'not in canonical form (RFC 8785)' };
  }
  return { ok: true, signatures };
}
