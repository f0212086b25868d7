import { verify } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { isSessiontrailError, SessiontrailError } from '../errors.ts';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { envelopeBytes, IN_TOTO_PAYLOAD_TYPE, pae, readEnvelope } from './dsse.ts';
import { keyIdOf } from './keygen.ts';
import {
  artifactNameProblem,
  buildManifest,
  DSSE_FILE,
  type JsonValue,
  MANIFEST_FILE,
  manifestBytes,
  type PreviousPack,
  SEAL_FILES,
  SIGNATURE_FILE,
  TIMESTAMP_FILE,
  type ToolFacts,
} from './manifest.ts';
import { KEYS_DIR, parseSequenceListing, receiptPath, reservationPath, SEQUENCE_DIR } from './pack-layout.ts';
import { packReadme, README_FILE } from './pack-readme.ts';
import { packState } from './pack-state.ts';
import type { Signer } from './signer.ts';
import { checkTimestamp, requestTimestamp, type Timestamper } from './timestamp.ts';

export { KEYS_DIR } from './pack-layout.ts';

/** The dependencies of {@link sealPack}. */
export interface SealPackDeps {
  readonly store: EvidenceStore;
  readonly signer: Signer;
  readonly clock: Clock;
  /**
   * A Time-Stamping Authority: when given, the manifest gets an RFC 3161 token, `manifest.tsr`.
   * @default none: no trusted time beyond the sealing time the signer states
   */
  readonly timestamper?: Timestamper;
}

/** Who seals and why: recorded in the reservation and the manifest's predicate. */
export interface SealFacts {
  /** `--requester` or the OS user (CLI); the caller's principal or the schedule ARN (Lambda). */
  readonly operator: string;
  /** The request as received, JSON; null when there was none (a direct seal). */
  readonly request: JsonValue;
}

/**
 * Sequence `n` of a series, taken by this pack, with the facts fixed at that moment: a resumed seal
 * reuses them, so its PDF (which shows them) and manifest come out byte-identical.
 */
export interface SealReservation extends SealFacts {
  readonly series: string;
  readonly packId: string;
  readonly sequence: number;
  /** ISO 8601 UTC from the Clock when the sequence was taken: the pack's sealing time. */
  readonly sealedAt: string;
  /** The pack of sequence n-1, verified, or null for sequence 1. */
  readonly previous: PreviousPack | null;
}

/** What to seal. */
export interface SealPackInput {
  /** The series folder, one path segment (e.g. `review-monthly`); `keys` is reserved. */
  readonly series: string;
  /** The pack folder inside the series, one path segment. */
  readonly packId: string;
  /** Every file of the pack but the manifest, its signature and envelope, relative to the pack folder. */
  readonly artifacts: readonly { readonly name: string; readonly bytes: Uint8Array }[];
  /** The tool, and the engine that computed the pack (recorded in the manifest, not in evidence.json). */
  readonly tool: ToolFacts;
  /** From {@link reserveSequence}; taken here (with {@link SealFacts}) when not given. */
  readonly reservation?: SealReservation;
  /** Used only when no reservation is given. @default { operator: 'unspecified', request: null } */
  readonly facts?: SealFacts;
}

/** Where a sealed pack went. */
export interface SealedPack {
  /** `<series>/<packId>`, relative to the store root. */
  readonly dir: string;
  /** sha256 of `manifest.json`: what the next pack of the series records as `previous`. */
  readonly manifestSha256: string;
  readonly keyId: string;
  readonly sequence: number;
}

/** The content of `<series>/_sequence/<n>.json`. */
interface ReservationRecord {
  readonly pack_id: string;
  readonly sequence: number;
  readonly sealed_at: string;
  readonly operator: string;
  readonly request: JsonValue;
}

/**
 * Takes the next sequence number of a series for a pack, or returns the one it already holds (a
 * resumed seal). Seals of one series are serialised (DESIGN.md, decision 12): the head of the
 * series must be sealed and verify with the signer's key before sequence head+1 can be taken, and
 * it is taken by a write-once `putNew` of `<series>/_sequence/<head+1>.json`, which both stores make
 * atomic (O_EXCL link on a folder, `If-None-Match: *` on S3): of two sealers racing for the same
 * number exactly one wins.
 *
 * @throws {SessiontrailError} `SERIES_BUSY` when the head pack is not sealed yet (being built, or
 *   its build died: rerun it) or another sealer took the number first; `SERIES_PREDECESSOR_UNVERIFIED`
 *   when the head pack is signed but does not verify with `trustedKeyPem` (never linked as previous);
 *   `BAD_REQUEST` for a bad series or pack id; `STORE_*` from the store.
 */
