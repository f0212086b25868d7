/**
 * One case folding for scope matching, the same in TypeScript, on DuckDB and on a real Trino
 * (TRINO_URL; skipped with the reason without one, failed when SESSIONTRAIL_REQUIRE_TRINO=1):
 * `ß`/`SS`, Greek final sigma, Turkish dotted and dotless I, over every code point of planes 0-1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { foldCase, foldSql, foldTableFor } from '../../lib/query/fold-case.ts';
import type { QueryEngine } from '../../lib/query/query-engine.ts';
import { userScopeSql } from '../../lib/query/reconstruct.ts';
import { ParamList } from '../../lib/query/sql.ts';
import { testEngine, trinoAvailability, uniqueName } from './trino/trino-test-server.ts';

const trino = await trinoAvailability();
const LAST = 0x1ffff;
const isSurrogate = (cp: number) => cp >= 0xd800 && cp <= 0xdfff;

describe('foldCase', () => {
  it.each([
    ['straße', 'STRASSE'],
    ['Straße', 'STRASSE'],
    ['STRAẞE', 'STRASSE'],
    ['ſtrasse', 'STRASSE'], // long s folds to S (simple upper-case mapping)
    ['σοφία', 'ΣΟΦΊΑ'],
    ['ΟΔΥΣΣΕΥΣ', 'ΟΔΥΣΣΕΥΣ'],
    ['οδυσσευς', 'ΟΔΥΣΣΕΥΣ'], // final ς and σ are one letter
    ['ırmak', 'IRMAK'], // dotless ı folds with i and I
    ['İpek', 'İPEK'], // dotted capital İ has no other simple mapping: it stays itself
    ['ﬁle', 'ﬁLE'], // a ligature has no simple mapping (toUpperCase would give FI)
    ['ᾳ', 'ᾼ'], // simple mapping of alpha with ypogegrammeni (toUpperCase would give ΑΙ)
    ['CORP\\adm.alice', 'CORP\\ADM.ALICE'],
  ])('folds %s to %s', (text, folded) => {
    expect(foldCase(text)).toBe(folded);
  });

  it('tells İ from I and i (Unicode default casing, not the Turkish locale)', () => {
    expect(foldCase('İ')).not.toBe(foldCase('I'));
    expect(foldCase('İ')).not.toBe(foldCase('i'));
  });

  it('is idempotent on every code point of planes 0 and 1', () => {
    const bad: number[] = [];
    for (let cp = 0; cp <= LAST; cp++) {
      if (isSurrogate(cp)) continue;
      const f = foldCase(String.fromCodePoint(cp));
      if (foldCase(f) !== f) bad.push(cp);
    }
    expect(bad).toEqual([]);
  });
});

const engines: [string, () => Promise<QueryEngine>][] = [
  ['DuckDB', async () => DuckDbEngine.open({ threads: 2 })],
];
if (trino.unavailable === null)
  engines.push(['Trino', async () => testEngine(trino.url as string, 'raw', uniqueName('work_fold'))]);
if (trino.unavailable !== null && trino.required) {
  describe('fold-case on Trino (Trino required)', () => {
    it('has a reachable Trino', () => {
      throw new Error(`SESSIONTRAIL_REQUIRE_TRINO=1 but ${trino.unavailable}`);
    });
  });
}

describe.each(
  engines,
)(`foldSql on %s${trino.unavailable === null ? '' : ` (Trino skipped: ${trino.unavailable})`}`, (_name, open) => {
  let engine: QueryEngine;
  beforeAll(async () => {
    engine = await open();
  }, 60_000);
  afterAll(async () => {
    await engine.close();
  });

  it('folds every code point of planes 0 and 1 exactly as foldCase does', async () => {
    // Prepare: every code point 1..0x1FFFF but the surrogates, from decimal digits. The result is
    // prefixed with '|': a text that begins with U+FEFF loses it on its way into JavaScript (a
    // UTF-8 decoder drops a leading byte-order mark), which is no matter of folding.
    const p = new ParamList();
    const digits = '(VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))';
    const sql = `WITH n AS (
  SELECT a.d * 100000 + b.d * 10000 + c.d * 1000 + e.d * 100 + f.d * 10 + g.d AS cp
  FROM (VALUES (0), (1)) a(d), ${digits} b(d), ${digits} c(d), ${digits} e(d), ${digits} f(d), ${digits} g(d)
)
SELECT cp, '|' || ${foldSql('chr(CAST(cp AS INTEGER))', foldTableFor(null), p)} AS folded
FROM n WHERE cp BETWEEN 1 AND ${LAST} AND (cp < 55296 OR cp > 57343) ORDER BY cp`;
    // Act
    const { rows } = await engine.select(p.finish('fold-all', sql));
    // Assess
    const wrong = rows
      .filter((r) => r.folded !== `|${foldCase(String.fromCodePoint(Number(r.cp)))}`)
      .map((r) => `U+${Number(r.cp).toString(16)}: ${String(r.folded)}`);
    expect(rows.length).toBe(LAST - 2048);
    expect(wrong).toEqual([]);
  }, 120_000);

  it('matches a requested user in any case form, with the table of that scope only', async () => {
    const names = [
      'Straße',
      'STRASSE',
      'strasse',
      'STRAẞE',
      'ſtraße',
      'strase',
      'ΟΔΥΣΣΕΥΣ',
      'Οδυσσευς',
      'οδυσσεύς',
      'İpek',
      'IPEK',
      'ipek',
      'ıpek',
    ];
    const requested = ['straße', 'οδυσσευσ', 'İPEK', 'ıpek'];
    const rows: Record<string, string[]> = {};
    for (const user of requested) {
      const p = new ParamList();
      const values = names.map((n) => `(${p.add(n)})`).join(', ');
      const sql = `SELECT user_name FROM (VALUES ${values}) t(user_name)
WHERE ${userScopeSql([user], p).replaceAll('user_domain', 'CAST(NULL AS VARCHAR)').replaceAll('user_uid', 'CAST(NULL AS VARCHAR)')}
ORDER BY user_name`;
      rows[user] = (await engine.select(p.finish('scope', sql))).rows.map((r) => String(r.user_name)).sort();
    }
    const expected = Object.fromEntries(
      requested.map((u) => [u, names.filter((n) => foldCase(n) === foldCase(u)).sort()]),
    );
    expect(rows).toEqual(expected);
    expect(rows.straße).toEqual(['STRASSE', 'STRAẞE', 'Straße', 'strasse', 'ſtraße'].sort());
    expect(rows.İPEK).toEqual(['İpek']);
    expect(rows.ıpek).toEqual(['IPEK', 'ipek', 'ıpek'].sort());
  }, 60_000);
});
