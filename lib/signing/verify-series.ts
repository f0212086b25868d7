import type { ErrorCode } from '../errors.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { SIGNATURE_FILE } from './manifest.ts';
import { parseSequenceListing, receiptPath, reservationPath, SEQUENCE_DIR } from './pack-layout.ts';
import { type VerifyCheck, type VerifyResult, verifyPack } from './verify-pack.ts';

/** One pack folder of a series as {@link verifySeries} saw it. */
export interface SeriesPack {
  /** The folder name. */
  readonly folder: string;
  /** The sequence its manifest claims, null when it cannot be read. */
  readonly sequence: number | null;
  readonly result: VerifyResult;
}

/** The outcome of {@link verifySeries}. */
export interface SeriesResult {
  readonly ok: boolean;
  readonly series: string;
  /** The highest sequence number found in any reservation, receipt or manifest (0 for none). */
  readonly head: number;
  readonly packs: readonly SeriesPack[];
  /** Series-level checks (each pack's own checks are in {@link SeriesPack.result}). */
  readonly checks: readonly VerifyCheck[];
}

/** What {@link verifySeries} needs. */
export interface VerifySeriesInput {
  readonly store: EvidenceStore;
  /** The series folder relative to the store root (one segment, or a prefix and the series). */
  readonly series: string;
  readonly trustedKeys?: readonly string[];
  readonly allowUntrustedKey?: boolean;
  /**
   * The head the auditor recorded at the last check (printed by this command). Anything below it
   * means the latest packs and their sequence records are gone (`SERIES_HEAD_MISSING`).
   */
  readonly expectedHead?: number;
}

interface Claim {
  readonly folder: string;
  readonly manifestSha256: string;
  readonly packId: string;
  readonly previous: { readonly pack_id: string; readonly manifest_sha256: string } | null;
  readonly sound: boolean;
  readonly kind: string | null;
  readonly window: { readonly from: string; readonly to: string } | null;
}

/**
 * Walks a whole series and checks it is complete and in order: every pack verifies on its own
 * ({@link verifyPack}); each sequence number from 1 to the head is held by exactly one sealed pack
 * (`SERIES_MISSING_SEQUENCE`, `SERIES_FORK`); each pack's `previous` names the manifest digest of
 * the pack before (`SERIES_BROKEN_LINK`); each pack is the one its seal receipt recorded and verifies
 * (`SERIES_REPLACED_PACK`) and sits in its own folder (`SERIES_REORDERED`); consecutive packs of a
 * review series cover time without a hole (`SERIES_CADENCE_GAP`); the head is not below the one the
 * auditor recorded (`SERIES_HEAD_MISSING`). The head is the highest sequence in any reservation,
 * receipt or manifest: the records under `_sequence/` outlive a deleted pack (and, on S3, are held
 * by Object Lock), so deleting the latest pack leaves its number behind, reported as missing.
 *
 * @throws {SessiontrailError} as {@link verifyPack}.
 */
