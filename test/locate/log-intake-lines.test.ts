/**
 * The intake's line checks decide the same however the bytes arrive: the word-wide check of whole
 * lines in a chunk (`withoutControlBytes`, the chunk path of the splitter) against the byte-by-byte
 * check of each line (the path every line took before, and still takes when a chunk holds fewer
 * than two line breaks: one byte per chunk forces it, after the first 4 KiB). Property tests (fast-check), real buffers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  type IntakeLimits,
  splitRecords,
  withoutControlBytes,
} from '../../lib/locate/log-intake.ts';

/** The rule as lineProblem states it, one byte at a time (LF separates lines, so it is allowed here). */
function controlByteAt(b: Uint8Array, from: number, to: number, formatBytes: readonly number[]): boolean {
  for (let i = from; i < to; i++) {
    const x = b[i] as number;
    if (((x < 0x20 && x !== 0x09 && x !== 0x0a) || x === 0x7f) && !formatBytes.includes(x)) return true;
  }
  return false;
}

/** Bytes that sit on every edge of the rule: controls, tab, LF, CR, DEL, ASCII, UTF-8 lead and continuation bytes. */
const edgeByte = fc.oneof(
  fc.constantFrom(0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1d, 0x1f, 0x20, 0x21, 0x5f, 0x60, 0x7e, 0x7f, 0x80),
  fc.constantFrom(0x9f, 0xa0, 0xbf, 0xc3, 0xe2, 0xef, 0xbb, 0xff),
  fc.integer({ min: 0, max: 255 }),
);

describe('withoutControlBytes', () => {
  it('agrees with the byte-by-byte rule at every alignment and length', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant(0x41) }, edgeByte), { maxLength: 64 }),
        fc.nat({ max: 7 }),
        fc.nat({ max: 7 }),
        fc.constantFrom<readonly number[]>([], [0x1d]),
        (bytes, pad, cut, formatBytes) => {
          // An offset into a larger buffer, as zlib's output slices are.
          const b = Buffer.alloc(pad + bytes.length + 8);
          b.set(bytes, pad);
          const view = b.subarray(pad % 4);
          const from = pad - (pad % 4);
          const to = from + Math.max(0, bytes.length - (cut % (bytes.length + 1)));
          expect(withoutControlBytes(view, from, to, formatBytes)).toBe(
            !controlByteAt(view, from, to, formatBytes),
          );
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

/** Everything the splitter tells: the account and each line handed on, with its position. */
async function split(chunks: Buffer[], limits: IntakeLimits, formatBytes: readonly number[] = []) {
  const out: string[] = [];
  const account = await splitRecords(
    (async function* () {
      yield* chunks;
    })(),
    'k',
    { documents: false, limits, formatControlBytes: formatBytes } as {
      documents: boolean;
      limits: IntakeLimits;
    },
    (line, position) => out.push(`${position}:${line === null ? '-' : line.toString('hex')}`),
  );
  return { account, out };
}

/** One line of 4 KiB (over every line limit of the tests: rejected alike by every path). */
const HEAD = Buffer.from(`{"pad":"${'x'.repeat(4096 - 11)}"}\n`);

/**
 * `bytes` in chunks of the given sizes (all of it at once when none), after {@link HEAD} in one
 * chunk: the splitter holds the first 4 KiB to tell JSON lines from a document and then takes them
 * as one chunk, so without it a short input would reach the checks in one piece whatever its chunks.
 */
function chunked(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [HEAD];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes.length === 0 ? bytes.length : (sizes[i % sizes.length] as number));
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

describe('the line splitter', () => {
  // clean lines of every length around the line limit
  const utf8 = (s: string) => Buffer.from(s, 'utf8');
  const clean = fc
    .oneof(
      fc.constant('{"EventID":4624,"TargetUserName":"alice"}'),
      fc.nat({ max: 80 }).map((n) => `{"m":"${'x'.repeat(n)}"}`),
      fc.constantFrom('{"a":"é€😀"}', '{"a":"\t"}', ' '),
    )
    .map(utf8);
  const line = fc.oneof(
    { weight: 10, arbitrary: clean },
    {
      weight: 4,
      arbitrary: fc
        .array(
          fc.constantFrom('a', '"', ' ', 'é', '€', '\u0085', '\t', '\r', '\x01', '\x1d', '\x1f', '\x7f'),
          {
            maxLength: 20,
          },
        )
        .map((c) => utf8(c.join(''))),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('', ' ', '\t', '\r', '{"a":"é€😀"}', '{"a":"b"}\r', '\ufeff{"a":1}')
        .map(utf8),
    },
    {
      weight: 1,
      arbitrary: fc.array(edgeByte, { maxLength: 24 }).map((b) => Buffer.from(b.filter((x) => x !== 0x0a))),
    },
  );

  it('decides every line the same whether its chunk is checked whole or byte by byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        // mostly clean files (a chunk is checked whole only when all of it is clean), and mixed ones
        fc.oneof(fc.array(clean, { maxLength: 30 }), fc.array(line, { maxLength: 30 })),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 6 }),
        fc.integer({ min: 8, max: 80 }),
        fc.constantFrom<readonly number[]>([], [0x1d]),
        async (lines, finalBreak, sizes, maxLineBytes, formatBytes) => {
          const bytes = Buffer.concat(
            lines.map((l, i) =>
              Buffer.concat([l, i < lines.length - 1 || finalBreak ? Buffer.from('\n') : Buffer.alloc(0)]),
            ),
          );
          const limits = { ...DEFAULT_LIMITS, maxLineBytes };
          const bytewise = await split(chunked(bytes, [1]), limits, formatBytes);
          expect(await split(chunked(bytes, sizes), limits, formatBytes)).toEqual(bytewise);
          expect(await split(chunked(bytes, []), limits, formatBytes)).toEqual(bytewise);
        },
      ),
      { numRuns: 4_000 },
    );
  });

  it('rejects a control byte, invalid UTF-8 and an overlong line in the middle of a chunk, with their line numbers', async () => {
    const good = '{"EventID":4624}';
    const text = Buffer.concat([
      Buffer.from(`${good}\n${good}\n{"a":"\x01"}\n${good}\n`),
      Buffer.from([0x7b, 0xff, 0x7d, 0x0a]),
      Buffer.from(`${good}\n{"long":"${'x'.repeat(64)}"}\n${good}\n`),
    ]);
    const { account } = await split([text], { ...DEFAULT_LIMITS, maxLineBytes: 40 });
    expect(account.rejected).toEqual([
      { reason: 'control_character', count: 1, examples: ['k#line=3'] },
      { reason: 'invalid_utf8', count: 1, examples: ['k#line=5'] },
      { reason: 'line_too_long', count: 1, examples: ['k#line=7'] },
    ]);
    expect(account.kept).toBe(5);
    expect(account.lines).toBe(8);
  });
});
