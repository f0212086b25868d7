import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { canonicalBytes, sha256Hex } from '../../lib/evidence/canonical-json.ts';
import { makeSamplePack } from '../fixtures/sample-pack.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Rebuilds `value` with every object's keys inserted in the order `order` picks. */
function reorderKeys(value: unknown, order: (keys: string[]) => string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => reorderKeys(v, order));
  if (value === null || typeof value !== 'object') return value;
  const entries = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of order(Object.keys(entries))) out[key] = reorderKeys(entries[key], order);
  return out;
}

/** A deterministic shuffle (mulberry32), so a failure is reproducible from its seed. */
function shuffler(seed: number): (keys: string[]) => string[] {
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (keys) => {
    const copy = [...keys];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  };
}

const document = {
  host: 'DC01',
  ünïcödé: { Ωmega: 1, alpha: [3, 2, 1], 日本: '東京' },
  user: { name: 'José Müller', domain: 'CORP', uid: 'S-1-5-21-1' },
  '😀': true,
  nested: { z: { y: { x: null } }, a: [{ b: 1, a: 2 }] },
  number: 1.5,
};

describe('canonicalBytes', () => {
  it.each([
    1, 2, 3, 4, 5, 6, 7, 8,
  ])('gives the same bytes whatever the key insertion order (seed %i)', (seed) => {
    // Prepare
    const expected = canonicalBytes(document);
    const shuffled = reorderKeys(document, shuffler(seed));

    // Act
    const actual = canonicalBytes(shuffled);

    // Assess
    expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
    expect(sha256Hex(actual)).toBe(sha256Hex(expected));
  });

  it('sorts keys by UTF-16 code unit, as RFC 8785 section 3.2.3 shows', () => {
    // Prepare: the key-sorting example of RFC 8785; U+1F600 sorts before U+FB33 by code unit.
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };

    // Act
    const out = text(canonicalBytes(value));

    // Assess
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('writes non-ASCII as raw UTF-8 with no escapes and no trailing newline', () => {
    // Prepare
    const value = { name: 'José 東京 😀' };

    // Act
    const bytes = canonicalBytes(value);

    // Assess
    expect(Buffer.from(bytes).toString('hex')).toBe(
      Buffer.from('{"name":"José 東京 😀"}', 'utf8').toString('hex'),
    );
    expect(bytes.at(-1)).toBe('}'.charCodeAt(0));
  });

  it('serialises numbers as ECMAScript does (RFC 8785 section 3.2.2.3)', () => {
    // Prepare
    const value = [0, -0, 1e21, 1e-7, 0.000001, 123456789012345680000, 4.5, -1.25e-10];

    // Act
    const out = text(canonicalBytes(value));

    // Assess
    expect(out).toBe('[0,0,1e+21,1e-7,0.000001,123456789012345680000,4.5,-1.25e-10]');
  });

  it('leaves out undefined properties and honours toJSON', () => {
    // Prepare
    const value = { b: undefined, a: new Date('2024-01-01T00:00:00.000Z') };

    // Act
    const out = text(canonicalBytes(value));

    // Assess
    expect(out).toBe('{"a":"2024-01-01T00:00:00.000Z"}');
  });

  // The bytes are written piece by piece into blocks; the `canonicalize` package (RFC 8785's
  // reference behaviour, which builds one string) is the oracle they must equal.
  it('writes the same bytes as the canonicalize package, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const expected = new TextEncoder().encode(canonicalize(value) as string);
        expect(Buffer.from(canonicalBytes(value)).equals(Buffer.from(expected))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the same bytes as the canonicalize package for a pack spanning many 1 MB blocks', () => {
    // Prepare: non-ASCII names (two- and three-byte UTF-8) fall across the block boundaries.
    const pack = makeSamplePack({ sessions: 300, activityPerSession: 40, seed: 3 });
    const expected = new TextEncoder().encode(canonicalize(pack) as string);

    // Act
    const actual = canonicalBytes(pack);

    // Assess
    expect(expected.byteLength).toBeGreaterThan(3 * 1024 * 1024);
    expect(sha256Hex(actual)).toBe(sha256Hex(expected));
  });

  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  it.each<[string, unknown, string]>([
    ['NaN', { a: Number.NaN }, '$.a'],
    ['Infinity', [1, Number.POSITIVE_INFINITY], '$[1]'],
    ['a function', { f: () => 1 }, '$.f'],
    ['a bigint', { n: 1n }, '$.n'],
    ['a symbol', [Symbol('s')], '$[0]'],
    ['a lone surrogate', { s: 'a\ud800b' }, '$.s'],
    ['a cycle', cyclic, '$.self'],
    ['a Map', { m: new Map([['a', 1]]) }, '$.m'],
    ['a Uint8Array', { b: new Uint8Array([1]) }, '$.b'],
    ['undefined', undefined, '$'],
  ])('refuses %s with BAD_REQUEST naming where it is', (_what, value, where) => {
    // Act
    let error: unknown;
    try {
      canonicalBytes(value);
    } catch (err) {
      error = err;
    }

    // Assess
    expect(isSessiontrailError(error, 'BAD_REQUEST')).toBe(true);
    expect((error as Error).message).toContain(where);
  });
});

describe('sha256Hex', () => {
  it('gives the FIPS 180-2 digest of "abc"', () => {
    // Act
    const digest = sha256Hex(new TextEncoder().encode('abc'));

    // Assess
    expect(digest).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