export async function verifySeries(input: VerifySeriesInput): Promise<SeriesResult> {
  const { store } = input;
  const series = input.series.replace(/\/+$/, '');
  const seriesName = series.split('/').at(-1) ?? series;
  const checks: VerifyCheck[] = [];
  const fail = (code: ErrorCode, message: string, file?: string): void => {
    checks.push(file === undefined ? { code, message } : { code, file, message });
  };
  const files = await store.list(series);
  const folders = [...new Set(files.map((f) => f.split('/')[0] as string))].filter((f) => f !== SEQUENCE_DIR);
  const listing = parseSequenceListing(
    files.filter((f) => f.startsWith(`${SEQUENCE_DIR}/`)).map((f) => f.slice(SEQUENCE_DIR.length + 1)),
  );

  const packs: SeriesPack[] = [];
  const claims = new Map<number, Claim[]>();
  const unsound = new Set<string>();
  for (const folder of folders) {
    const dir = `${series}/${folder}`;
    if (!files.includes(`${folder}/${SIGNATURE_FILE}`)) continue; // unfinished: its number shows as missing
    const result = await verifyPack({
      store,
      packDir: dir,
      ...(input.trustedKeys ? { trustedKeys: input.trustedKeys } : {}),
      ...(input.allowUntrustedKey ? { allowUntrustedKey: true } : {}),
    });
    const manifest = result.manifest;
    const sequence = manifest?.predicate.series === seriesName ? manifest.predicate.sequence : null;
    packs.push({ folder, sequence, result });
    const failed = new Set(result.checks.filter((c) => c.code !== 'OK').map((c) => c.code));
    failed.delete('VERIFY_ORIGIN_NOT_CHECKED'); // reported once for the series, below
    const moved = failed.delete('VERIFY_PACK_MOVED');
    const sound = failed.size === 0 && sequence !== null;
    if (!sound) {
      fail(
        'SERIES_REPLACED_PACK',
        `${folder}: the pack does not verify (${[...failed, ...(moved ? ['VERIFY_PACK_MOVED'] : [])].join(', ')}): it was replaced or altered after sealing`,
        folder,
      );
    } else if (moved) {
      fail(
        'SERIES_REORDERED',
        `${folder}: the folder holds pack ${manifest?.predicate.pack_id} (sequence ${sequence}) of this series: packs were moved or swapped`,
        folder,
      );
    }
    // A pack that does not verify proves nothing, not even the sequence it claims.
    if (!sound) unsound.add(folder);
    if (!sound || sequence === null || manifest === null || result.manifestSha256 === null) continue;
    const evidence = await readWindow(store, `${dir}/evidence.json`);
    claims.set(sequence, [
      ...(claims.get(sequence) ?? []),
      {
        folder,
        manifestSha256: result.manifestSha256,
        packId: manifest.predicate.pack_id,
        previous: manifest.predicate.previous,
        sound,
        kind: evidence?.kind ?? null,
        window: evidence?.window ?? null,
      },
    ]);
  }
  if (packs.some((p) => p.result.origin === 'not checked') && !input.allowUntrustedKey) {
    fail(
      'VERIFY_ORIGIN_NOT_CHECKED',
      'origin not checked: no trusted key was given (--key, --trust-file, --kms-key-id); the packs were checked with the key beside them',
    );
  }

  const head = Math.max(0, ...listing.reserved, ...listing.sealed, ...claims.keys());
  for (let n = 1; n <= head; n++) {
    const here = claims.get(n) ?? [];
    if (here.length === 0) {
      const reserved = await readJson(store, `${series}/${SEQUENCE_DIR}/${n}.json`);
      // Its folder is there but does not verify: reported once, as replaced.
      if (typeof reserved?.pack_id === 'string' && unsound.has(reserved.pack_id)) continue;
      const sealed = listing.sealed.includes(n);
      fail(
        'SERIES_MISSING_SEQUENCE',
        `sequence ${n} has no sealed pack${reserved?.pack_id ? ` (reserved by pack ${String(reserved.pack_id)}${sealed ? ', and recorded as sealed' : ''})` : ''}: a pack was deleted${sealed ? '' : ' or its seal never finished'}`,
        reservationPath(seriesName, n),
      );
      continue;
    }
    if (here.length > 1) {
      fail(
        'SERIES_FORK',
        `sequence ${n} is claimed by ${here.length} packs (${here.map((c) => c.folder).join(', ')}): the chain forked`,
      );
      continue;
    }
    const pack = here[0] as Claim;
    if (listing.sealed.includes(n)) {
      const receipt = await readJson(store, `${series}/${SEQUENCE_DIR}/${n}.seal.json`);
      if (receipt?.manifest_sha256 !== pack.manifestSha256 && pack.sound) {
        fail(
          'SERIES_REPLACED_PACK',
          `${pack.folder}: sequence ${n} was sealed with manifest sha256 ${String(receipt?.manifest_sha256)}, the pack now holds ${pack.manifestSha256}`,
          receiptPath(seriesName, n),
        );
      }
    }
    const before = claims.get(n - 1);
    if (n > 1 && before?.length === 1 && pack.sound && (before[0] as Claim).sound) {
      const prev = before[0] as Claim;
      if (pack.previous?.pack_id !== prev.packId || pack.previous.manifest_sha256 !== prev.manifestSha256) {
        fail(
          'SERIES_BROKEN_LINK',
          `${pack.folder} (sequence ${n}) names previous ${pack.previous?.pack_id ?? 'none'} ${pack.previous?.manifest_sha256 ?? ''}, but sequence ${n - 1} is ${prev.packId} ${prev.manifestSha256}`.trim(),
          pack.folder,
        );
      }
    }
  }

  // Cadence: a scheduled review covers the window after the previous one's, with no hole between.
  // Only consecutive sequence numbers are compared: a hole next to a missing or replaced pack is
  // already reported with that pack's own code.
  for (let n = 2; n <= head; n++) {
    const [before, after] = [claims.get(n - 1), claims.get(n)];
    if (before?.length !== 1 || after?.length !== 1) continue;
    const a = { n: n - 1, ...(before[0] as Claim) };
    const b = { n, ...(after[0] as Claim) };
    if (a.kind !== 'review' || b.kind !== 'review' || a.window === null || b.window === null) continue;
    if (Date.parse(b.window.from) > Date.parse(a.window.to)) {
      fail(
        'SERIES_CADENCE_GAP',
        `no review covers ${a.window.to} to ${b.window.from}: between sequence ${a.n} (${a.packId}) and ${b.n} (${b.packId})`,
      );
    }
  }
  if (input.expectedHead !== undefined && head < input.expectedHead) {
    fail(
      'SERIES_HEAD_MISSING',
      `the series' head is sequence ${head}, below the ${input.expectedHead} recorded earlier: the latest packs and their sequence records are gone`,
    );
  }
  return {
    ok: checks.length === 0,
    series,
    head,
    packs,
    checks,
  };
}

async function readJson(store: EvidenceStore, path: string): Promise<Record<string, unknown> | null> {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(await store.get(path)));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function readWindow(
  store: EvidenceStore,
  path: string,
): Promise<{ kind: string; window: { from: string; to: string } } | null> {
  const json = await readJson(store, path);
  const pack = json?.pack as { kind?: unknown; window?: { from?: unknown; to?: unknown } } | undefined;
  if (
    typeof pack?.kind !== 'string' ||
    typeof pack.window?.from !== 'string' ||
    typeof pack.window.to !== 'string'
  ) {
    return null;
  }
  return { kind: pack.kind, window: { from: pack.window.from, to: pack.window.to } };
}
