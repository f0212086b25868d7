/**
 * A seeded fuzz corpus of mutated real log lines for each source, run through the real export
 * (DuckDB, the folder store, a local key: nothing faked), and the accounting invariant every pack
 * must satisfy. Used by `test/fuzz/fuzz.test.ts` (a few hundred lines in CI) and `npm run fuzz`
 * (`scripts/fuzz.ts`, thousands). The same seed gives the same files, byte for byte.
 *
 * Real lines come from the public datasets (`shared/datasets`, see its README): Windows OTRF and
 * EVTX-to-MITRE captures, go-libaudit and OTRF auditd logs, invictus-ir CloudTrail records, and the
 * Security Lake OCSF Parquet samples (rows as JSON). No public auth.log is in the datasets: auth.log
 * lines come from the seeded Linux sample generator (`sample/linux-sample.ts`), which writes
 * them in the formats of the domain notes.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { generateLinuxSample } from '../../sample/linux-sample.ts';
import type { Rng } from '../../sample/prng.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport } from '../helpers/local-export.ts';

export const FUZZ_SOURCES = ['cloudtrail', 'linux_auditd', 'linux_auth', 'ocsf', 'windows'] as const;
export type FuzzSource = (typeof FUZZ_SOURCES)[number];

/** The window every fuzz pack asks for; files sit in its one day partition. */
export const FUZZ_WINDOW = { from: '2024-03-05T00:00:00Z', to: '2024-03-06T00:00:00Z' } as const;

const SEEDS_PER_FILE = 400;

async function filesUnder(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })) as string[];
  return names
    .filter(keep)
    .sort()
    .map((n) => join(dir, n));
}

async function linesOf(path: string, max = SEEDS_PER_FILE): Promise<string[]> {
  const bytes = await readFile(path);
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, max);
}

