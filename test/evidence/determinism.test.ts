/**
 * Evidence is deterministic: the same inputs give a byte-identical evidence.json (and PDF), whatever
 * the order of the lines in the files, the engine's thread count, or the day the pack is built.
 */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { generateWindowsSample } from '../../lib/sample/windows-sample.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

const CONFIG = new URL('../../config/demo.config.json', import.meta.url).pathname;

/** Rewrites every log file with its lines in reverse order. */
async function reverseLines(root: string): Promise<void> {
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.json(\.gz)?$/.test(entry.name) || entry.name === 'ground-truth.json') continue;
    const path = join(entry.parentPath, entry.name);
    const gz = path.endsWith('.gz');
    const raw = await readFile(path);
    const text = (gz ? gunzipSync(raw) : raw).toString('utf8');
    const lines = text
      .split('\n')
      .filter((l) => l !== '')
      .reverse();
    const out = `${lines.join('\n')}\n`;
    await writeFile(path, gz ? gzipSync(out) : out);
  }
}

describe('exportEvidence determinism', () => {
  let first: Awaited<ReturnType<typeof localExport>>;
  let logsB: string;
  let window: { from: string; to: string };
  let keyPath: string;

  beforeAll(async () => {
    const logsA = await mkdtemp(join(tmpdir(), 'st-det-a-'));
    logsB = await mkdtemp(join(tmpdir(), 'st-det-b-'));
    const a = await generateWindowsSample({ seed: 11, hosts: 5, days: 2, from: '2024-06-03', outDir: logsA });
    await generateWindowsSample({ seed: 11, hosts: 5, days: 2, from: '2024-06-03', outDir: logsB });
    await reverseLines(logsB);
    window = a.window;
    keyPath = await makeKey();
    first = await localExport(
      logsA,
      { kind: 'review', ...window },
      { config: await loadConfig(CONFIG), keyPath, threads: 2 },
    );
  }, 120_000);

  it('gives byte-identical evidence.json and evidence.pdf from reordered lines on one thread', async () => {
    const second = await localExport(
      logsB,
      { kind: 'review', ...window },
      { config: await loadConfig(CONFIG), keyPath, threads: 1 },
    );
    const read = (root: string, dir: string, name: string) => readFile(join(root, dir, name));
    expect(second.result.evidenceSha256).toBe(first.result.evidenceSha256);
    expect(
      (await read(second.storeRoot, second.result.dir, 'evidence.json')).equals(
        await read(first.storeRoot, first.result.dir, 'evidence.json'),
      ),
    ).toBe(true);
    expect(
      (await read(second.storeRoot, second.result.dir, 'evidence.pdf')).equals(
        await read(first.storeRoot, first.result.dir, 'evidence.pdf'),
      ),
    ).toBe(true);
    expect(first.result.pack.sessions.length).toBeGreaterThan(10);
  });

  it('holds no wall-clock time: the manifest carries the creation time, evidence.json does not', async () => {
    const evidence = await readFile(join(first.storeRoot, first.result.dir, 'evidence.json'), 'utf8');
    expect(evidence).not.toContain('2026-01-01T00:00:00.000Z');
    const manifest = JSON.parse(
      await readFile(join(first.storeRoot, first.result.dir, 'manifest.json'), 'utf8'),
    );
    expect(manifest.predicate.created).toBe('2026-01-01T00:00:00.000Z');
  });

  it('is RFC 8785 canonical JSON: re-serialising the parsed file gives the same bytes', async () => {
    const bytes = await readFile(join(first.storeRoot, first.result.dir, 'evidence.json'));
    const { canonicalBytes } = await import('../../lib/evidence/canonical-json.ts');
    expect(Buffer.from(canonicalBytes(JSON.parse(bytes.toString('utf8')))).equals(bytes)).toBe(true);
  });
});
