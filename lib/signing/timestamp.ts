/**
 * RFC 3161 trusted time for a pack: a timestamp token from a Time-Stamping Authority over the exact
 * bytes of `manifest.json`, stored beside it as `manifest.tsr` (the TimeStampResp, as
 * `openssl ts -verify -in manifest.tsr -data manifest.json -CAfile tsa-ca.pem` reads it).
 *
 * The request is DER written here (RFC 3161 §2.4.1); the response is read with a small DER reader,
 * enough to check what a verifier must (RFC 3161 §2.4.2, RFC 5652 §5.4): the status is granted,
 * the token's message imprint is the sha256 of the manifest, the CMS signed attributes carry the
 * digest of the TSTInfo, and the TSA certificate's key verifies their signature; optionally, the
 * certificate is issued by a CA the verifier trusts and is for time stamping.
 */
import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { SessiontrailError } from '../errors.ts';
import { TIMESTAMP_FILE } from './manifest.ts';

export { TIMESTAMP_FILE } from './manifest.ts';

/** Asks a Time-Stamping Authority for a token: an RFC 3161 TimeStampReq in, a TimeStampResp out (DER). */
export interface Timestamper {
  /** The TSA, for people (its URL). */
  describe(): string;
  /** @throws SessiontrailError `TIMESTAMP_FAILED` when the TSA cannot be reached or refuses. */
  timestamp(request: Uint8Array): Promise<Uint8Array>;
}

/**
 * The RFC 3161 HTTP transport (§3.4): POST `application/timestamp-query`, answer
 * `application/timestamp-reply`.
 */
export function httpTimestamper(url: string): Timestamper {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `TSA URL: expected http(s)://…, received ${JSON.stringify(url)}`,
      {
        cause,
      },
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new SessiontrailError(
      'BAD_REQUEST',
      `TSA URL: expected http(s)://…, received ${JSON.stringify(url)}`,
    );
  return {
    describe: () => url,
    async timestamp(request) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query' },
          body: request,
          signal: AbortSignal.timeout(30_000),
        });
      } catch (cause) {
        throw new SessiontrailError('TIMESTAMP_FAILED', `the TSA at ${url} cannot be reached`, { cause });
      }
      if (!response.ok)
        throw new SessiontrailError('TIMESTAMP_FAILED', `the TSA at ${url} answered HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

const OID = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  messageDigest: '1.2.840.113549.1.9.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
} as const;
const HASH_OF_OID: Readonly<Record<string, string>> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** A TimeStampReq (RFC 3161 §2.4.1) for the sha256 of `data`, asking for the TSA's certificate. */
export function timestampRequest(data: Uint8Array, nonce: Uint8Array = randomBytes(8)): Uint8Array {
  const digest = createHash('sha256').update(data).digest();
  return der(
    0x30,
    der(0x02, Uint8Array.of(1)),
    der(0x30, der(0x30, oidBytes(OID.sha256), der(0x05)), der(0x04, digest)),
    der(0x02, positiveInteger(nonce)),
    der(0x01, Uint8Array.of(0xff)),
  );
}

/**
 * Asks `timestamper` for a token over `data` and checks it (granted, over these bytes, signed by the
 * certificate it carries, answering this request's nonce): the TimeStampResp to store.
 * @throws SessiontrailError `TIMESTAMP_FAILED` when the TSA cannot be reached or its answer does not check out.
 */
export async function requestTimestamp(
  timestamper: Timestamper,
  data: Uint8Array,
): Promise<{ readonly response: Uint8Array; readonly info: TimestampInfo }> {
  const nonce = randomBytes(8);
  const response = await timestamper.timestamp(timestampRequest(data, nonce));
  let info: TimestampInfo;
  try {
    info = checkTimestamp(response, data);
  } catch (cause) {
    throw new SessiontrailError(
      'TIMESTAMP_FAILED',
      `the TSA at ${timestamper.describe()} answered no valid token: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  if (info.nonce !== Buffer.from(positiveInteger(nonce)).toString('hex'))
    throw new SessiontrailError(
      'TIMESTAMP_FAILED',
      `the TSA at ${timestamper.describe()} answered another request (nonce ${info.nonce})`,
    );
  return { response, info };
}

/** What a token says, once checked. */
export interface TimestampInfo {
  /** The TSA's time (genTime), ISO 8601 UTC. */
  readonly time: string;
  /** The TSA certificate's subject. */
  readonly tsa: string;
  /** The nonce, hex. */
  readonly nonce: string | null;
  readonly certificate: X509Certificate;
}

/**
 * Checks a TimeStampResp over `data`: granted, imprint = sha256(data), CMS signature valid with the
 * TSA certificate it carries; with `trustedCas`, that certificate is one of them or issued by one
 * and is for time stamping.
 * @throws SessiontrailError `VERIFY_TIMESTAMP_INVALID` (unreadable, not granted, bad signature),
 *   `VERIFY_TIMESTAMP_MISMATCH` (a token over other bytes), `VERIFY_TIMESTAMP_UNTRUSTED`.
 */
