/**
 * Where things live in an evidence store, beside the packs: one place for the paths that sealing,
 * pack state, `verify` and `verify --series` all use.
 *
 * ```
 * keys/<key id>.pem                      published public keys (integrity only, never trust)
 * <series>/<pack id>/…                   a pack
 * <series>/_sequence/<n>.json            reservation of sequence n: pack id, sealing time, operator, request
 * <series>/_sequence/<n>.seal.json       receipt of sequence n: the sealed manifest's sha256
 * ```
 *
 * Both `_sequence` records are written once (`putNew`: O_EXCL on a folder, `If-None-Match: *` on
 * S3), so two sealers cannot both take sequence n, and under S3 Object Lock neither record can be
 * deleted: the highest receipt is the series' head record (docs/chain-of-custody.md).
 */

/** Folder at the store root where public keys are published, beside the series folders. */
export const KEYS_DIR = 'keys';
/** Folder inside a series that holds the sequence reservations and receipts. */
export const SEQUENCE_DIR = '_sequence';

/** `<series>/_sequence/<n>.json`. */
export function reservationPath(series: string, sequence: number): string {
  return `${series}/${SEQUENCE_DIR}/${sequence}.json`;
}

/** `<series>/_sequence/<n>.seal.json`. */
export function receiptPath(series: string, sequence: number): string {
  return `${series}/${SEQUENCE_DIR}/${sequence}.seal.json`;
}

/** The sequence records found in a listing of `<series>/_sequence/`. */
export interface SequenceListing {
  /** Sequence numbers with a reservation, ascending. */
  readonly reserved: readonly number[];
  /** Sequence numbers with a receipt, ascending. */
  readonly sealed: readonly number[];
  /** Names that are neither (reported by `verify --series`). */
  readonly other: readonly string[];
}

/** Sorts the names listed under `<series>/_sequence/` into reservations and receipts. */
export function parseSequenceListing(names: readonly string[]): SequenceListing {
  const reserved: number[] = [];
  const sealed: number[] = [];
  const other: string[] = [];
  for (const name of names) {
    const m = /^([1-9][0-9]{0,14})(\.seal)?\.json$/.exec(name);
    if (!m) other.push(name);
    else if (m[2]) sealed.push(Number(m[1]));
    else reserved.push(Number(m[1]));
  }
  const asc = (a: number, b: number) => a - b;
  return { reserved: reserved.sort(asc), sealed: sealed.sort(asc), other };
}
