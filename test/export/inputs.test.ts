/**
 * `evidence.json` lists every input object read in one list, with its status, records, range read,
 * size and sha256: checked against the real `sha256sum`, `stat` and `wc -l`, and shown to change
 * when one byte of one input changes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { generateSamples } from '../../sample/samples.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

describe('inputs in evidence.json (local logs, DuckDB)', () => {
  let root: string;
  let logs: string;
  let keyPath: string;
  let window: { from: string; to: string };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'st-inputs-'));
    logs = join(root, 'logs');
    ({ window } = await generateSamples({
      kinds: ['windows'],
      seed: 7,
      hosts: 3,
      days: 1,
      from: '2024-03-04',
      outDir: logs,
    }));
    keyPath = await makeKey(root);
  }, 120_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const exportTo = async (store: string) => {
    const { result } = await localExport(
      logs,
      { kind: 'review', from: window.from, to: window.to, sources: ['windows'] },
      { storeRoot: join(root, store), keyPath },
    );
    return JSON.parse(await readFile(join(root, store, result.dir, 'evidence.json'), 'utf8')) as EvidencePack;
  };

  it('lists every file read with the size stat reports and the digest sha256sum prints, sorted', async () => {
    // Act
    const pack = await exportTo('store-a');

    // Assess
    const inputs = pack.inputs ?? [];
    expect(inputs.length).toBeGreaterThan(0);
    for (const input of inputs) {
      const path = join(logs, input.key);
      const stored = await readFile(path);
      // The samples are gzip JSON lines (their magic bytes say so), read whole.
      const content = stored[0] === 0x1f && stored[1] === 0x8b ? gunzipSync(stored) : stored;
      const text = content.toString('utf8');
      expect(input).toMatchObject({ source: 'windows', status: 'read', reason: null, s3: null });
      expect(input.size).toBe((await stat(path)).size);
      expect(input.sha256).toBe(execFileSync('sha256sum', [path]).toString().slice(0, 64));
      // Every decompressed byte, and as many lines as `zcat | wc -l` counts.
      expect(input.range).toEqual({
        bytes: content.length,
        last_line: Number(execFileSync('sh', ['-c', 'zcat -f "$1" | wc -l', 'sh', path]).toString().trim()),
      });
      expect(input.records).toBe(text.split('\n').filter((l) => l.trim() !== '').length);
    }
    // One list, one entry per file: the coverage section no longer repeats it.
    expect(Object.keys(pack.coverage)).not.toContain('inputs');
    expect(inputs.map((i) => i.key)).toEqual([...inputs.map((i) => i.key)].sort());
  }, 120_000);

  it('records another digest for an input changed in one byte', async () => {
    // Prepare
    const before = (await exportTo('store-b')).inputs ?? [];
    const changed = before[0];
    if (changed === undefined) throw new Error('no input');
    const path = join(logs, changed.key);
    const original = await readFile(path);
    const bytes = Buffer.from(original);
    bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 0x01;
    await writeFile(path, bytes);

    // Act
    let after: EvidencePack['inputs'];
    try {
      after = (await exportTo('store-c')).inputs;
    } finally {
      await writeFile(path, original);
    }

    // Assess
    const again = after?.find((i) => i.key === changed.key);
    expect(again?.size).toBe(changed.size);
    expect(again?.sha256).not.toBe(changed.sha256);
    expect(after?.filter((i) => i.key !== changed.key)).toEqual(before.filter((i) => i.key !== changed.key));
  }, 120_000);
});
