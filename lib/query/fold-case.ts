/**
 * Case folding for matching account and host names: one definition, computed in TypeScript and
 * carried into SQL as data, so that a scope matches the same records on DuckDB, Trino and Athena
 * and in the pack's own TypeScript checks (`--user straße` finds `STRASSE` and `Straße` alike).
 *
 * The folding ({@link foldCase}):
 * 1. `ß` (U+00DF) and `ẞ` (U+1E9E) become `SS`: German writes the capital of ß as SS (Unicode
 *    SpecialCasing.txt), so `straße`, `Straße` and `STRASSE` are one name;
 * 2. every other code point becomes its simple (one code point) upper-case mapping of the Unicode
 *    Character Database, and stays as it is when it has none. So Greek `σ`, final `ς` and `Σ` are
 *    one letter (both small sigmas map to U+03A3); dotless `ı` folds with `i` and `I` to `I`; the
 *    Turkish dotted capital `İ` (U+0130) has no simple upper-case mapping other than itself and stays
 *    a letter of its own, as in Unicode's default (not Turkish-locale) casing.
 *
 * Why not each engine's `upper()`: the engines disagree. DuckDB 1.5 maps code points by an older
 * Unicode version than Node's ICU and keeps `ß`; Trino's `upper()` is Java's per-code-point mapping
 * of its own Unicode version; JavaScript's `toUpperCase()` applies the full SpecialCasing mappings
 * (`ß` → `SS`, `ﬁ` → `FI`, `ᾳ` → `ΑΙ`). Measured over every code point by
 * test/query/fold-case.test.ts.
 *
 * How SQL folds ({@link foldSql}): printable ASCII by `upper()`, anything else by `replace` for `ß`/`ẞ`, then `translate` with a table of code
 * points passed as parameters. Both are code-point operations with the same meaning on DuckDB and
 * Trino (tested on both). The table need not hold every cased letter: comparing a folded column with
 * folded scope values only needs the letters that fold to a letter of those values
 * ({@link foldTableFor}), because a letter that folds elsewhere, folded or not, can never equal a
 * letter of a folded value (folded values hold only letters that fold to themselves).
 */
import type { ParamList } from './sql.ts';

/**
 * Greek letters with a subscript iota: JavaScript's `toUpperCase()` gives their full mapping (two
 * code points); their simple mapping (UnicodeData.txt field 12) is the capital with prosgegrammeni.
 */
const GREEK_IOTA_SUBSCRIPT: ReadonlyMap<number, number> = new Map([
  ...Array.from({ length: 8 }, (_, i) => [0x1f80 + i, 0x1f88 + i] as const),
  ...Array.from({ length: 8 }, (_, i) => [0x1f90 + i, 0x1f98 + i] as const),
  ...Array.from({ length: 8 }, (_, i) => [0x1fa0 + i, 0x1fa8 + i] as const),
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
]);

/** The highest code point searched for cased letters: planes 0 and 1 hold every cased script. */
const LAST_CASED = 0x1ffff;

function foldCodePoint(cp: number): string {
  const c = String.fromCodePoint(cp);
  const upper = c.toUpperCase();
  const cps = [...upper];
  if (cps.length === 1) return upper;
  const simple = GREEK_IOTA_SUBSCRIPT.get(cp);
  return simple === undefined ? c : String.fromCodePoint(simple);
}

/** The folded form of a name, for comparison only (never shown). */
export function foldCase(text: string): string {
  let out = '';
  for (const ch of text.replace(/[ßẞ]/g, 'SS')) out += foldCodePoint(ch.codePointAt(0) as number);
  return out;
}

let preimages: Map<string, string[]> | null = null;

/** Every code point that folds to another one, by what it folds to (computed once). */
function foldPreimages(): Map<string, string[]> {
  if (preimages !== null) return preimages;
  const map = new Map<string, string[]>();
  for (let cp = 0; cp <= LAST_CASED; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (cp === 0xdf || cp === 0x1e9e) continue; // ß and ẞ: replaced before the table applies
    const c = String.fromCodePoint(cp);
    const f = foldCodePoint(cp);
    if (f === c) continue;
    const list = map.get(f) ?? [];
    list.push(c);
    map.set(f, list);
  }
  preimages = map;
  return map;
}

/** A `translate` table: `from[i]` folds to `to[i]` (code points). */
export interface FoldTable {
  readonly from: string;
  readonly to: string;
}

/**
 * The table that folds a column well enough to compare it with `foldedValues` (already folded):
 * every code point that folds to a code point of those values. The whole table is
 * `foldTableFor(null)`.
 */
export function foldTableFor(foldedValues: readonly string[] | null): FoldTable {
  const map = foldPreimages();
  const targets = foldedValues === null ? [...map.keys()] : [...new Set(foldedValues.flatMap((v) => [...v]))];
  let from = '';
  let to = '';
  for (const t of targets.sort()) {
    for (const c of map.get(t) ?? []) {
      from += c;
      to += t;
    }
  }
  return { from, to };
}

/**
 * SQL folding the text expression `expr` with `table` (its two strings bound as parameters). Text
 * of printable ASCII only (the usual account and host name) takes the engines' `upper()`, which
 * maps exactly a-z to A-Z there on both (tested over every code point): DuckDB's `translate` costs
 * about 15 times `upper()` per row, measured over 2 M rows.
 */
export function foldSql(expr: string, table: FoldTable, p: ParamList): string {
  return `CASE WHEN regexp_like(${expr}, '^[ -~]*$') THEN upper(${expr}) ELSE translate(replace(replace(${expr}, 'ß', 'SS'), 'ẞ', 'SS'), ${p.add(table.from)}, ${p.add(table.to)}) END`;
}