export async function reserveSequence(
  deps: { readonly store: EvidenceStore; readonly clock: Clock; readonly trustedKeyPem: string },
  input: { readonly series: string; readonly packId: string } & SealFacts,
): Promise<SealReservation> {
  const { store } = deps;
  checkSegment('series', input.series);
  checkSegment('pack id', input.packId);
  const listing = parseSequenceListing(await store.list(`${input.series}/${SEQUENCE_DIR}`));
  const head = listing.reserved.at(-1) ?? 0;
  const headRecord = head === 0 ? null : await readReservation(store, input.series, head);
  if (headRecord !== null && headRecord.pack_id === input.packId) {
    // This pack holds the head already: a resumed seal keeps its number and its facts.
    return {
      series: input.series,
      packId: input.packId,
      sequence: head,
      sealedAt: headRecord.sealed_at,
      operator: headRecord.operator,
      request: headRecord.request,
      previous: head === 1 ? null : await sealedPredecessor(deps, input.series, head - 1),
    };
  }
  const previous = head === 0 ? null : await sealedPredecessor(deps, input.series, head);
  const record: ReservationRecord = {
    pack_id: input.packId,
    sequence: head + 1,
    sealed_at: deps.clock.now().toISOString(),
    operator: input.operator,
    request: input.request,
  };
  try {
    await store.putNew(reservationPath(input.series, head + 1), canonicalBytes(record));
  } catch (err) {
    if (!isSessiontrailError(err, 'PACK_EXISTS')) throw err;
    throw new SessiontrailError(
      'SERIES_BUSY',
      `series ${input.series}: another seal took sequence ${head + 1} first; retry when it is sealed`,
      { cause: err },
    );
  }
  return {
    series: input.series,
    packId: input.packId,
    sequence: record.sequence,
    sealedAt: record.sealed_at,
    operator: record.operator,
    request: record.request,
    previous,
  };
}

/** The pack holding `sequence`, which must be sealed and verify with the trusted key. */
async function sealedPredecessor(
  deps: { readonly store: EvidenceStore; readonly trustedKeyPem: string },
  series: string,
  sequence: number,
): Promise<PreviousPack> {
  const record = await readReservation(deps.store, series, sequence);
  if (record === null) {
    throw new SessiontrailError(
      'SERIES_PREDECESSOR_UNVERIFIED',
      `series ${series}: the reservation of sequence ${sequence} is missing or unreadable; the chain cannot be continued`,
    );
  }
  const dir = `${series}/${record.pack_id}`;
  const state = await packState(deps.store, dir, deps.trustedKeyPem);
  if (state.state === 'sealed' && state.manifest.predicate.sequence === sequence) {
    // The receipt is written right after the signature; a seal that died in between left none.
    await deps.store.putIdempotent(
      receiptPath(series, sequence),
      receiptBytes(record.pack_id, sequence, state.manifestSha256),
    );
    return { pack_id: record.pack_id, sequence, manifest_sha256: state.manifestSha256 };
  }
  if (state.state === 'unfinished' && state.signed) {
    throw new SessiontrailError(
      'SERIES_PREDECESSOR_UNVERIFIED',
      `series ${series}: pack ${dir} (sequence ${sequence}) is signed but does not verify with the signer's key, so it is never linked as previous: ${state.problems.slice(0, 3).join('; ')}`,
    );
  }
  if (state.state === 'sealed') {
    throw new SessiontrailError(
      'SERIES_PREDECESSOR_UNVERIFIED',
      `series ${series}: pack ${dir} holds sequence ${state.manifest.predicate.sequence} in its manifest, but reservation ${sequence} names it`,
    );
  }
  throw new SessiontrailError(
    'SERIES_BUSY',
    `series ${series}: pack ${dir} (sequence ${sequence}) is ${state.state === 'absent' ? 'reserved but not written' : 'unfinished'}: a seal is in progress, or died; rerun that pack's export to finish it`,
  );
}

async function readReservation(
  store: EvidenceStore,
  series: string,
  sequence: number,
): Promise<ReservationRecord | null> {
  const path = reservationPath(series, sequence);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await store.get(path)));
  } catch (err) {
    if (isSessiontrailError(err) || err instanceof SyntaxError || err instanceof TypeError) return null;
    throw err;
  }
  const r = json as Partial<ReservationRecord> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.pack_id !== 'string' ||
    r.sequence !== sequence ||
    typeof r.sealed_at !== 'string' ||
    Number.isNaN(Date.parse(r.sealed_at)) ||
    typeof r.operator !== 'string' ||
    !('request' in r)
  ) {
    return null;
  }
  return r as ReservationRecord;
}

