/**
 * How a source's files are split among normalising statements: one decision, used by every export
 * and re-derivation (run-queries.ts). A source whose rows depend on each file alone (its
 * `normalisesEachFileAlone`) can be normalised in parts of whole files, one statement each, so that
 * a statement's memory is bounded by its part, not by the input (issue 15: the Windows query at
 * 10 M records failed under DuckDB's limit in one statement).
 */

import type { InputObject } from '../locate/raw-log-locator.ts';
import type { RawInput } from '../query/dialects/dialect.ts';

/**
 * The input in parts of whole files, in the input's order, each of at most `maxBytes` of content
 * read (decompressed, as the locator measured it), but a larger file, which is a part alone.
 *
 * One part, the input itself, when: `maxBytes` is unset (the engine reads any input in one
 * statement), the input is a table (an engine reads a table in one statement), or the locator did
 * not measure the files (no `objects`). A file the locator listed without a range (nothing read) is
 * counted as `maxBytes`, a part alone: a size never guessed small.
 */
export function inputParts(
  input: RawInput,
  objects: readonly InputObject[] | undefined,
  maxBytes: number | undefined,
): readonly RawInput[] {
  if (input.kind !== 'files' || maxBytes === undefined || objects === undefined) return [input];
  const bytesOf = new Map(objects.map((o) => [o.key, o.range?.bytes ?? maxBytes]));
  const parts: (typeof input.files)[number][][] = [];
  let current: (typeof input.files)[number][] = [];
  let currentBytes = 0;
  for (const file of input.files) {
    const bytes = bytesOf.get(file.key) ?? maxBytes;
    if (current.length > 0 && currentBytes + bytes > maxBytes) {
      parts.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(file);
    currentBytes += bytes;
  }
  if (current.length > 0) parts.push(current);
  if (parts.length <= 1) return [input];
  // each part keeps what the input says of its lines (lenientJsonMarked)
  return parts.map((files) => ({ ...input, files }));
}

/** The name of part `i` (from 0) of `n` of a query: the query's own name when it is the only part. */
export function partName(name: string, i: number, n: number): string {
  return n === 1 ? name : `${name}-part-${i + 1}-of-${n}`;
}
