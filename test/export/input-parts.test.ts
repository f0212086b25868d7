/**
 * A source whose rows depend on each file alone is normalised in parts of whole files, one
 * statement each (lib/export/input-parts.ts), with the same rows as one statement: the parts are
 * decided here, and the evidence of a real export in parts is compared with one in one statement.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { inputParts, partName } from '../../lib/export/input-parts.ts';
import type { InputObject } from '../../lib/locate/raw-log-locator.ts';
import type { RawInput } from '../../lib/query/dialects/dialect.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';
import { type LogFolder, logFolder, windows4634 } from '../helpers/log-folder.ts';

const files = (...keys: string[]): RawInput => ({
  kind: 'files',
  files: keys.map((key) => ({ path: `/logs/${key}`, key })),
});
const read = (key: string, bytes: number | null): InputObject => ({
  key,
  status: 'read',
  reason: null,
  size: bytes,
  sha256: null,
  s3: null,
  records: null,
  range: bytes === null ? null : { bytes, last_line: null },
});
const keysOf = (parts: readonly RawInput[]) =>
  parts.map((p) => (p.kind === 'files' ? p.files.map((f) => f.key) : p.table));

describe('inputParts', () => {
  it('packs whole files in order, each part at most the bound, a larger file alone', () => {
    const input = files('a', 'b', 'c', 'd', 'e');
    const objects = [read('a', 40), read('b', 50), read('c', 150), read('d', 10), read('e', 90)];
    expect(keysOf(inputParts(input, objects, 100))).toEqual([['a', 'b'], ['c'], ['d', 'e']]);
    expect(keysOf(inputParts(input, objects, 1000))).toEqual([['a', 'b', 'c', 'd', 'e']]);
  });

  it('keeps in every part what the input says of its lines', () => {
    const input: RawInput = {
      kind: 'files',
      files: ['a', 'b', 'c'].map((key) => ({ path: `/logs/${key}`, key })),
      lenientJsonMarked: true,
    };
    const parts = inputParts(input, [read('a', 60), read('b', 60), read('c', 60)], 100);
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part).toMatchObject({ kind: 'files', lenientJsonMarked: true });
  });

  it('reads in one statement a table, an input the locator did not measure, or an engine with no bound', () => {
    const table: RawInput = { kind: 'table', table: 'raw.windows', dtFrom: '2024-01-01', dtTo: '2024-01-02' };
    expect(inputParts(table, [], 1)).toEqual([table]);
    const input = files('a', 'b');
    expect(inputParts(input, undefined, 1)).toEqual([input]);
    expect(inputParts(input, [read('a', 5), read('b', 5)], undefined)).toEqual([input]);
  });

  it('counts a file listed without a range as the whole bound: never a size guessed small', () => {
    expect(
      keysOf(inputParts(files('a', 'b', 'c'), [read('a', 1), read('b', null), read('c', 1)], 10)),
    ).toEqual([['a'], ['b'], ['c']]);
  });

  it('puts every file in exactly one part, in order, and no part of several files over the bound', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(200), { maxLength: 30 }),
        fc.integer({ min: 1, max: 300 }),
        (sizes, bound) => {
          const keys = sizes.map((_, i) => `f${i}`);
          const parts = keysOf(
            inputParts(
              files(...keys),
              keys.map((k, i) => read(k, sizes[i] ?? 0)),
              bound,
            ),
          );
          expect(parts.flat()).toEqual(keys.length === 0 ? [] : keys);
          for (const part of parts as string[][]) {
            const bytes = part.reduce((sum, k) => sum + (sizes[Number(k.slice(1))] ?? 0), 0);
            if (part.length > 1) expect(bytes).toBeLessThanOrEqual(bound);
          }
        },
      ),
    );
  });

  it('names a part after its query, and the only part by the query alone', () => {
    expect(partName('normalise-windows', 0, 1)).toBe('normalise-windows');
    expect(partName('normalise-windows', 1, 3)).toBe('normalise-windows-part-2-of-3');
  });
});

describe('a Windows export normalised in parts of whole files (real DuckDB, real OTRF captures)', () => {
  let logs: LogFolder;
  let whole: EvidencePack;
  let inParts: EvidencePack;
  let windowsFiles: number;

  beforeAll(async () => {
    // The OTRF captures of 2020 (a pack's window is at most 366 days), each on its day, and two files of records without a record number
    // (named by their line: the numbering of a file's identical lines is the one window of the
    // Windows query), one with identical lines, the other with a copy of the first one's lines.
    const otrf = dataset('windows', 'otrf');
    const captures: Record<string, Uint8Array> = {};
    for (const name of (await readdir(otrf)).filter((n) => /_2020-.*\.json\.gz$/.test(n))) {
      const day = /_(\d{4})-(\d{2})-(\d{2})/.exec(name);
      if (day === null) throw new Error(`no date in ${name}`);
      captures[`windows/dt=${day[1]}-${day[2]}-${day[3]}/${name}`] = await readFile(join(otrf, name));
    }
    const noNumber = (n: number) =>
      windows4634(n, {
        RecordNumber: undefined,
        TargetLogonId: `0x${n}`,
        '@timestamp': `2020-10-01T10:00:0${n}.000Z`,
      });
    const lines = [noNumber(1), noNumber(2), noNumber(1), noNumber(1)].join('\n');
    logs = await logFolder({
      ...captures,
      'windows/dt=2020-10-01/a-unnumbered.json': `${lines}\n`,
      'windows/dt=2020-10-01/b-unnumbered.json': `${noNumber(2)}\n${lines}\n`,
    });
    windowsFiles = Object.keys(captures).length + 2;
    const keyPath = await makeKey();
    const request = { kind: 'review', from: '2020-08-06', to: '2020-10-24' } as const;
    whole = (await localExport(logs.root, request, { keyPath })).result.pack;
    // A bound of one byte: every file is a part of its own.
    inParts = (await localExport(logs.root, request, { keyPath, statementInputBytes: 1 })).result.pack;
  }, 180_000);
  afterAll(async () => {
    await logs?.remove();
  });

  it('runs one statement per file, each recorded in the pack', () => {
    expect(whole.queries.filter((q) => q.name.startsWith('normalise-windows')).map((q) => q.name)).toEqual([
      'normalise-windows',
    ]);
    const parts = inParts.queries.filter((q) => q.name.startsWith('normalise-windows'));
    expect(parts.map((q) => q.name)).toEqual(
      Array.from({ length: windowsFiles }, (_, i) => `normalise-windows-part-${i + 1}-of-${windowsFiles}`),
    );
    // Together they read what the one statement read, line for line.
    expect(parts.reduce((sum, q) => sum + q.rows, 0)).toBe(whole.queries[0]?.rows);
  });

  it('gives the same evidence as one statement, but for the list of statements', () => {
    const { queries: _a, ...restWhole } = whole;
    const { queries: _b, ...restParts } = inParts;
    expect(restParts).toEqual(restWhole);
    // The records named by their line (no record number) went through the numbering of identical
    // lines in both: the pack says how many there are.
    expect(whole.limitations.some((l) => /^\d+ windows records carry no record number/.test(l))).toBe(true);
    expect(whole.sessions.length).toBeGreaterThan(0);
  });
});
