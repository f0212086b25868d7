/**
 * The intake's test for JSON's lenient extras (`hasLenientJsonExtras`, lib/locate/log-intake.ts)
 * decides as DuckDB's `LENIENT_JSON` pattern does, the pattern it stands in for on lines the intake
 * took in: every generated line is run through the real DuckDB (RE2) `regexp_matches` with the
 * pattern, and the two verdicts are compared. Lines are built from the bytes the rule turns on
 * (quotes, backslashes, commas, colons, brackets, RE2's whitespace and the whitespace it leaves out,
 * signs, the letters of NaN / Inf in both cases, non-ASCII letters that fold near them) so that
 * strings, escapes and extras mix.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  hasLenientJsonExtras,
  NOT_JSON_MARKER,
  splitRecords,
} from '../../lib/locate/log-intake.ts';
import { LENIENT_JSON } from '../../lib/query/dialects/duckdb-dialect.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';

const TOKENS = [
  '"',
  '\\',
  '\\"',
  '\\\\',
  ',',
  ':',
  '[',
  ']',
  '{',
  '}',
  ' ',
  '\t',
  '\r',
  '\f',
  '\v',
  '\u00a0',
  '+',
  '-',
  'n',
  'N',
  'a',
  'A',
  'i',
  'I',
  'f',
  'F',
  'nan',
  'NaN',
  'inf',
  'Infinity',
  '-inf',
  'null',
  '1',
  'x',
  'ı',
  'İ',
  'é',
  '😀',
  '{"a":',
  '"b"',
  ',]',
  ', }',
  ': NaN',
  '[-Inf',
  '"x\\"',
  ',\t]',
];

/** Verdicts of DuckDB's pattern for each line, in order (one statement for all). */
async function patternVerdicts(engine: DuckDbEngine, lines: readonly string[]): Promise<boolean[]> {
  const { rows } = await engine.select({
    name: 'lenient-pattern',
    sql: `SELECT i, regexp_matches(l, ?) AS m FROM (SELECT unnest(?) AS l, generate_subscripts(?, 1) AS i) ORDER BY i`,
    params: [LENIENT_JSON, lines, lines],
  });
  return rows.map((r) => r.m === true);
}

describe('hasLenientJsonExtras', () => {
  let engine: DuckDbEngine;
  beforeAll(async () => {
    engine = await DuckDbEngine.open({ threads: 1 });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('agrees with DuckDB’s LENIENT_JSON pattern on generated lines (property, real DuckDB)', async () => {
    const lines = fc.sample(
      fc.array(fc.constantFrom(...TOKENS), { minLength: 0, maxLength: 24 }).map((t) => t.join('')),
      { numRuns: 20_000, seed: 15 },
    );
    const expected = await patternVerdicts(engine, lines);
    const mismatches = lines.filter((l, i) => hasLenientJsonExtras(Buffer.from(l, 'utf8')) !== expected[i]);
    expect(mismatches).toEqual([]);
    // the sample holds both verdicts in number, or the comparison says little
    expect(expected.filter(Boolean).length).toBeGreaterThan(1000);
    expect(expected.filter((m) => !m).length).toBeGreaterThan(1000);
  });

  it('agrees on the lines that name each side of the rule', async () => {
    const cases: [string, boolean][] = [
      ['{"a":1,}', true],
      ['{"a":[1,2 , ]}', true],
      ['{"a":NaN}', true],
      ['{"a": -Infinity}', true],
      ['[+inf]', true],
      ['{"a":"x,]"}', false],
      ['{"a":"x\\",]"}', false],
      ['{"a":"x\\\\",]}', true],
      ['{"a":"NaN","b":null}', false],
      ['{"a":nul,}', true],
      ['{"a":"unterminated,]', false],
      ['{"a":\u000bNaN}', false],
      ['{"a":\u00a0NaN}', false],
      ['{"a":\fNaN}', true],
      ['{"a":na', false],
      ['[,]', true],
    ];
    const expected = await patternVerdicts(
      engine,
      cases.map(([l]) => l),
    );
    expect(expected).toEqual(cases.map(([, m]) => m));
    for (const [line, m] of cases) expect(hasLenientJsonExtras(Buffer.from(line, 'utf8')), line).toBe(m);
  });

  it('keeps a line with a lenient extra as a record the engine refuses, at its position, only for JSON lines', async () => {
    const lines = ['{"a":1}', '{"a":1,}', '', '{"a":NaN}', '{"a":"NaN,]"}'];
    const take = async (jsonLines: boolean) => {
      const out: (string | null)[] = [];
      async function* chunks() {
        yield Buffer.from(`${lines.join('\n')}\n`);
      }
      const account = await splitRecords(
        chunks(),
        'windows/a.json',
        { documents: false, limits: DEFAULT_LIMITS, jsonLines },
        (line, position) => {
          out[position] = line === null ? null : line.toString('latin1');
        },
      );
      return { out, account };
    };
    const marked = await take(true);
    const marker = String.fromCharCode(NOT_JSON_MARKER);
    expect(marked.out).toEqual(['{"a":1}', marker, null, marker, '{"a":"NaN,]"}']);
    // still records (the engine counts them as malformed_json), none rejected here, and the file
    // is rewritten: the marker is no byte of the stored file
    expect(marked.account).toMatchObject({ kept: 4, rejectedTotal: 0, needsRewrite: true });
    const plain = await take(false);
    expect(plain.out).toEqual(['{"a":1}', '{"a":1,}', null, '{"a":NaN}', '{"a":"NaN,]"}']);
  });
});
