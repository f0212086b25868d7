/**
 * Athena-safe SQL: where a `?` sits (the tokenizer of athena-sql.ts, checked on hand-written
 * statements whose clauses are read off the SQL grammar), the binding that keeps `?` only in WHERE
 * clauses, and the one escaping function, `sqlLiteral`: unit cases, and a property test on the real
 * Trino (TRINO_URL) that random strings (quotes, backslashes, comment and statement markers, NUL and
 * other controls, bidi overrides, any Unicode) written as literals read back unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../../lib/errors.ts';
import {
  assertAthenaPlaceholders,
  athenaQuery,
  placeholderClauses,
} from '../../../lib/query/athena/athena-sql.ts';
import { ParamList, type SqlValue, sqlLiteral } from '../../../lib/query/sql.ts';
import { testEngine, trinoAvailability, uniqueName } from '../trino/trino-test-server.ts';

const trino = await trinoAvailability();

describe('placeholderClauses (tokenizer)', () => {
  it.each([
    ['SELECT ? FROM t', ['select']],
    ['SELECT a FROM t WHERE dt BETWEEN ? AND ?', ['where', 'where']],
    ['SELECT a FROM t WHERE x IN (?, ?) AND f(y, ?) = 1', ['where', 'where', 'where']],
    [
      'SELECT CASE WHEN starts_with(p, ?) THEN substr(p, ?) END FROM t WHERE d = ?',
      ['select', 'select', 'where'],
    ],
    ['SELECT a FROM t WHERE EXISTS (SELECT ? FROM u WHERE u.b = ?) AND c = ?', ['select', 'where', 'where']],
    ['WITH s AS (SELECT a FROM t WHERE d = ?) SELECT regexp_like(a, ?) FROM s', ['where', 'select']],
    ['SELECT count(*) FILTER (WHERE a = ?) FROM t', ['filter']],
    ['SELECT a FROM t JOIN u ON t.k = ? WHERE u.z = ?', ['on', 'where']],
    ['SELECT a FROM t GROUP BY a HAVING count(*) > ? ORDER BY ? LIMIT 1', ['having', 'order']],
    ['SELECT a FROM t WHERE b = 1 UNION ALL SELECT ? FROM u', ['select']],
    ['SELECT row_number() OVER (PARTITION BY ? ORDER BY a) FROM t WHERE a = ?', ['window', 'where']],
    ['SELECT a FROM t CROSS JOIN UNNEST(?) AS u(x) WHERE x = ?', ['from', 'where']],
    ["SELECT '?', \"?\", U&'\\003F' FROM t -- ?\n WHERE a = ? /* ? */", ['where']],
    ["SELECT a FROM t WHERE a = 'it''s ?' AND b = ?", ['where']],
    ['SELECT a FROM t WHERE extract(year FROM ts) = ? AND c = ?', ['where', 'where']],
    ['SELECT a FROM (SELECT b FROM t WHERE c = ?) v WHERE a = ?', ['where', 'where']],
    ['SELECT a FROM t WHERE transform(xs, el -> el || ?) IS NOT NULL', ['where']],
    ["CREATE TABLE x WITH (format = 'PARQUET') AS\nSELECT ? FROM t WHERE a = ?", ['select', 'where']],
    ['VALUES (?, ?)', ['values', 'values']],
  ] as const)('%s', (sql, expected) => {
    expect(placeholderClauses(sql)).toEqual(expected);
  });

  it.each([
    ["SELECT 'open FROM t"],
    ['SELECT "open FROM t'],
    ['SELECT a /* open'],
    ['SELECT (a FROM t'],
    ['SELECT a) FROM t'],
  ])('refuses text it cannot follow with QUERY_FAILED: %s', (sql) => {
    expect(() => placeholderClauses(sql)).toThrow(expect.objectContaining({ code: 'QUERY_FAILED' }));
  });
});

describe('athenaQuery', () => {
  it('keeps ? in WHERE clauses with their values (recorded names too) and writes every other value as its literal', () => {
    // Prepare
    const p = new ParamList();
    const q = p.finish(
      'normalise',
      `SELECT CASE WHEN starts_with("$path", ${p.add('/tmp/logs/', '<logs root>/')}) THEN 1 END, ${p.add(true)}, ${p.add(null)}, ${p.add(1.5)}
FROM t WHERE dt BETWEEN ${p.add('2024-03-01')} AND ${p.add('2024-03-02')} AND n < ${p.add(7)}`,
    );

    // Act
    const bound = athenaQuery(q);

    // Assess
    expect(
      bound.sql,
    ).toBe(`SELECT CASE WHEN starts_with("$path", '/tmp/logs/') THEN 1 END, true, NULL, DOUBLE '1.5'
FROM t WHERE dt BETWEEN ? AND ? AND n < ?`);
    expect(bound.params).toEqual(['2024-03-01', '2024-03-02', 7]);
    expect(bound.recordedParams).toEqual(['2024-03-01', '2024-03-02', 7]);
    expect(athenaQuery(bound)).toEqual(bound);
    expect(() => assertAthenaPlaceholders('normalise', bound.sql, 3)).not.toThrow();
    expect(() => assertAthenaPlaceholders('normalise', q.sql, 7)).toThrow(
      /4 \? outside a WHERE clause \(select\), 7 \? for 7/,
    );
  });

  it('refuses a query whose ? and values differ in number with QUERY_FAILED', () => {
    const err = (() => {
      try {
        athenaQuery({ name: 'x', sql: 'SELECT ? FROM t WHERE a = ?', params: ['a'] });
      } catch (e) {
        return e;
      }
    })();
    expect(isSessiontrailError(err, 'QUERY_FAILED')).toBe(true);
  });
});

