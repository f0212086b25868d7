/**
 * A file that needs correcting is read whole once: the intake's first read stops at the first line
 * that needs it (`stopAtRewrite`), and the rewrite's read gives the file's account. Whatever the
 * file, the result is the same as a whole read's: the account (counts, reasons, positions, status),
 * the rewritten lines, the sha256 of the file as stored, and whether anything is handed on at all.
 * The reference is `scanTextFile` reading the whole file with a sink, as the rewrite always did.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  type IntakeOptions,
  intakeTextFile,
  LINE_MARKER,
  scanTextFile,
  splitRecords,
} from '../../lib/locate/log-intake.ts';
import { windows4634 } from '../helpers/log-folder.ts';

const lines = (n: number, from = 1) => Array.from({ length: n }, (_, i) => windows4634(from + i));
// about 1.7 MiB: more than one read chunk (1 MiB), so a read can stop before the file's end
const big = lines(10000);

/** [name, bytes as stored, intake options]. */
const CASES: readonly (readonly [string, Buffer, Partial<IntakeOptions>])[] = [
  ['clean lines', Buffer.from(`${big.join('\n')}\n`), {}],
  ['CR LF from the first line', Buffer.from(`${big.join('\r\n')}\r\n`), {}],
  ['CR LF, gzip', gzipSync(`${big.join('\r\n')}\r\n`), {}],
  ['one lenient line at the end', Buffer.from(`${[...big, '{"a":1,}'].join('\n')}\n`), { jsonLines: true }],
  [
    'a control byte in the middle',
    Buffer.from(`${[...big.slice(0, 1500), 'x\u0001y', ...big.slice(1500)].join('\n')}\n`),
    {},
  ],
  ['CR LF then a cut gzip', gzipSync(`${big.join('\r\n')}\r\n`).subarray(0, 20_000), {}],
  [
    'CR LF then trailing bytes',
    Buffer.concat([gzipSync(`${big.join('\r\n')}\r\n`), Buffer.from('junk')]),
    {},
  ],
  ['only blank lines with CR LF', Buffer.from('\r\n\r\n  \r\n'), {}],
  [
    'a CloudTrail document',
    Buffer.from(JSON.stringify({ Records: [{ a: 1 }, { b: 2 }, 3] })),
    { documents: true },
  ],
  [
    'CR LF over the decompressed limit',
    gzipSync(`${big.join('\r\n')}\r\n`),
    { limits: { ...DEFAULT_LIMITS, maxDecompressedBytes: 100_000 } },
  ],
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'st-one-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('intake of a file that needs correcting', () => {
  it.each(
    CASES.map(([name, bytes, options], i) => [name, bytes, options, i] as const),
  )('%s: the same account, lines and digest as one whole read', async (_name, bytes, extra, i) => {
    const path = join(dir, `f${i}.json`);
    await writeFile(path, bytes);
    const options: IntakeOptions = { documents: false, limits: DEFAULT_LIMITS, ...extra };
    const scratch = await mkdtemp(join(dir, 'scratch-'));

    const taken = await intakeTextFile(path, 'windows/a.json', i, scratch, options);

    // The reference: one whole read, every kept line as the rewrite writes it.
    const written: string[] = [];
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    const whole = await scanTextFile(path, 'windows/a.json', gzip, options, (line) => {
      written.push(line === null ? String.fromCharCode(LINE_MARKER) : line.toString('utf8'));
    });
    expect(taken.input).toEqual(whole.input);
    if (whole.kept === 0) expect(taken.readPath).toBeNull();
    else if (whole.clean) expect(await readFile(taken.readPath as string)).toEqual(bytes);
    else expect((await readFile(taken.readPath as string, 'utf8')).split('\n').slice(0, -1)).toEqual(written);
    const digest = await taken.stored?.finish(path);
    expect(digest).toEqual({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  });

  it('stops the first read at the chunk where a line first needs correcting', async () => {
    // Two chunks of lines; the reader is asked for the second only if the first read goes on.
    const read = async (separator: string) => {
      const text = `${big.join(separator)}${separator}`;
      const half = text.length >> 1;
      let pulled = 0;
      async function* chunks() {
        for (const part of [text.slice(0, half), text.slice(half)]) {
          pulled += 1;
          yield Buffer.from(part);
        }
      }
      const options = { documents: false, limits: DEFAULT_LIMITS, stopAtRewrite: true };
      const split = await splitRecords(chunks(), 'windows/a.json', options, null);
      return { stopped: split.stopped, pulled };
    };
    expect(await read('\r\n')).toEqual({ stopped: true, pulled: 1 });
    expect(await read('\n')).toEqual({ stopped: false, pulled: 2 });
  });
});