/** The content of `<series>/_sequence/<n>.seal.json`: what sequence n was sealed as. */
export function receiptBytes(packId: string, sequence: number, manifestSha256: string): Uint8Array {
  return canonicalBytes({ manifest_sha256: manifestSha256, pack_id: packId, sequence });
}

/**
 * Seals a pack into the store, or finishes an unfinished one: publishes the signer's public key at
 * `keys/<key id>.pem`, writes every artifact under `<series>/<packId>/` and a `README.txt` that
 * says what each file is and how to verify it from that folder, then `manifest.json`,
 * `manifest.dsse.json`, and `manifest.sig` last, then the series receipt. A pack folder without a
 * valid `manifest.sig` is therefore unfinished by definition (DESIGN.md, decision 7).
 *
 * Resuming: every object is write-once; one that already exists is accepted when its content is
 * exactly what would be written (the reservation fixes the sealing time, so the manifest is the same
 * bytes), and is a `PACK_CONFLICT` otherwise. A build killed after any write completes on rerun.
 *
 * Before anything is written the signature is checked against the signer's own public key, and the
 * signer's key id must equal sha256 of that key's SPKI DER.
 *
 * @throws {SessiontrailError} `BAD_REQUEST` for a bad series, pack id or artifact names, or a
 *   reservation of another pack; `PACK_EXISTS` when the pack is already sealed or the published key
 *   differs; `PACK_CONFLICT` when an unfinished pack holds different or extra files; `KEY_INVALID`
 *   when the signer's key id or signature does not match its public key; `SERIES_BUSY`,
 *   `SERIES_PREDECESSOR_UNVERIFIED` from {@link reserveSequence}; `STORE_*` from the store.
 */
