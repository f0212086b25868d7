import type { EvidenceStore } from '../storage/evidence-store.ts';
import { type PackStatement, SIGNATURE_FILE } from './manifest.ts';
import { type Origin, verifyPack } from './verify-pack.ts';

/**
 * The state of a pack folder (DESIGN.md, decision 12), decided here for every caller (the export
 * use case, sealing, the on-demand status action):
 * - `absent`: no file in the folder;
 * - `unfinished`: files, but no `manifest.sig`, or one that does not verify with every digest;
 * - `sealed`: `manifest.sig` exists and the whole pack verifies (signature, every digest, schema).
 */
export type PackState =
  | { readonly state: 'absent' }
  | {
      readonly state: 'unfinished';
      readonly files: readonly string[];
      /** True when a `manifest.sig` is present but the pack does not verify: not a build in progress. */
      readonly signed: boolean;
      /** Why it is not sealed: the failed checks' messages (empty when there is no signature yet). */
      readonly problems: readonly string[];
    }
  | {
      readonly state: 'sealed';
      readonly manifest: PackStatement;
      readonly manifestSha256: string;
      /** sha256 of its evidence.json, from the manifest. */
      readonly evidenceSha256: string | null;
      readonly origin: Origin;
    };

/**
 * The state of the pack at `dir` (`<series>/<pack id>`). With `trustedKeyPem` (the signer's own
 * key when sealing) "sealed" means the signature verifies with that key; without it, with the key
 * published beside the packs (integrity only: the on-demand status, which holds no key).
 *
 * @throws {SessiontrailError} `BAD_REQUEST` for a bad dir; `KEY_INVALID` for a bad key;
 *   `STORE_READ_FAILED` when the store cannot be listed.
 */
export async function packState(
  store: EvidenceStore,
  dir: string,
  trustedKeyPem?: string,
): Promise<PackState> {
  const files = await store.list(dir);
  if (files.length === 0) return { state: 'absent' };
  if (!files.includes(SIGNATURE_FILE)) return { state: 'unfinished', files, signed: false, problems: [] };
  const result = await verifyPack({
    store,
    packDir: dir,
    ...(trustedKeyPem === undefined ? { allowUntrustedKey: true } : { trustedKeys: [trustedKeyPem] }),
  });
  if (!result.ok || result.manifest === null || result.manifestSha256 === null) {
    return {
      state: 'unfinished',
      files,
      signed: true,
      problems: result.checks.filter((c) => c.code !== 'OK').map((c) => `${c.code}: ${c.message}`),
    };
  }
  return {
    state: 'sealed',
    manifest: result.manifest,
    manifestSha256: result.manifestSha256,
    evidenceSha256: result.manifest.subject.find((s) => s.name === 'evidence.json')?.digest.sha256 ?? null,
    origin: result.origin,
  };
}
