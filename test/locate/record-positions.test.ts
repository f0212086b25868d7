/**
 * The record staging gives each record of an OCSF JSON file the position DuckDB's `jsonRecords`
 * gives it (over the local intake's lines), so that a pack cites `#record=<n>` alike on every
 * engine: JSON lines with blank, malformed, lenient and rejected lines, gzip (one member and
 * several), pretty-printed documents, arrays and `Records` documents with rejected records, CR LF.
 * Both sides run for real: the intake and DuckDB, the staging over a local folder.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLocalLogs } from '../../lib/locate/local-logs.ts';
import { stageLocalFolder } from '../../lib/locate/record-staging.ts';
import { duckdbDialect } from '../../lib/query/dialects/duckdb-dialect.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { ParamList } from '../../lib/query/sql.ts';
import { OCSF_JSON_TABLE } from '../../lib/sources/ocsf-raw-table.ts';
import { inFolder, type LogFolder, logFolder } from '../helpers/log-folder.ts';

const DAY = 'ocsf/region=us-east-1/accountId=111122223333/eventDay=20240401';
const rec = (n: number, extra: object = {}) =>
  JSON.stringify({ class_uid: 3002, time: 1711929600000 + n, metadata: { uid: `u-${n}` }, ...extra });
const pretty = (v: unknown) => JSON.stringify(v, null, 2);

/** File name → content: the cases where a reader could number records differently. */
const FILES: Readonly<Record<string, string | Buffer>> = {
  'lines.json': `${rec(1)}\n\n${rec(2)}\nnot json\n   \n${rec(3)}\n`,
  'lines-crlf.json': `${rec(1)}\r\n${rec(2)}\r\n`,
  'lines.json.gz': gzipSync(`${rec(1)}\n${rec(2)}\n{"cut":\n${rec(3)}\n`),
  'members.json.gz': Buffer.concat([gzipSync(`${rec(1)}\n`), gzipSync(`${rec(2)}\n${rec(3)}\n`)]),
  // Trailing comma and NaN: DuckDB's json_valid takes them, Trino's json_parse does not.
  'lenient.json': `{"class_uid":3002,}\n${rec(1)}\n{"class_uid":NaN}\n`,
  // A control character: rejected by the intake, its line a marker.
  'control.json': `${rec(1)}\n{"class_uid":"\u0007"}\n${rec(2)}\n`,
  'one-line.json': rec(7),
  'one-bad-line.json': 'nope',
  // A whitespace-only line before the one record: the file is read as stored.
  'blank-first.json': `  \n${rec(8)}\n`,
  'pretty-object.json': `${pretty(JSON.parse(rec(9)))}\n`,
  'pretty-array.json': pretty([JSON.parse(rec(1)), JSON.parse(rec(2)), JSON.parse(rec(3))]),
  // The second of three elements holds a lone surrogate: rejected alone.
  'array-bad.json': `[${rec(1)},${rec(2, { x: '@@' })},${rec(3)}]`.replace('"@@"', '"\\ud800"'),
  // One element left of two: the record at its index, not 0.
  'array-one-left.json': `[${rec(1, { x: '@@' })},${rec(2)}]`.replace('"@@"', '"\\ud800"'),
  'records.json.gz': gzipSync(JSON.stringify({ Records: [JSON.parse(rec(1)), JSON.parse(rec(2))] })),
  // `Records` after another member: one document whose Records are the records.
  'records-later.json': pretty({ version: 1, Records: [JSON.parse(rec(4)), JSON.parse(rec(5))] }),
  // A nested array left alone in an array.
  'nested-array.json': `[[1,2,3],{"x":"\\ud800"}]`,
  'cut-array.json': `[${rec(1)},${rec(2)},{"class_uid":`,
  'pretty-then-junk.json': `${pretty(JSON.parse(rec(1)))}\n}\n`,
};

type Row = { key: string; position: number | null; record: boolean; problem: string | null };
const order = (rows: Row[]) =>
  [...rows].sort((a, b) =>
    a.key !== b.key ? (a.key < b.key ? -1 : 1) : (a.position ?? -1) - (b.position ?? -1),
  );

describe('record positions: the staging and DuckDB give every record of a JSON file the same position', () => {
  let folder: LogFolder;
  let root: string;
  beforeAll(async () => {
    folder = await logFolder(inFolder(DAY, FILES), 'st-positions-');
    root = folder.root;
  });
  afterAll(async () => {
    await folder.remove();
  });

  it('stages each file into the rows DuckDB reads from it: key, position, record or problem', async () => {
    // DuckDB, as a local export reads the files.
    const local = await findLocalLogs(root, 'ocsf', Date.parse('2024-04-01'), Date.parse('2024-04-02'));
    const engine = await DuckDbEngine.open({ threads: 1 });
    let duck: Row[];
    try {
      const p = new ParamList();
      const sql = `SELECT object_key, position, record IS NOT NULL AS has_record, problem FROM ${duckdbDialect.jsonRecords({ kind: 'files', files: local.files }, p)}`;
      const { rows } = await engine.select(p.finish('records', sql));
      duck = rows.map((r) => ({
        key: String(r.object_key),
        position: r.position === null ? null : Number(r.position),
        record: r.has_record === true,
        problem: r.problem === null ? null : String(r.problem),
      }));
    } finally {
      await engine.close();
      await local.cleanup();
    }

    // The staging, as trino-tables runs it over the same folder.
    const staged = await stageLocalFolder(root, OCSF_JSON_TABLE);
    const stagedRows: Row[] = [];
    const dir = join(root, OCSF_JSON_TABLE.location);
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const text = gunzipSync(await readFile(join(e.parentPath, e.name))).toString('utf8');
      for (const line of text.split('\n').filter((l) => l !== '')) {
        const j = JSON.parse(line) as { key: string; position: number; record?: unknown; problem?: string };
        stagedRows.push({
          key: j.key,
          position: j.position,
          record: 'record' in j,
          problem: j.problem ?? null,
        });
      }
      expect(relative(dir, e.parentPath).split(sep).join('/')).toBe(DAY.slice('ocsf/'.length));
    }

    expect(staged.map((f) => f.object.key)).toEqual(
      Object.keys(FILES)
        .map((f) => `${DAY}/${f}`)
        .sort(),
    );
    expect(order(stagedRows)).toEqual(order(duck));
    // The cases are live: malformed lines, rejected records and document shapes all occur.
    const at = (name: string) =>
      order(duck)
        .filter((r) => r.key === `${DAY}/${name}`)
        .map((r) => (r.record ? r.position : `${r.position}:${r.problem}`));
    expect(at('lines.json')).toEqual([0, 2, '3:malformed_json', 5]);
    expect(at('lenient.json')).toEqual(['0:malformed_json', 1, '2:malformed_json']);
    expect(at('control.json')).toEqual([0, 2]);
    expect(at('pretty-object.json')).toEqual([0]);
    expect(at('pretty-array.json')).toEqual([0, 1, 2]);
    expect(at('array-bad.json')).toEqual([0, 2]);
    expect(at('array-one-left.json')).toEqual([1]);
    expect(at('records-later.json')).toEqual([0, 1]);
    expect(at('blank-first.json')).toEqual([0]);
    expect(at('lines.json.gz')).toEqual([0, 1, '2:malformed_json', 3]);
    expect(at('members.json.gz')).toEqual([0, 1, 2]);
  });
});
