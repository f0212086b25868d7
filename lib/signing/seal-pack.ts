import { verify } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { isSessiontrailError, SessiontrailError } from '../errors.ts';
import { sha256Hex } from '../evidence/canonical-json.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { keyIdOf } from './keygen.ts';
import {
  artifactNameProblem,
  buildManifest,
  compareCodeUnits,
  MANIFEST_FILE,
  manifestBytes,
  type PreviousPack,
  parseManifest,
  SIGNATURE_FILE,
} from './manifest.ts';
import type { Signer } from './signer.ts';

/** Folder at the store root where public keys are published, beside the series folders. */
export const KEYS_DIR = 'keys';

/** The dependencies of {@link sealPack}. */
export interface SealPackDeps {
  readonly store: EvidenceStore;
  readonly signer: Signer;
  readonly clock: Clock;
}

/** What to seal. */
export interface SealPackInput {
  /** The series folder, one path segment (e.g. `review-monthly`); `keys` is reserved. */
  readonly series: string;
  /** The pack folder inside the series, one path segment. */
  readonly packId: string;
  /** Every file of the pack but the manifest and signature, paths relative to the pack folder. */
  readonly artifacts: readonly { readonly name: string; readonly bytes: Uint8Array }[];
  /** The pack this one follows in the series (see {@link findPreviousPack}), or null for the first. */
  readonly previous: PreviousPack | null;
  readonly tool: { readonly name: string; readonly version: string };
}

/** Where a sealed pack went. */
export interface SealedPack {
  /** `<series>/<packId>`, relative to the store root. */
  readonly dir: string;
  /** sha256 of `manifest.json`: what the next pack of the series records as `previous`. */
  readonly manifestSha256: string;
  readonly keyId: string;
}

/**
 * Seals a pack into the store: publishes the signer's public key at `keys/<key id>.pem` (idempotent),
 * writes every artifact under `<series>/<packId>/`, then `manifest.json`, then `manifest.sig` last.
 * A pack folder without `manifest.sig` is therefore incomplete by definition (DESIGN.md, decision 7).
 *
 * Before anything is written to the pack folder the signature is checked against the signer's own
 * public key, and the signer's key id must equal sha256 of that key's SPKI DER: an auditor derives
 * the key id from the public key alone, so a signer that reports another id would make packs that
 * cannot be tied to their key.
 *
 * @throws {SessiontrailError} `BAD_REQUEST` for a series or pack id that is not one clean path segment
 *   (or is `keys`) and for bad artifact names; `PACK_EXISTS` when the pack folder already holds files
 *   or the published key differs; `KEY_INVALID` when the signer's key id or signature does not match
 *   its public key; `STORE_WRITE_FAILED` from the store.
 */
export async function sealPack(deps: SealPackDeps, input: SealPackInput): Promise<SealedPack> {
  const { store, signer, clock } = deps;
  checkSegment('series', input.series);
  checkSegment('pack id', input.packId);
  if (input.series === KEYS_DIR) {
    throw new SessiontrailError('BAD_REQUEST', `series "${KEYS_DIR}" is reserved for published public keys`);
  }
  const problem = artifactNameProblem(input.artifacts.map((a) => a.name));
  if (problem) throw new SessiontrailError('BAD_REQUEST', `pack ${input.packId}: ${problem}`);

  const dir = `${input.series}/${input.packId}`;
  // Checked up front so that a second run of the same pack fails before writing a single file,
  // rather than half-way through its artifacts.
  const already = await store.list(dir);
  if (already.length > 0) {
    throw new SessiontrailError(
      'PACK_EXISTS',
      `pack ${store.describe(dir)} already holds ${already.length} file(s); packs are written once`,
    );
  }

  const [keyId, publicKeyPem] = await Promise.all([signer.keyId(), signer.publicKeyPem()]);
  const derivedId = keyIdOf(publicKeyPem);
  if (keyId !== derivedId) {
    throw new SessiontrailError(
      'KEY_INVALID',
      `signer key id: expected sha256 of its public key (${derivedId}), received ${keyId}`,
    );
  }

  const statement = buildManifest({ ...input, keyId, clock });
  const manifest = manifestBytes(statement);
  const signature = await signer.sign(manifest);
  if (!verify('sha256', manifest, { key: publicKeyPem, dsaEncoding: 'der' }, signature)) {
    throw new SessiontrailError(
      'KEY_INVALID',
      `signer ${keyId}: its signature does not verify with its own public key`,
    );
  }

  await store.putIdempotent(`${KEYS_DIR}/${keyId}.pem`, new TextEncoder().encode(publicKeyPem));
  for (const artifact of input.artifacts) {
    await store.putNew(`${dir}/${artifact.name}`, artifact.bytes);
  }
  await store.putNew(`${dir}/${MANIFEST_FILE}`, manifest);
  await store.putNew(`${dir}/${SIGNATURE_FILE}`, signature);
  return { dir, manifestSha256: sha256Hex(manifest), keyId };
}

/**
 * Finds the latest sealed pack of a series, to chain the next pack to it. Candidates are the folders
 * `<series>/<pack id>/` holding both `manifest.json` and `manifest.sig` (a folder without the
 * signature is an unfinished pack and is skipped). The latest is the one with the greatest
 * `predicate.created`; equal times are broken by the greater pack id (code-unit order), so the answer
 * does not depend on listing order. The signature is not verified here: `verifyPack` does that.
 *
 * @returns the previous pack's id and the sha256 of its manifest bytes, or `null` for a new series.
 * @throws {SessiontrailError} `BAD_REQUEST` for a bad series; `VERIFY_MANIFEST_INVALID` when a signed
 *   manifest of the series does not parse or names another pack or series (the chain cannot be
 *   continued safely past it); `STORE_READ_FAILED` from the store.
 */
export async function findPreviousPack(store: EvidenceStore, series: string): Promise<PreviousPack | null> {
  checkSegment('series', series);
  const files = new Set(await store.list(series));
  let best: { packId: string; created: number; manifestSha256: string } | null = null;
  for (const file of files) {
    const [packId, name, ...rest] = file.split('/');
    if (packId === undefined || name !== MANIFEST_FILE || rest.length > 0) continue;
    if (!files.has(`${packId}/${SIGNATURE_FILE}`)) continue;
    const path = `${series}/${packId}/${MANIFEST_FILE}`;
    const bytes = await store.get(path);
    let predicate: { pack_id: string; series: string; created: string };
    try {
      ({ predicate } = parseManifest(bytes));
    } catch (err) {
      if (!isSessiontrailError(err)) throw err;
      throw new SessiontrailError('VERIFY_MANIFEST_INVALID', `${store.describe(path)}: ${err.message}`, {
        cause: err,
      });
    }
    if (predicate.pack_id !== packId || predicate.series !== series) {
      throw new SessiontrailError(
        'VERIFY_MANIFEST_INVALID',
        `${store.describe(path)}: expected pack ${series}/${packId}, received ${predicate.series}/${predicate.pack_id}`,
      );
    }
    const created = Date.parse(predicate.created);
    if (
      best === null ||
      created > best.created ||
      (created === best.created && compareCodeUnits(packId, best.packId) > 0)
    ) {
      best = { packId, created, manifestSha256: sha256Hex(bytes) };
    }
  }
  return best && { pack_id: best.packId, manifest_sha256: best.manifestSha256 };
}

function checkSegment(what: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value) || value.length > 128) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `${what}: expected one path segment of letters, digits, ".", "_" or "-" (not leading), received ${JSON.stringify(value)}`,
    );
  }
}
