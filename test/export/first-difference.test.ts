/** `firstDifference`: where rederive says two evidence documents first differ, in document order. */
import { describe, expect, it } from 'vitest';
import { firstDifference } from '../../lib/export/rederive-evidence.ts';

describe('firstDifference', () => {
  it.each([
    ['equal documents', { a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }, undefined],
    [
      'a changed leaf',
      { a: [1, { b: 2 }] },
      { a: [1, { b: 3 }] },
      { path: '$.a[1].b', pack: '2', rederived: '3' },
    ],
    [
      'a missing array element',
      { a: [1, 2] },
      { a: [1] },
      { path: '$.a[1]', pack: '2', rederived: 'undefined' },
    ],
    ['an extra key', { a: 1 }, { a: 1, b: null }, { path: '$.b', pack: 'undefined', rederived: 'null' }],
    // Keys are walked in RFC 8785 order (UTF-16 code units): "B" (0x42) before "a" (0x61).
    [
      'the first key in canonical order',
      { a: 1, B: 1 },
      { a: 2, B: 2 },
      { path: '$.B', pack: '1', rederived: '2' },
    ],
    ['a type change', { a: '1' }, { a: 1 }, { path: '$.a', pack: '"1"', rederived: '1' }],
  ])('%s', (_name, pack, rederived, expected) => {
    expect(firstDifference(pack, rederived)).toEqual(expected);
  });
});