export function checkTimestamp(
  response: Uint8Array,
  data: Uint8Array,
  trustedCas?: readonly X509Certificate[],
): TimestampInfo {
  const invalid = (why: string) =>
    new SessiontrailError('VERIFY_TIMESTAMP_INVALID', `${TIMESTAMP_FILE}: ${why}`);
  let parts: ResponseParts;
  try {
    parts = parseResponse(response);
  } catch (err) {
    if (err instanceof SessiontrailError) throw err;
    throw invalid(`not an RFC 3161 TimeStampResp (${err instanceof Error ? err.message : String(err)})`);
  }
  if (parts.status > 1) throw invalid(`the TSA did not grant the timestamp (PKIStatus ${parts.status})`);
  const hash = HASH_OF_OID[parts.imprintAlgorithm];
  if (hash === undefined) throw invalid(`unknown imprint hash algorithm ${parts.imprintAlgorithm}`);
  const expected = createHash(hash).update(data).digest();
  if (!Buffer.from(parts.imprint).equals(expected))
    throw new SessiontrailError(
      'VERIFY_TIMESTAMP_MISMATCH',
      `${TIMESTAMP_FILE}: the token is over other bytes than manifest.json (imprint ${Buffer.from(parts.imprint).toString('hex')}, manifest ${expected.toString('hex')})`,
    );
  const signerHash = HASH_OF_OID[parts.signerDigestAlgorithm];
  if (signerHash === undefined)
    throw invalid(`unknown signer digest algorithm ${parts.signerDigestAlgorithm}`);
  if (!Buffer.from(parts.messageDigest).equals(createHash(signerHash).update(parts.tstInfo).digest()))
    throw invalid('the signed attributes do not carry the digest of the token info');
  const signer = parts.certificates.find((c) =>
    verify(signerHash, parts.signedAttributes, c.publicKey, Buffer.from(parts.signature)),
  );
  if (parts.certificates.length === 0)
    throw invalid('the token carries no TSA certificate (ask with certReq)');
  if (signer === undefined) throw invalid('no certificate in the token verifies its signature');
  if (trustedCas !== undefined) {
    const trusted = trustedCas.some(
      (ca) =>
        signer.fingerprint256 === ca.fingerprint256 ||
        (signer.checkIssued(ca) && signer.verify(ca.publicKey)),
    );
    if (!trusted)
      throw new SessiontrailError(
        'VERIFY_TIMESTAMP_UNTRUSTED',
        `${TIMESTAMP_FILE}: the TSA certificate (${signer.subject.replaceAll('\n', ', ')}) is not issued by a trusted TSA CA`,
      );
    if (!(signer.keyUsage ?? []).includes(OID.timeStamping))
      throw new SessiontrailError(
        'VERIFY_TIMESTAMP_UNTRUSTED',
        `${TIMESTAMP_FILE}: the TSA certificate is not for time stamping (extended key usage ${OID.timeStamping})`,
      );
  }
  return {
    time: parts.genTime,
    tsa: signer.subject.replaceAll('\n', ', '),
    nonce: parts.nonce,
    certificate: signer,
  };
}

/** Reads PEM certificates (a CA bundle). @throws SessiontrailError `BAD_REQUEST` when there is none. */
export function parseCertificates(pem: string, origin: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new SessiontrailError('BAD_REQUEST', `${origin}: expected PEM certificates, found none`);
  return blocks.map((b) => new X509Certificate(b));
}

// ---- DER ----

interface Tlv {
  readonly tag: number;
  readonly value: Uint8Array;
  /** The whole element, header included. */
  readonly raw: Uint8Array;
}

function readTlv(buf: Uint8Array, at = 0): Tlv & { readonly end: number } {
  const tag = buf[at];
  let len = buf[at + 1];
  if (tag === undefined || len === undefined) throw new Error('truncated DER');
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p + i] ?? Number.NaN);
    p += n;
  }
  const end = p + len;
  if (!(end <= buf.length)) throw new Error('truncated DER');
  return { tag, value: buf.subarray(p, end), raw: buf.subarray(at, end), end };
}

