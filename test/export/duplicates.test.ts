/**
 * Duplicates by identity, conflicts shown (issue 10), through real exports (DuckDB, a folder store,
 * a local key): a record delivered twice collapses to one for every source, by that source's own
 * identity; two records under one identity that say different things are both kept, counted and
 * reported as a finding; and the evidence never depends on the order or the repetition of lines.
 *
 * Lines are real: the Windows OTRF capture and the invictus-ir CloudTrail records and the Security
 * Lake OCSF rows of `shared/datasets` (see its README), and the seeded Linux sample (auditd and
 * auth.log, `sample/linux-sample.ts`; no public auth.log is in the datasets).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../lib/evidence/canonical-json.ts';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { generateLinuxSample } from '../../sample/linux-sample.ts';
import { seedLines } from '../fuzz/corpus.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';
import { inFolder, logFolder } from '../helpers/log-folder.ts';

const SOURCES = ['windows', 'linux_auditd', 'linux_auth', 'cloudtrail', 'ocsf'] as const;
type Source = (typeof SOURCES)[number];

/** Each source's lines, the folder they go in and the window that holds their times. */
interface SourceData {
  readonly lines: readonly string[];
  readonly folder: string;
  readonly ext: string;
  readonly window: { readonly from: string; readonly to: string };
}

const data = {} as Record<Source, SourceData>;
let keyPath: string;

/** The Linux sample's lines of one source (seed 7, three hosts, one day), in file order, in its day folder. */
async function linuxData(source: 'linux_auditd' | 'linux_auth'): Promise<SourceData> {
  const dir = await mkdtemp(join(tmpdir(), 'st-dup-linux-'));
  try {
    await generateLinuxSample({ seed: 7, hosts: 3, days: 1, from: '2024-03-05', outDir: dir, gzip: false });
    const out: string[] = [];
    for (const host of ['lnx01', 'lnx02', 'lnx03']) {
      const text = await readFile(join(dir, source, 'dt=2024-03-05', `${host}.log`), 'utf8');
      out.push(...text.split('\n').filter((l) => l.trim() !== ''));
    }
    return {
      lines: out,
      folder: `${source}/dt=2024-03-05`,
      ext: '.log',
      window: { from: '2024-03-05T00:00:00Z', to: '2024-03-06T00:00:00Z' },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  keyPath = await makeKey();
  const otrf = gunzipSync(
    await readFile(dataset('windows', 'otrf', 'empire_wmic_add_user_backdoor_2020-09-14080546.json.gz')),
  )
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes('"Channel":"Security"'));
  data.windows = {
    lines: otrf.slice(0, 300),
    folder: 'windows/dt=2020-09-14',
    ext: '.json',
    window: { from: '2020-09-14T00:00:00Z', to: '2020-09-15T00:00:00Z' },
  };
  data.linux_auditd = await linuxData('linux_auditd');
  data.linux_auth = await linuxData('linux_auth');
  data.cloudtrail = {
    lines: (await seedLines('cloudtrail')).slice(0, 240),
    folder: 'cloudtrail',
    ext: '.json',
    window: { from: '2023-07-10T00:00:00Z', to: '2023-07-11T00:00:00Z' },
  };
  data.ocsf = {
    lines: await seedLines('ocsf'),
    folder: 'ocsf',
    ext: '.json',
    window: { from: '2022-11-01T00:00:00Z', to: '2023-04-01T00:00:00Z' },
  };
}, 120_000);

/** Exports the files (name → lines) of one source as a review pack of its window. */
async function exportFiles(source: Source, files: Readonly<Record<string, readonly string[]>>) {
  const d = data[source];
  const texts = Object.entries(files).map(([name, lines]) => [
    `${name}${d.ext}`,
    lines.map((l) => `${l}\n`).join(''),
  ]);
  const logs = await logFolder(inFolder(d.folder, Object.fromEntries(texts)), 'st-dup-');
  const storeRoot = await mkdtemp(join(tmpdir(), 'st-dup-store-'));
  try {
    const { result } = await localExport(
      logs.root,
      { kind: 'review', ...d.window, sources: [source] },
      { keyPath, storeRoot, threads: 1 },
    );
    return result.pack;
  } finally {
    await logs.remove();
    await rm(storeRoot, { recursive: true, force: true });
  }
}

/**
 * evidence.json as the property compares it: record positions (`#line=N`, `#record=N`) left out (a
 * position moves with its line, as in `npm run fuzz`), and the input files' digests and sizes (their
 * bytes change with the order). With `repeated`, also what counts lines read rather than records: the
 * per-file and per-reason counts, the files, the query row counts, the rejected lines (a repeated
 * line is read again, and an unreadable one rejected again).
 */