describe('sqlLiteral', () => {
  it.each([
    [null, 'NULL'],
    [true, 'true'],
    [false, 'false'],
    [42, "BIGINT '42'"],
    [-0, "BIGINT '0'"],
    [1.5, "DOUBLE '1.5'"],
    [1e-7, "DOUBLE '1e-7'"],
    [9223372036854775807n, "BIGINT '9223372036854775807'"],
    ["O'Brien\\", "'O''Brien\\'"],
    ['a\u0000b', "U&'a\\0000b'"],
    ["tab\there\\ 'q'", "U&'tab\\0009here\\\\ ''q'''"],
    ['\u202eevil', "U&'\\202eevil'"],
    ['日本語 😀', "'日本語 😀'"],
    [['a', "b'c"], "ARRAY['a', 'b''c']"],
    [[], 'CAST(ARRAY[] AS ARRAY(VARCHAR))'],
  ] as const)('renders %s as %s', (value, expected) => {
    expect(sqlLiteral(value as SqlValue)).toBe(expected);
  });

  it.each([
    [Number.NaN, 'INTERNAL'],
    [Number.POSITIVE_INFINITY, 'INTERNAL'],
    [2n ** 63n, 'INTERNAL'],
    ['lone \ud800 surrogate', 'BAD_REQUEST'],
  ])('refuses %s with %s', (value, code) => {
    expect(() => sqlLiteral(value as SqlValue)).toThrow(expect.objectContaining({ code }));
  });

  it('never leaves a control character, line break or bidi override in the text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        fc.pre(!/\p{Cs}/u.test(s));
        const lit = sqlLiteral(s);
        expect(lit).not.toMatch(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u);
      }),
      { numRuns: 500 },
    );
  });
});

/** Strings an injection would be built from, mixed with any Unicode. */
const hostileString = fc
  .string({
    unit: fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          "'",
          "''",
          '\\',
          '"',
          '`',
          '?',
          ';',
          '--',
          '/*',
          '*/',
          '\u0000',
          '\n',
          '\r',
          '\t',
          '\u0085',
          '\u2028',
          '\u202e',
          '\ufeff',
          'U&',
          "'); DROP TABLE t; --",
          'é',
          '😀',
          '\\0000',
        ),
      },
    ),
    maxLength: 30,
  })
  .filter((s) => !/\p{Cs}/u.test(s));

describe.skipIf(trino.unavailable !== null)(
  `sqlLiteral on the real Trino${trino.unavailable === null ? '' : ` (skipped: ${trino.unavailable})`}`,
  () => {
    const engine = () => testEngine(trino.url as string, 'default', uniqueName('lit'));

    it('reads back random hostile strings unchanged, each followed by a sentinel (property, 40 batches)', async () => {
      const e = engine();
      await fc.assert(
        fc.asyncProperty(fc.array(hostileString, { minLength: 1, maxLength: 25 }), async (values) => {
          const rows = values.map((v, i) => `(${i}, ${sqlLiteral(v)}, 'end')`).join(',\n');
          const result = await e.execute(
            `SELECT i, v, s FROM (VALUES ${rows}) AS t(i, v, s) ORDER BY i`,
            [],
            'literal round trip',
          );
          expect(result.rows).toEqual(values.map((v, i) => [i, v, 'end']));
        }),
        { numRuns: 40 },
      );
    }, 120_000);

    it('reads back hostile strings in a WHERE comparison and as bound parameters alike', async () => {
      const e = engine();
      await fc.assert(
        fc.asyncProperty(hostileString, async (v) => {
          const result = await e.execute(
            `SELECT count(*) FROM (VALUES ${sqlLiteral(v)}) AS t(x) WHERE x = ?`,
            [v],
            'literal vs parameter',
          );
          expect(result.rows).toEqual([[1]]);
        }),
        { numRuns: 25 },
      );
    }, 120_000);

    it('reads back numbers, booleans and string lists as their typed values', async () => {
      const e = engine();
      await fc.assert(
        fc.asyncProperty(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer(),
          fc.boolean(),
          fc.array(hostileString, { maxLength: 4 }),
          async (d, n, b, list) => {
            const result = await e.execute(
              `SELECT ${sqlLiteral(d)}, ${sqlLiteral(n)}, ${sqlLiteral(b)}, ${sqlLiteral(list)}`,
              [],
              'typed literals',
            );
            const [rd, rn, rb, rl] = result.rows[0] as unknown[];
            expect(Number(rd) === d, `${rd} read back for ${d}`).toBe(true);
            expect(rn).toBe(n);
            expect(rb).toBe(b);
            expect(rl).toEqual(list);
          },
        ),
        { numRuns: 25 },
      );
    }, 120_000);
  },
);
