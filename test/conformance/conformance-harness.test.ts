/**
 * The comparison itself: a conformance suite that cannot see a difference proves nothing.
 * Pure, runs without Trino.
 */
import { describe, expect, it } from 'vitest';
import { diffJson, diffRows } from './conformance-harness.ts';

describe('diffRows', () => {
  it('accepts the same rows in another order', () => {
    expect(diffRows('q', [{ a: 1 }, { a: 2 }], [{ a: 2 }, { a: 1 }])).toBeNull();
  });

  it.each([
    ['a value', [{ a: 1, b: 'x' }], [{ a: 1, b: 'y' }], /differs in b:\n\s+b: DuckDB "x" \| Trino "y"/],
    ['a type (number vs string)', [{ a: 1 }], [{ a: '1' }], /a: DuckDB 1 \| Trino "1"/],
    ['null vs empty text', [{ a: null }], [{ a: '' }], /a: DuckDB null \| Trino ""/],
    ['a duplicated row', [{ a: 1 }], [{ a: 1 }, { a: 1 }], /DuckDB 1 rows, Trino 2 rows/],
    ['a missing column', [{ a: 1, b: 2 }], [{ a: 1 }], /columns only on DuckDB: b/],
  ])('reports %s', (_name, duck, trino, pattern) => {
    expect(diffRows('q', duck, trino)).toMatch(pattern);
  });
});

describe('diffJson', () => {
  it('names the path of each difference', () => {
    expect(diffJson({ s: [{ id: 'a', n: 1 }] }, { s: [{ id: 'a', n: 2 }] })).toEqual([
      '$.s[0].n: DuckDB 1 | Trino 2',
    ]);
  });
});
