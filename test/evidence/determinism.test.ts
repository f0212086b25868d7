/**
 * Evidence is deterministic: the same inputs give a byte-identical evidence.json (and PDF), whatever
 * the order of the lines in the files, the engine's thread count, or the day the pack is built.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { generateWindowsSample } from '../../sample/windows-sample.ts';
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
  let logsA: string;
  let logsB: string;
  let window: { from: string; to: string };
  let keyPath: string;

  beforeAll(async () => {
    logsA = await mkdtemp(join(tmpdir(), 'st-det-a-'));
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

  it('gives byte-identical evidence.json and evidence.pdf from the same logs on one thread', async () => {
    const again = await localExport(
      logsA,
      { kind: 'review', ...window },
      { config: await loadConfig(CONFIG), keyPath, threads: 1 },
    );
    const read = (root: string, dir: string, name: string) => readFile(join(root, dir, name));
    expect(again.result.evidenceSha256).toBe(first.result.evidenceSha256);
    for (const name of ['evidence.json', 'evidence.pdf']) {
      expect(
        (await read(again.storeRoot, again.result.dir, name)).equals(
          await read(first.storeRoot, first.result.dir, name),
        ),
      ).toBe(true);
    }
    expect(first.result.pack.sessions.length).toBeGreaterThan(10);
  });

  it('gives the same evidence from reordered lines, but for the recorded digests of the input files', async () => {
    // The reordered files are other bytes: evidence.json records each input's sha256 (chain of
    // custody), so those digests differ while everything derived from the records is identical.
    const second = await localExport(
      logsB,
      { kind: 'review', ...window },
      { config: await loadConfig(CONFIG), keyPath, threads: 1 },
    );
    const { inputs: inputsB, ...restB } = second.result.pack;
    const { inputs: inputsA, ...restA } = first.result.pack;
    expect(restB).toEqual(restA);
    expect(inputsB?.map((i) => i.key)).toEqual(inputsA?.map((i) => i.key));
    expect(inputsB?.some((i, n) => i.sha256 !== inputsA?.[n]?.sha256)).toBe(true);
  });

  it('holds no wall-clock time: the manifest carries the creation time, evidence.json does not', async () => {
    const evidence = await readFile(join(first.storeRoot, first.result.dir, 'evidence.json'), 'utf8');
    expect(evidence).not.toContain('2026-01-01T00:00:00.000Z');
    const manifest = JSON.parse(
      await readFile(join(first.storeRoot, first.result.dir, 'manifest.json'), 'utf8'),
    );
    expect(manifest.predicate.created).toBe('2026-01-01T00:00:00.000Z');
  });

  it('names no engine: the manifest says which engine ran and binds the digest of each query file', async () => {
    const dir = join(first.storeRoot, first.result.dir);
    const evidence = JSON.parse(await readFile(join(dir, 'evidence.json'), 'utf8'));
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(evidence.tool).not.toHaveProperty('engine');
    expect(JSON.stringify(evidence.queries)).not.toContain('sha256');
    expect(manifest.predicate.tool.engine.name).toBe('duckdb');
    const subjects = new Map<string, string>(
      manifest.subject.map((s: { name: string; digest: { sha256: string } }) => [s.name, s.digest.sha256]),
    );
    for (const q of evidence.queries as { file: string }[]) {
      const sha = createHash('sha256')
        .update(await readFile(join(dir, q.file)))
        .digest('hex');
      expect(subjects.get(q.file), q.file).toBe(sha);
    }
  });

  it('is RFC 8785 canonical JSON: re-serialising the parsed file gives the same bytes', async () => {
    const bytes = await readFile(join(first.storeRoot, first.result.dir, 'evidence.json'));
    const { canonicalBytes } = await import('../../lib/evidence/canonical-json.ts');
    expect(Buffer.from(canonicalBytes(JSON.parse(bytes.toString('utf8')))).equals(bytes)).toBe(true);
  });
});