function children(value: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < value.length; ) {
    const t = readTlv(value, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

function child(list: readonly Tlv[], i: number, tag?: number): Tlv {
  const t = list[i];
  if (t === undefined || (tag !== undefined && t.tag !== tag))
    throw new Error(`unexpected DER structure at ${i}`);
  return t;
}

function oidText(value: Uint8Array): string {
  const first = value[0] ?? 0;
  const parts = [Math.floor(first / 40), first % 40];
  let n = 0;
  for (const b of value.subarray(1)) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

function oidBytes(oid: string): Uint8Array {
  const [a = 0, b = 0, ...rest] = oid.split('.').map(Number);
  const out = [a * 40 + b];
  for (const n of rest) {
    const groups = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return der(0x06, Uint8Array.from(out));
}

function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  const len = body.length;
  const header =
    len < 0x80
      ? [tag, len]
      : len < 0x100
        ? [tag, 0x81, len]
        : len < 0x10000
          ? [tag, 0x82, len >> 8, len & 0xff]
          : [tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  return Buffer.concat([Uint8Array.from(header), body]);
}

function positiveInteger(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Uint8Array.of(0), trimmed]) : trimmed;
}

/** GeneralizedTime `YYYYMMDDHHMMSS[.fff]Z` → ISO 8601 with milliseconds. */
function generalizedTime(value: Uint8Array): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(
    Buffer.from(value).toString('latin1'),
  );
  if (m === null) throw new Error('bad genTime');
  const ms = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${ms}Z`;
}

/** The parts of a TimeStampResp a verifier checks (RFC 3161 §2.4.2, RFC 5652 SignedData). */
interface ResponseParts {
  readonly status: number;
  readonly imprintAlgorithm: string;
  readonly imprint: Uint8Array;
  readonly genTime: string;
  readonly nonce: string | null;
  readonly tstInfo: Uint8Array;
  readonly certificates: readonly X509Certificate[];
  readonly signerDigestAlgorithm: string;
  readonly messageDigest: Uint8Array;
  readonly signedAttributes: Buffer;
  readonly signature: Uint8Array;
}

function parseResponse(buf: Uint8Array): ResponseParts {
  const resp = children(readTlv(buf).value);
  const status = Number(children(child(resp, 0, 0x30).value)[0]?.value[0] ?? 255);
  if (status > 1 || resp[1] === undefined) return emptyParts(status);
  const contentInfo = children(child(resp, 1, 0x30).value);
  if (oidText(child(contentInfo, 0, 0x06).value) !== OID.signedData) throw new Error('not CMS SignedData');
  const signedData = children(children(child(contentInfo, 1, 0xa0).value)[0]?.value ?? new Uint8Array());
  // version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls, signerInfos
  const encap = children(child(signedData, 2, 0x30).value);
  if (oidText(child(encap, 0, 0x06).value) !== OID.tstInfo) throw new Error('not a TSTInfo');
  const tstInfo = children(child(encap, 1, 0xa0).value)[0]?.value;
  if (tstInfo === undefined) throw new Error('no TSTInfo');
  const info = children(readTlv(tstInfo).value);
  // version, policy, messageImprint, serialNumber, genTime, [accuracy], [ordering], [nonce], …
  const imprint = children(child(info, 2, 0x30).value);
  const imprintAlgorithm = oidText(child(children(child(imprint, 0, 0x30).value), 0, 0x06).value);
  const genTime = generalizedTime(child(info, 4, 0x18).value);
  const nonceTlv = info.slice(5).find((t) => t.tag === 0x02);
  const certificates = signedData
    .filter((t) => t.tag === 0xa0)
    .flatMap((t) => children(t.value))
    .filter((t) => t.tag === 0x30)
    .map((t) => new X509Certificate(Buffer.from(t.raw)));
  const signerInfos = children(child(signedData, signedData.length - 1, 0x31).value);
  const si = children(child(signerInfos, 0, 0x30).value);
  // version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature
  const signerDigestAlgorithm = oidText(child(children(child(si, 2, 0x30).value), 0, 0x06).value);
  const attrs = child(si, 3, 0xa0);
  let messageDigest: Uint8Array = new Uint8Array();
  for (const attr of children(attrs.value)) {
    const [type, values] = children(attr.value);
    if (type !== undefined && oidText(type.value) === OID.messageDigest)
      messageDigest = children(values?.value ?? new Uint8Array())[0]?.value ?? messageDigest;
  }
  // The signature is over the attributes DER-encoded as a SET (RFC 5652 §5.4), not as [0].
  const signedAttributes = Buffer.concat([Uint8Array.of(0x31), attrs.raw.subarray(1)]);
  const signature = child(si, 5, 0x04).value;
  return {
    status,
    imprintAlgorithm,
    imprint: child(imprint, 1, 0x04).value,
    genTime,
    nonce: nonceTlv === undefined ? null : Buffer.from(nonceTlv.value).toString('hex'),
    tstInfo,
    certificates,
    signerDigestAlgorithm,
    messageDigest,
    signedAttributes,
    signature,
  };
}

function emptyParts(status: number): ResponseParts {
  return {
    status,
    imprintAlgorithm: '',
    imprint: new Uint8Array(),
    genTime: '',
    nonce: null,
    tstInfo: new Uint8Array(),
    certificates: [],
    signerDigestAlgorithm: '',
    messageDigest: new Uint8Array(),
    signedAttributes: Buffer.alloc(0),
    signature: new Uint8Array(),
  };
}