function comparable(pack: EvidencePack, repeated: boolean): string {
  const copy = JSON.parse(new TextDecoder().decode(canonicalBytes(pack))) as Record<string, unknown> & {
    coverage: Record<string, unknown> & { sources: Record<string, unknown>[] };
    queries: Record<string, unknown>[];
    limitations: string[];
  };
  // The files' digests and stored sizes change with the order of their lines (and gzip).
  copy.inputs = (copy.inputs as Record<string, unknown>[] | undefined)?.map((i) => ({
    ...i,
    sha256: null,
    size: null,
  }));
  if (repeated) {
    delete copy.inputs;
    for (const list of ['rejected', 'skipped'] as const)
      copy.coverage[list] = (copy.coverage[list] as { source: string; reason: string }[]).map((r) => ({
        source: r.source,
        reason: r.reason,
      }));
    copy.coverage.sources = copy.coverage.sources.map((s) => ({
      source: s.source,
      conflicting_records: s.conflicting_records,
      distinct_events:
        Number(s.records_used) + Number(s.records_outside_window) - Number(s.duplicates_collapsed),
    }));
    // Row counts include the copies. (The SQL, which names the files read, is in the manifest.)
    copy.queries = copy.queries.map((q) => ({ ...q, rows: null }));
    // A line that cannot be read has no identity to collapse on: each copy is rejected again.
    (copy.summary as Record<string, unknown>).rejected_records = null;
    copy.limitations = copy.limitations.map((l) =>
      l.replace(/^\d+ (records or files could not be read)/, 'N $1'),
    );
  }
  return new TextDecoder().decode(canonicalBytes(copy)).replace(/#(line|record)=\d+/g, '#…');
}

/** Asserts two comparable texts are equal, showing where they first differ (they are long). */
function expectSame(actual: string, expected: string): void {
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  const around = (t: string) => t.slice(Math.max(0, i - 300), i + 200);
  expect(around(actual)).toBe(around(expected));
  expect(actual.length).toBe(expected.length);
}

const twice = (lines: readonly string[]) => lines.flatMap((l) => [l, l]);

/** Packs of one file of a source's lines as they are, and of the same file with every line twice. */
async function onceAndDoubled(source: 'linux_auditd' | 'linux_auth', file: string) {
  const lines = data[source].lines;
  const once = await exportFiles(source, { [file]: lines });
  const doubled = await exportFiles(source, { [file]: twice(lines) });
  return { once, doubled };
}

const privileged = (pack: EvidencePack) => pack.sessions.length;

describe('records delivered twice collapse by their source identity (regressions)', () => {
  it('auth.log with every line twice keeps every privileged session and all its activity', async () => {
    // Act
    const { once, doubled } = await onceAndDoubled('linux_auth', 'auth');
    // Assess: the sample has privileged sessions with sudo activity, and doubling changes nothing
    // but the lines read and the copies collapsed (every event line once more).
    expect(privileged(once)).toBeGreaterThanOrEqual(3);
    expect(once.sessions.some((s) => s.activity.length > 0)).toBe(true);
    expectSame(comparable(doubled, true), comparable(once, true));
    const [a, b] = [once.coverage.sources[0], doubled.coverage.sources[0]];
    expect(b?.records_read).toBe(2 * (a?.records_read ?? 0));
    expect(b?.duplicates_collapsed).toBe(
      (a?.duplicates_collapsed ?? 0) + (a?.records_used ?? 0) + (a?.records_outside_window ?? 0),
    );
    expect(b?.conflicting_records).toBe(0);
  }, 120_000);

  it('auditd with every line twice counts each sudo command once', async () => {
    // Act
    const { once, doubled } = await onceAndDoubled('linux_auditd', 'audit');
    // Assess: the sample has sudo commands, each counted once however often its lines are read.
    const sudo = (p: EvidencePack) =>
      p.sessions.map((s) => s.details.find((x) => x.name === 'sudo_commands')?.value ?? '0');
    expect(sudo(once).some((n) => Number(n) > 0)).toBe(true);
    expect(sudo(doubled)).toEqual(sudo(once));
    expectSame(comparable(doubled, true), comparable(once, true));
  }, 120_000);
});

describe('records that share an identity but differ are both kept and reported (regressions)', () => {
  /** A real 4624 of the capture, and the same record (host, RecordNumber, EventID) naming another account. */
  function conflictingPair(): { genuine: string; forged: string; rest: string[] } {
    const lines = data.windows.lines;
    const i = lines.findIndex((l) => l.includes('"EventID":4624') && l.includes('"LogonType":2'));
    const index = i >= 0 ? i : lines.findIndex((l) => l.includes('"EventID":4624'));
    const genuine = lines[index] as string;
    const record = JSON.parse(genuine) as Record<string, unknown>;
    const forged = JSON.stringify({
      ...record,
      TargetUserName: 'mallory',
      TargetUserSid: 'S-1-5-21-9-9-9-1337',
    });
    return { genuine, forged, rest: lines.filter((_, j) => j !== index) };
  }

  it('a conflicting Windows duplicate first or last gives the same evidence, both versions and a finding', async () => {
    // Prepare
    const { genuine, forged, rest } = conflictingPair();
    // Act
    const forgedFirst = await exportFiles('windows', { security: [forged, genuine, ...rest] });
    const forgedLast = await exportFiles('windows', { security: [genuine, ...rest, forged] });
    // Assess
    expectSame(comparable(forgedLast, false), comparable(forgedFirst, false));
    expect(forgedFirst.coverage.sources[0]?.conflicting_records).toBe(2);
    expect(forgedFirst.coverage.sources[0]?.duplicates_collapsed).toBe(0);
    const finding = forgedFirst.findings.find((f) => f.rule_id === 'conflicting-record-versions');
    expect(finding?.records.length).toBe(2);
    expect(forgedFirst.limitations.some((l) => l.includes('versions of one record that disagree'))).toBe(
      true,
    );
  }, 120_000);

  it('the same record delivered twice is a duplicate, not a conflict', async () => {
    const { genuine, rest } = conflictingPair();
    const pack = await exportFiles('windows', { security: [genuine, ...rest, genuine] });
    expect(pack.coverage.sources[0]?.duplicates_collapsed).toBe(1);
    expect(pack.coverage.sources[0]?.conflicting_records).toBe(0);
    expect(pack.findings.some((f) => f.rule_id === 'conflicting-record-versions')).toBe(false);
  }, 120_000);
});

describe('Windows records without a record number are identified by file and line (regressions)', () => {
  it('keeps content-identical lines as distinct records, refers to each by its line and says so', async () => {
    // Prepare: the capture's Security lines as a layout without a record number writes them, and
    // one of its 4624 twice (two records the log cannot tell apart, as in the newer flat export).
    const plain = data.windows.lines.map((l) => {
      const { RecordNumber: _, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
    const i = plain.findIndex((l) => l.includes('"EventID":4624'));
    const lines = [...plain.slice(0, i + 1), plain[i] as string, ...plain.slice(i + 1)];
    // Act
    const pack = await exportFiles('windows', { security: lines });
    const reordered = await exportFiles('windows', { security: [...lines].reverse() });
    // Assess: nothing collapsed, every event referred to by its line, and the pack says so.
    const source = pack.coverage.sources[0];
    expect(source?.duplicates_collapsed).toBe(0);
    expect(source?.conflicting_records).toBe(0);
    const refs = [
      ...pack.sessions.flatMap((s) => s.halves.map((h) => h.logon_ref)),
      ...pack.sessions.flatMap((s) => s.activity.map((a) => a.raw_ref)),
    ];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(ref).toMatch(/^windows\/dt=2020-09-14\/security\.json#line=[1-9][0-9]*$/);
    expect(pack.limitations.some((l) => l.includes('carry no record number'))).toBe(true);
    expectSame(comparable(reordered, false), comparable(pack, false));
  }, 120_000);
});

describe('order and repetition of lines (property, real exports)', () => {
  it.each(
    SOURCES,
  )('%s: any permutation and any duplication of real lines gives the same evidence', async (source) => {
    const lines = data[source].lines;
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray([...lines.keys()], { minLength: 1, maxLength: Math.min(60, lines.length) }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 12 }),
        fc.boolean(),
        async (picked, repeats, secondFile) => {
          // The same lines in the datasets' order, once, against: in any order, with any of them
          // repeated anywhere in the file or in a second file of the same host (a rotated copy:
          // auditd names the host of a line without `node=` by its file, up to the first `_`).
          const base = [...picked].sort((a, b) => a - b).map((i) => lines[i] as string);
          const shuffled = picked.map((i) => lines[i] as string);
          const copies = repeats.map(([r]) => shuffled[r % shuffled.length] as string);
          const mixed = [...shuffled];
          for (const [k, [, at]] of repeats.entries())
            mixed.splice(at % (mixed.length + 1), 0, copies[k] as string);
          const files: Record<string, string[]> = secondFile ? { a: shuffled, a_copy: copies } : { a: mixed };
          const once = await exportFiles(source, { a: base });
          const again = await exportFiles(source, files);
          expectSame(comparable(again, true), comparable(once, true));
          expect(again.coverage.sources[0]?.records_read).toBe(
            (once.coverage.sources[0]?.records_read ?? 0) + copies.length,
          );
        },
      ),
      { numRuns: 3, seed: 10 },
    );
  }, 300_000);
});