export async function sealPack(deps: SealPackDeps, input: SealPackInput): Promise<SealedPack> {
  const { store, signer, clock } = deps;
  checkSegment('series', input.series);
  checkSegment('pack id', input.packId);
  if (input.series === KEYS_DIR) {
    throw new SessiontrailError('BAD_REQUEST', `series "${KEYS_DIR}" is reserved for published public keys`);
  }
  const problem =
    artifactNameProblem(input.artifacts.map((a) => a.name)) ??
    (input.artifacts.some((a) => a.name === README_FILE) ? `artifact name ${README_FILE} is reserved` : null);
  if (problem) throw new SessiontrailError('BAD_REQUEST', `pack ${input.packId}: ${problem}`);

  const dir = `${input.series}/${input.packId}`;
  const [keyId, publicKeyPem] = await Promise.all([signer.keyId(), signer.publicKeyPem()]);
  const derivedId = keyIdOf(publicKeyPem);
  if (keyId !== derivedId) {
    throw new SessiontrailError(
      'KEY_INVALID',
      `signer key id: expected sha256 of its public key (${derivedId}), received ${keyId}`,
    );
  }
  // A signer whose signatures do not verify with its own key is refused before anything is written
  // (the sequence reservation included), with a probe signature over a fixed message.
  const probe = new TextEncoder().encode(`sessiontrail signer probe ${keyId}`);
  if (!verify('sha256', probe, { key: publicKeyPem, dsaEncoding: 'der' }, await signer.sign(probe))) {
    throw new SessiontrailError(
      'KEY_INVALID',
      `signer ${keyId}: its signature does not verify with its own public key`,
    );
  }
  // Checked up front so that sealing a sealed pack again fails before anything is written.
  const state = await packState(store, dir, publicKeyPem);
  if (state.state === 'sealed') {
    throw new SessiontrailError(
      'PACK_EXISTS',
      `pack ${store.describe(dir)} is already sealed; packs are written once`,
    );
  }
  const names = new Set([...input.artifacts.map((a) => a.name), README_FILE]);
  const extra =
    state.state === 'unfinished' ? state.files.filter((f) => !names.has(f) && !SEAL_FILES.includes(f)) : [];
  if (extra.length > 0) {
    throw new SessiontrailError(
      'PACK_CONFLICT',
      `unfinished pack ${store.describe(dir)} holds ${extra.join(', ')}, which this build does not write: it was started by another build; move it aside`,
    );
  }

  const reservation =
    input.reservation ??
    (await reserveSequence(
      { store, clock, trustedKeyPem: publicKeyPem },
      {
        series: input.series,
        packId: input.packId,
        ...(input.facts ?? { operator: 'unspecified', request: null }),
      },
    ));
  if (reservation.series !== input.series || reservation.packId !== input.packId) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `the reservation is for pack ${reservation.series}/${reservation.packId}, not ${dir}`,
    );
  }

  // Every pack folder explains itself: what each file is and the commands that check it.
  const readme = new TextEncoder().encode(
    packReadme({
      series: input.series,
      packId: input.packId,
      sequence: reservation.sequence,
      sealedAt: reservation.sealedAt,
      keyId,
      artifacts: input.artifacts,
      ...(deps.timestamper === undefined ? {} : { timestamped: true }),
    }),
  );
  const artifacts = [...input.artifacts, { name: README_FILE, bytes: readme }];
  const statement = buildManifest({
    series: input.series,
    packId: input.packId,
    artifacts,
    previous: reservation.previous,
    sequence: reservation.sequence,
    sealedAt: reservation.sealedAt,
    operator: reservation.operator,
    request: reservation.request,
    tool: input.tool,
    keyId,
  });
  const manifest = manifestBytes(statement);
  const signature = await signer.sign(manifest);
  if (!verify('sha256', manifest, { key: publicKeyPem, dsaEncoding: 'der' }, signature)) {
    throw new SessiontrailError(
      'KEY_INVALID',
      `signer ${keyId}: its signature does not verify with its own public key`,
    );
  }

  await store.putIdempotent(`${KEYS_DIR}/${keyId}.pem`, new TextEncoder().encode(publicKeyPem));
  for (const artifact of artifacts) {
    await putResumed(store, `${dir}/${artifact.name}`, artifact.bytes);
  }
  await putResumed(store, `${dir}/${MANIFEST_FILE}`, manifest);
  // ECDSA signatures differ on every call (KMS's too), so an envelope left by a dead build is kept
  // when it verifies, rather than compared byte for byte.
  const dssePath = `${dir}/${DSSE_FILE}`;
  const message = pae(IN_TOTO_PAYLOAD_TYPE, manifest);
  if (await store.exists(dssePath)) {
    const existing = readEnvelope(await store.get(dssePath), manifest, keyId);
    const valid =
      existing.ok &&
      existing.signatures.some((s) =>
        verify('sha256', message, { key: publicKeyPem, dsaEncoding: 'der' }, s.sig),
      );
    if (!valid) {
      throw new SessiontrailError(
        'PACK_CONFLICT',
        `${store.describe(dssePath)} exists and does not carry this manifest signed by ${keyId}`,
      );
    }
  } else {
    await store.putNew(dssePath, envelopeBytes(manifest, keyId, await signer.sign(message)));
  }
  // The TSA's token over the manifest is written before manifest.sig, the last file of a sealed
  // pack, so that a pack is never sealed without the token it was asked to carry; a token left by a
  // dead build is kept when it is over this manifest (a resumed build writes the same manifest).
  if (deps.timestamper !== undefined) {
    const tsrPath = `${dir}/${TIMESTAMP_FILE}`;
    if (await store.exists(tsrPath)) {
      try {
        checkTimestamp(await store.get(tsrPath), manifest);
      } catch (cause) {
        throw new SessiontrailError(
          'PACK_CONFLICT',
          `${store.describe(tsrPath)} exists and is no token over this manifest: move the folder aside`,
          { cause },
        );
      }
    } else {
      await store.putNew(tsrPath, (await requestTimestamp(deps.timestamper, manifest)).response);
    }
  }
  try {
    await store.putNew(`${dir}/${SIGNATURE_FILE}`, signature);
  } catch (err) {
    if (!isSessiontrailError(err, 'PACK_EXISTS')) throw err;
    throw new SessiontrailError(
      'PACK_CONFLICT',
      `${store.describe(`${dir}/${SIGNATURE_FILE}`)} exists but the pack did not verify: move the folder aside`,
      { cause: err },
    );
  }
  const manifestSha256 = sha256Hex(manifest);
  await store.putIdempotent(
    receiptPath(input.series, reservation.sequence),
    receiptBytes(input.packId, reservation.sequence, manifestSha256),
  );
  return { dir, manifestSha256, keyId, sequence: reservation.sequence };
}

async function putResumed(store: EvidenceStore, path: string, bytes: Uint8Array): Promise<void> {
  try {
    await store.putIdempotent(path, bytes);
  } catch (err) {
    if (!isSessiontrailError(err, 'PACK_EXISTS')) throw err;
    throw new SessiontrailError(
      'PACK_CONFLICT',
      `${store.describe(path)} already exists with other content than this build writes: the unfinished pack was started with other evidence; move it aside`,
      { cause: err },
    );
  }
}

function checkSegment(what: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value) || value.length > 128) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `${what}: expected one path segment of letters, digits, ".", "_" or "-" (not leading), received ${JSON.stringify(value)}`,
    );
  }
}