/** Real lines (or records, one JSON text each) of a source, in a fixed order. */
export async function seedLines(source: FuzzSource): Promise<string[]> {
  switch (source) {
    case 'windows': {
      const otrf = await filesUnder(dataset('windows', 'otrf'), (n) => n.endsWith('.json.gz'));
      const evtx = (
        await filesUnder(dataset('windows', 'evtx-to-mitre-attack', 'jsonl'), (n) => /\.jsonl?$/.test(n))
      ).slice(0, 20);
      const out: string[] = [];
      for (const f of otrf) out.push(...(await linesOf(f, 200)));
      for (const f of evtx) out.push(...(await linesOf(f, 20)));
      return out;
    }
    case 'linux_auditd': {
      const files = [
        ...(await filesUnder(dataset('linux', 'go-libaudit'), (n) => n.endsWith('.log'))),
        ...(await filesUnder(dataset('linux', 'otrf'), (n) => n.endsWith('.log'))),
      ];
      const out: string[] = [];
      for (const f of files) out.push(...(await linesOf(f)));
      return out;
    }
    case 'linux_auth': {
      const dir = await mkdtemp(join(tmpdir(), 'st-fuzz-auth-'));
      try {
        await generateLinuxSample({
          seed: 7,
          hosts: 3,
          days: 1,
          from: '2024-03-05',
          outDir: dir,
          gzip: false,
        });
        const out: string[] = [];
        for (const f of await filesUnder(join(dir, 'linux_auth'), (n) => n.endsWith('.log')))
          out.push(...(await linesOf(f)));
        return out;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    case 'cloudtrail': {
      const files = await filesUnder(dataset('cloudtrail', 'invictus-ir'), (n) => /\.json(\.gz)?$/.test(n));
      const out: string[] = [];
      for (const f of files.slice(0, 20)) {
        const bytes = await readFile(f);
        const doc = JSON.parse((f.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as {
          Records: unknown[];
        };
        out.push(...doc.Records.slice(0, 60).map((r) => JSON.stringify(r)));
      }
      return out;
    }
    case 'ocsf': {
      const files = await filesUnder(dataset('ocsf', 'security-lake-samples'), (n) => n.endsWith('.parquet'));
      const db = await DuckDBInstance.create(':memory:', { threads: '1' });
      const c = await db.connect();
      try {
        const out: string[] = [];
        for (const f of files) {
          const r = await c.runAndReadAll(`SELECT CAST(to_json(p) AS VARCHAR) AS j FROM read_parquet($1) p`, [
            f,
          ]);
          out.push(...r.getRowObjectsJS().map((row) => String(row.j)));
        }
        return out;
      } finally {
        c.closeSync();
        db.closeSync();
      }
    }
  }
}

/** What a mutation did, for the figures. */
export type MutationName =
  | 'none'
  | 'invalid_utf8'
  | 'control_byte'
  | 'raw_cr'
  | 'truncate'
  | 'delete_char'
  | 'insert_char'
  | 'digit'
  | 'lone_surrogate'
  | 'null_field'
  | 'empty_object_field'
  | 'unicode'
  | 'blank'
  | 'split_line'
  | 'case';

const MUTATIONS: readonly MutationName[] = [
  'none',
  'none',
  'invalid_utf8',
  'control_byte',
  'raw_cr',
  'truncate',
  'delete_char',
  'insert_char',
  'digit',
  'lone_surrogate',
  'null_field',
  'empty_object_field',
  'unicode',
  'blank',
  'split_line',
  'case',
];

/** One mutation of one line, as bytes (it may no longer be text). */
export function mutate(line: string, rng: Rng): { bytes: Buffer; mutation: MutationName } {
  const mutation = rng.pick(MUTATIONS);
  const b = Buffer.from(line, 'utf8');
  const at = rng.int(0, b.length);
  const splice = (insert: Buffer, remove = 0) =>
    Buffer.concat([b.subarray(0, at), insert, b.subarray(Math.min(b.length, at + remove))]);
  const fields = [
    ...line.matchAll(/"([A-Za-z_@.]+)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|\{\})/g),
  ];
  const field = fields.length > 0 ? rng.pick(fields) : null;
  const replaceField = (value: string) =>
    field === null
      ? b
      : Buffer.from(
          `${line.slice(0, field.index)}"${field[1]}":${value}${line.slice((field.index ?? 0) + field[0].length)}`,
          'utf8',
        );
  switch (mutation) {
    case 'none':
      return { bytes: b, mutation };
    case 'invalid_utf8':
      return { bytes: splice(Buffer.from([rng.pick([0xff, 0xc3, 0x80, 0xed])])), mutation };
    case 'control_byte':
      return { bytes: splice(Buffer.from([rng.pick([0x00, 0x01, 0x02, 0x07, 0x1b, 0x1f, 0x7f])])), mutation };
    case 'raw_cr':
      return {
        bytes: rng.chance(0.5) ? splice(Buffer.from('\r')) : Buffer.concat([b, Buffer.from('\r')]),
        mutation,
      };
    case 'truncate':
      return { bytes: b.subarray(0, at), mutation };
    case 'delete_char':
      return { bytes: splice(Buffer.alloc(0), 1), mutation };
    case 'insert_char':
      return {
        bytes: splice(Buffer.from(rng.pick(['"', '{', '}', ',', ':', '\\', ' ', 'x', '[', ']']))),
        mutation,
      };
    case 'digit': {
      const digits = [...line.matchAll(/\d/g)];
      if (digits.length === 0) return { bytes: b, mutation };
      const d = rng.pick(digits);
      const s = `${line.slice(0, d.index)}${rng.int(0, 9)}${line.slice((d.index ?? 0) + 1)}`;
      return { bytes: Buffer.from(s, 'utf8'), mutation };
    }
    case 'lone_surrogate':
      return { bytes: field === null ? splice(Buffer.from('\\ud800')) : replaceField('"\\ud800"'), mutation };
    case 'null_field':
      return { bytes: replaceField('null'), mutation };
    case 'empty_object_field':
      return { bytes: replaceField('{}'), mutation };
    case 'unicode':
      return {
        bytes: splice(Buffer.from(rng.pick(['ß', 'İ', 'ς', '😀', '\u2028', '\u00a0']), 'utf8')),
        mutation,
      };
    case 'blank':
      return { bytes: Buffer.from(rng.pick(['', ' ', '\t', '  \t ']), 'utf8'), mutation };
    case 'split_line':
      return { bytes: splice(Buffer.from('\n')), mutation };
    case 'case':
      return {
        bytes: Buffer.from(rng.chance(0.5) ? line.toUpperCase() : line.toLowerCase(), 'utf8'),
        mutation,
      };
  }
}

/** One fuzz export: files of one source and what was done to them. */
export interface FuzzCase {
  readonly source: FuzzSource;
  readonly files: readonly { readonly name: string; readonly bytes: Buffer }[];
  /** Lines taken from the seeds (before file-level changes such as duplication). */
  readonly lines: number;
  readonly mutations: Readonly<Record<string, number>>;
}

/**
 * Builds a case of `lines` seed lines of `source`, most of them mutated, spread over one to three
 * files with file-level changes: gzip, bytes after the gzip data, CR LF line ends, a byte order
 * mark, repeated lines (at-least-once delivery) and, for CloudTrail, `{"Records":[…]}` documents.
 */
export function makeCase(source: FuzzSource, seeds: readonly string[], rng: Rng, lines: number): FuzzCase {
  const mutations: Record<string, number> = {};
  const picked: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const m = mutate(rng.pick(seeds), rng);
    mutations[m.mutation] = (mutations[m.mutation] ?? 0) + 1;
    picked.push(m.bytes);
  }
  if (rng.chance(0.2)) for (let i = 0; i < Math.min(5, picked.length); i++) picked.push(rng.pick(picked));
  rng.shuffle(picked);
  const nFiles = rng.int(1, 3);
  const files: { name: string; bytes: Buffer }[] = [];
  for (let f = 0; f < nFiles; f++) {
    const part = picked.filter((_, i) => i % nFiles === f);
    const eol = rng.chance(0.15) ? '\r\n' : '\n';
    let body: Buffer;
    if (source === 'cloudtrail' && rng.chance(0.6)) {
      const sep = Buffer.from(rng.chance(0.5) ? ',' : `,${eol}`);
      const items = part.flatMap((p, i) => (i === 0 ? [p] : [sep, p]));
      body = Buffer.concat([
        Buffer.from(rng.chance(0.8) ? '{"Records":[' : '['),
        ...items,
        Buffer.from(rng.chance(0.9) ? ']}' : ''),
      ]);
    } else {
      body = Buffer.concat(part.flatMap((p) => [p, Buffer.from(eol)]));
    }
    if (rng.chance(0.05)) body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    const gz = rng.chance(0.3);
    if (gz) {
      body = gzipSync(body);
      if (rng.chance(0.1)) body = Buffer.concat([body, Buffer.from('trailing bytes')]);
    }
    const ext = source.startsWith('linux') ? '.log' : '.json';
    files.push({ name: `f${f}${ext}${gz ? '.gz' : ''}`, bytes: body });
  }
  return { source, files, lines, mutations };
}

/**
 * The accounting invariant of a pack, per source: every record of every file read is in exactly
 * one of used / outside the window / skipped / rejected, and the files' own counts (the intake's) add up to what the
 * pack says was read. A file that could not be read whole counts as one rejected record.
 * Returns what does not add up (empty when all does).
 */
export function accountingProblems(pack: EvidencePack): string[] {
  const out: string[] = [];
  for (const s of pack.coverage.sources) {
    const inputs = (pack.inputs ?? []).filter((i) => i.source === s.source);
    if (inputs.some((i) => i.status === 'read' && i.records === null)) continue; // Parquet: rows counted by the engine only
    const fromFiles =
      inputs.reduce((n, i) => n + (i.records ?? 0), 0) +
      inputs.filter((i) => (i.status === 'damaged' || i.status === 'unreadable') && i.reason !== null).length;
    if (fromFiles !== s.records_read)
      out.push(`${s.source}: the files hold ${fromFiles} records, the pack read ${s.records_read}`);
    if (s.records_used + s.records_outside_window + s.records_skipped + s.records_rejected !== s.records_read)
      out.push(`${s.source}: used + outside window + skipped + rejected ≠ read`);
    const sum = (list: typeof pack.coverage.rejected) =>
      list.filter((r) => r.source === s.source).reduce((n, r) => n + r.count, 0);
    if (sum(pack.coverage.rejected) !== s.records_rejected)
      out.push(
        `${s.source}: rejected by reason ${sum(pack.coverage.rejected)} ≠ records_rejected ${s.records_rejected}`,
      );
    if (sum(pack.coverage.skipped) !== s.records_skipped)
      out.push(
        `${s.source}: skipped by reason ${sum(pack.coverage.skipped)} ≠ records_skipped ${s.records_skipped}`,
      );
  }
  return out;
}

/** Where a case's files go: the source's day partition of the window, or its own folder. */
function folderOf(source: FuzzSource): string {
  return source === 'cloudtrail' || source === 'ocsf' ? source : join(source, 'dt=2024-03-05');
}

/** Writes a case to a fresh logs folder and runs a real export of it. */
export async function runCase(
  c: FuzzCase,
  keyPath: string,
): Promise<{ pack: EvidencePack | null; error: unknown; problems: string[] }> {
  const logs = await mkdtemp(join(tmpdir(), 'st-fuzz-'));
  const storeRoot = await mkdtemp(join(tmpdir(), 'st-fuzz-store-'));
  try {
    await mkdir(join(logs, folderOf(c.source)), { recursive: true });
    for (const f of c.files) await writeFile(join(logs, folderOf(c.source), f.name), f.bytes);
    try {
      const { result } = await localExport(
        logs,
        { kind: 'review', ...FUZZ_WINDOW, sources: [c.source] },
        { keyPath, storeRoot, threads: 1 },
      );
      return { pack: result.pack, error: null, problems: accountingProblems(result.pack) };
    } catch (error) {
      return {
        pack: null,
        error,
        problems: [`export failed: ${error instanceof Error ? error.message : String(error)}`],
      };
    }
  } finally {
    await rm(logs, { recursive: true, force: true });
    await rm(storeRoot, { recursive: true, force: true });
  }
}
