/**
 * The intake takes several files in at once and reads each only once: results in the files' order
 * whichever finishes first (mapInOrder), the failure a run in order would have met, and the size and
 * sha256 of each file as stored, computed from the intake's own read (StoredDigest), equal to a
 * fresh digest of the file for every way a gzip read can end (whole, several members, trailing
 * bytes, cut, over the size limit) and for plain files; worker threads (IntakePool) decide exactly
 * as the main thread does. Real files, real zlib, real worker threads.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { intakeConcurrency, mapInOrder } from '../../lib/locate/in-order.ts';
import { findLocalLogs } from '../../lib/locate/local-logs.ts';
import { DEFAULT_LIMITS } from '../../lib/locate/log-intake.ts';
import { inFolder, logFolder, windows4634 } from '../helpers/log-folder.ts';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('mapInOrder', () => {
  it('gives the results in the items’ order when later items finish first, at most `limit` at once', async () => {
    let running = 0;
    let most = 0;
    const finished: number[] = [];
    const delays = [40, 5, 30, 1, 20, 2, 10];
    const out = await mapInOrder(delays, 3, async (ms, i) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(ms);
      running -= 1;
      finished.push(i);
      return `r${i}`;
    });
    expect(out).toEqual(delays.map((_, i) => `r${i}`));
    expect(finished).not.toEqual([...finished].sort((a, b) => a - b)); // they did finish out of order
    expect(most).toBe(3);
  });

  it('throws the failure of the lowest index, starts nothing after a failure, and awaits the running tasks', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const err = await mapInOrder([0, 1, 2, 3, 4, 5], 3, async (_, i) => {
      started.push(i);
      // item 2 fails first; item 1, started before it, fails later: a run in order meets item 1's failure
      await sleep(i === 1 ? 30 : i === 2 ? 1 : 10);
      settled.push(i);
      if (i === 1 || i === 2) throw new Error(`item ${i}`);
      return i;
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('item 1');
    expect(started).toEqual([0, 1, 2]);
    expect([...settled].sort()).toEqual([0, 1, 2]);
  });

  it('takes in at least two files at once, and one per core', () => {
    expect(intakeConcurrency(1)).toBe(2);
    expect(intakeConcurrency(8)).toBe(8);
  });
});

describe('the intake reads each file once and records its digest from that read', () => {
  const line = (n: number) => windows4634(n, { Message: `m${n} ${'x'.repeat(n % 97)}` });
  // Over 1 MiB of lines, so that a gzip member's data spans several reads of the intake.
  const lines = (from: number, count: number) =>
    Buffer.from(`${Array.from({ length: count }, (_, i) => line(from + i)).join('\n')}\n`);
  const big = lines(0, 12_000);

  it('lists for every file the size and sha256 of its bytes as stored, in the files’ order', async () => {
    const whole = gzipSync(big);
    const files: Record<string, Buffer> = {
      'a-whole.json.gz': whole,
      'b-members.json.gz': Buffer.concat([gzipSync(lines(0, 5_000)), gzipSync(lines(5_000, 7_000))]),
      'c-trailing.json.gz': Buffer.concat([whole, Buffer.from('garbage after the member')]),
      'd-cut.json.gz': whole.subarray(0, Math.floor(whole.length * 0.6)),
      'e-plain.json': big,
      'f-bad-lines.json': Buffer.concat([Buffer.from('{"a":"\x01"}\r\n'), big]),
      'g-empty.json': Buffer.alloc(0),
    };
    const { root } = await logFolder(inFolder('windows/dt=2024-03-05', files), 'st-intake-');

    const found = await findLocalLogs(root, 'windows', Date.parse('2024-03-05'), Date.parse('2024-03-06'));
    await found.cleanup();
    expect(found.inputs.map((i) => i.key.split('/').pop())).toEqual(Object.keys(files));
    for (const input of found.inputs) {
      const stored = await readFile(join(root, input.key));
      expect({ key: input.key, size: input.size, sha256: input.sha256 }).toEqual({
        key: input.key,
        size: stored.length,
        sha256: createHash('sha256').update(stored).digest('hex'),
      });
    }
    // what the intake decided of each: the digest comes from the read that decided it
    expect(found.inputs.map((i) => [i.status, i.reason])).toEqual([
      ['read', null],
      ['read', null],
      ['damaged', 'trailing_bytes'],
      ['damaged', 'truncated_gzip'],
      ['read', null],
      ['read', null],
      ['skipped', 'empty_file'],
    ]);
  });

  it('finishes the digest of a file whose reading stopped at the decompressed-size limit', async () => {
    const bomb = gzipSync(Buffer.concat([big, Buffer.alloc(8 * 1024 * 1024, 0x20), big]));
    const { root } = await logFolder(
      inFolder('windows/dt=2024-03-05', {
        'bomb.json.gz': bomb,
        'plain.json': Buffer.concat([big, big, big]),
      }),
      'st-intake-',
    );
    const found = await findLocalLogs(root, 'windows', Date.parse('2024-03-05'), Date.parse('2024-03-06'), {
      ...DEFAULT_LIMITS,
      maxDecompressedBytes: 2 * 1024 * 1024,
    });
    await found.cleanup();
    expect(found.inputs.map((i) => [i.key.split('/').pop(), i.status, i.reason])).toEqual([
      ['bomb.json.gz', 'damaged', 'decompressed_too_large'],
      ['plain.json', 'damaged', 'decompressed_too_large'],
    ]);
    for (const input of found.inputs) {
      const stored = await readFile(join(root, input.key));
      expect(input.size).toBe(stored.length);
      expect(input.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
    }
  });
});

describe('worker threads take files in as the main thread does', () => {
  it('gives the same input list, problems, files and rewritten bytes with and without the pool', async () => {
    const body = Buffer.from(
      `${Array.from({ length: 3_000 }, (_, n) => JSON.stringify({ Channel: 'Security', EventID: 4624, RecordNumber: n, '@timestamp': '2024-03-05T10:00:00.000Z', Hostname: 'WS01' })).join('\n')}\n`,
    );
    const whole = gzipSync(body);
    const files: Record<string, Buffer> = {
      'a.json.gz': whole,
      'b-members.json.gz': Buffer.concat([gzipSync(body), gzipSync(body)]),
      'c-trailing.json.gz': Buffer.concat([whole, Buffer.from('tail')]),
      'd-cut.json.gz': whole.subarray(0, Math.floor(whole.length / 2)),
      'e-crlf.json': Buffer.from(body.toString().replaceAll('\n', '\r\n')),
      'f-bad.json': Buffer.concat([
        body,
        Buffer.from('{"a":"\x01"}\n{"a":"'),
        Buffer.from([0xff]),
        Buffer.from('"}\n\n'),
      ]),
      'g-empty.json': Buffer.alloc(0),
      'h-notes.txt': Buffer.from('not a log'),
    };
    const { root } = await logFolder(inFolder('windows/dt=2024-03-05', files), 'st-intake-pool-');
    const from = Date.parse('2024-03-05');
    const to = Date.parse('2024-03-06');
    const seen = async (poolMinBytes: number) => {
      const found = await findLocalLogs(root, 'windows', from, to, DEFAULT_LIMITS, poolMinBytes);
      const read = await Promise.all(
        found.files.map(async (f) => [f.key, basename(f.path), await readFile(f.path)]),
      );
      await found.cleanup();
      return { inputs: found.inputs, problems: found.problems, read };
    };
    const inProcess = await seen(Number.POSITIVE_INFINITY);
    expect(inProcess.inputs.map((i) => i.status)).toContain('damaged');
    expect(await seen(0)).toEqual(inProcess);
  });
});
