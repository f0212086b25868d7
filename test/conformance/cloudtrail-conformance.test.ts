/**
 * CloudTrail, DuckDB vs Trino: every query of the export gives the same rows and evidence.json is
 * the same bytes (bar the engine-specific fields, see conformance-harness.ts), on the real datasets
 * (../shared/datasets/cloudtrail: invictus-ir, stratus-red-team) and on the sample generator's
 * output. Trino reads the raw-document table over CloudTrail's own layout
 * (`cloudtrail/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`, lib/sources/cloudtrail-raw-table.ts),
 * split per record by the staging, partitions registered folder by folder.
 *
 * The table reads the staging's per-record copies (lib/locate/record-staging.ts), made by the
 * local intake's splitter, so a document's shape no longer matters: stratus-red-team's files are
 * **pretty-printed** JSON arrays (one document over many lines), staged here as minified copies
 * (`<name>.minified.json`, what CloudTrail delivers), and a last test reads the pretty-printed
 * originals the same on both engines (before the staging, Trino saw each of their lines as a
 * malformed record).
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLocalLogs } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../lib/query/query-engine.ts';
import { buildCloudTrailNormaliseQuery } from '../../lib/sources/cloudtrail.ts';
import { generateCloudTrailSample } from '../../sample/cloudtrail-sample.ts';
import { dataset } from '../helpers/datasets.ts';
import {
  registerRawTables,
  removeDir,
  testEngine,
  trinoAvailability,
  uniqueName,
} from '../query/trino/trino-test-server.ts';
import { diffRows } from './conformance-harness.ts';
import { type ConformanceDataset, describeConformance } from './conformance-suite.ts';

const INVICTUS = dataset('cloudtrail', 'invictus-ir', 'CloudTrail');
const STRATUS = dataset('cloudtrail', 'stratus-red-team');

/** `<account>_CloudTrail_<region>_<YYYYMMDD>T…` → the folder CloudTrail delivers it to. */
function deliveryFolder(account: string, region: string, ymd: string): string {
  return join(
    'cloudtrail',
    'AWSLogs',
    account,
    'CloudTrail',
    region,
    ymd.slice(0, 4),
    ymd.slice(4, 6),
    ymd.slice(6, 8),
  );
}

/** Stratus files, each as the minified copy CloudTrail would deliver, in its account/region/day folder. */
async function stageStratus(root: string, minify: boolean): Promise<void> {
  for (const name of (await readdir(STRATUS)).filter((n) => n.endsWith('.json')).sort()) {
    const text = await readFile(join(STRATUS, name), 'utf8');
    const records = JSON.parse(text) as {
      recipientAccountId: string;
      awsRegion: string;
      eventTime: string;
    }[];
    const first = [...records].sort((a, b) => (a.eventTime < b.eventTime ? -1 : 1))[0];
    if (first === undefined) throw new Error(`no records in ${name}`);
    const dir = join(
      root,
      deliveryFolder(
        first.recipientAccountId,
        first.awsRegion,
        first.eventTime.slice(0, 10).replaceAll('-', ''),
      ),
    );
    await mkdir(dir, { recursive: true });
    if (minify)
      await writeFile(join(dir, name.replace(/\.json$/, '.minified.json')), JSON.stringify(records));
    else await copyFile(join(STRATUS, name), join(dir, name));
  }
}

/**
 * Documented, not shimmed: a fractional JSON number inside a record's text (the call's parameters,
 * shown in `command_line`) is written by Trino's JSON functions as Java writes a double,
 * `1.688560107857E9`, and by DuckDB in the shortest plain form, `1688560107.857`. Trino has no JSON
 * function that keeps a number's text (json_extract, json_query and json_parse all re-serialise it).
 * Both are read back to the same double before comparing; everything else in the text is compared.
 * (invictus-ir: two DevOps Guru calls with `StartTimeRange.FromTime` in epoch seconds.)
 */
const JAVA_DOUBLE_TEXT = {
  what: 'fractional JSON numbers in exponent form (Trino) vs plain form (DuckDB) in record text',
  normalise: (text: string) => text.replace(/(?<![\w.])-?\d\.\d+E-?\d+(?![\w.])/g, (n) => String(Number(n))),
};

const DATASETS: readonly ConformanceDataset[] = [
  {
    name: 'invictus-ir',
    sources: ['cloudtrail'],
    known: [JAVA_DOUBLE_TEXT],
    stage: async (root) => {
      for (const name of (await readdir(INVICTUS)).filter((n) => n.endsWith('.json'))) {
        const m = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8})T/.exec(name);
        if (m === null) throw new Error(`unexpected CloudTrail file name ${name}`);
        const dir = join(root, deliveryFolder(m[1] as string, m[2] as string, m[3] as string));
        await mkdir(dir, { recursive: true });
        await copyFile(join(INVICTUS, name), join(dir, name));
      }
    },
    cases: [
      {
        name: 'invictus-ir review',
        request: { kind: 'review', sources: ['cloudtrail'], from: '2023-07-10', to: '2023-07-11' },
      },
      {
        name: 'invictus-ir incident over the account',
        request: {
          kind: 'incident',
          incidentId: 'IR-CT',
          hosts: ['123837392027'],
          sources: ['cloudtrail'],
          from: '2023-07-10',
          to: '2023-07-11',
        },
      },
    ],
  },
  {
    name: 'stratus-red-team-minified',
    sources: ['cloudtrail'],
    known: [JAVA_DOUBLE_TEXT],
    stage: (root) => stageStratus(root, true),
    cases: [
      {
        name: 'stratus-red-team (minified copies) review',
        request: { kind: 'review', sources: ['cloudtrail'], from: '2024-07-30', to: '2024-12-01' },
      },
    ],
  },
  {
    // The seeded sample: SSO role chains, console sessions, long-term-key bursts, service events,
    // duplicates, a file cut off mid-record; a review pack and an incident pack over the account.
    name: 'cloudtrail-sample',
    sources: ['cloudtrail'],
    stage: async (root) => {
      // Every file of the sample, the one cut off mid-record included: the local intake and the
      // staging before the table (lib/locate/record-staging.ts) split it with the same code,
      // so both engines read its whole records and the cut one is rejected alone.
      await generateCloudTrailSample({ seed: 11, days: 3, from: '2024-03-04', outDir: root });
      const files = (await readdir(root, { recursive: true })) as string[];
      if (!files.some((f) => f.includes('CutOffMidRecord')))
        throw new Error('the sample has no file cut off mid-record any more');
    },
    cases: [
      {
        name: 'sample review',
        request: { kind: 'review', sources: ['cloudtrail'], from: '2024-03-04', to: '2024-03-07' },
        config: 'demo',
      },
      {
        name: 'sample incident (every session)',
        request: {
          kind: 'incident',
          incidentId: 'IR-2',
          hosts: ['111122223333'],
          sources: ['cloudtrail'],
          from: '2024-03-04',
          to: '2024-03-06',
        },
        config: 'demo',
      },
    ],
  },
];

await describeConformance('CloudTrail conformance', DATASETS);

const trino = await trinoAvailability();

describe.skipIf(trino.unavailable !== null)('CloudTrail pretty-printed files, staged per record', () => {
  it('read the same on both engines: every record, none rejected', async () => {
    const root = await (await import('node:fs/promises')).mkdtemp(
      join((await import('node:os')).tmpdir(), 'st-conf-pretty-'),
    );
    const schema = uniqueName('raw_pretty');
    const tri = testEngine(trino.url as string, schema);
    const duck = await DuckDbEngine.open({ threads: 1 });
    try {
      await stageStratus(root, false);
      const staged = await registerRawTables(tri, root, schema, ['cloudtrail']);
      const from = Date.parse('2024-07-30');
      const to = Date.parse('2024-12-01');
      const found = await findLocalLogs(root, 'cloudtrail', from, to);
      const read = async (
        engine: DuckDbEngine | typeof tri,
        q: ReturnType<typeof buildCloudTrailNormaliseQuery>,
      ) => {
        await engine.materialize('pretty', q);
        return (
          await engine.select({
            name: 'r',
            sql: `SELECT * FROM ${engine.dialect.workTable('pretty')}`,
            params: [],
          })
        ).rows as Row[];
      };
      const d = await read(
        duck,
        buildCloudTrailNormaliseQuery(duck.dialect, { kind: 'files', files: found.files }),
      );
      const t = await read(
        tri,
        buildCloudTrailNormaliseQuery(tri.dialect, tri.rawInput('cloudtrail', from, to, staged.keyPrefix)),
      );
      expect(diffRows('pretty', d, t)).toBeNull();
      expect(d.length).toBeGreaterThan(0);
      expect(t.filter((r) => r.status === 'rejected')).toHaveLength(0);
      // The 35 files of stratus-red-team (../shared/datasets/README.md).
      expect(new Set(t.map((r) => basename(String(r.object_key)))).size).toBe(35);
      await staged.remove();
    } finally {
      await duck.close();
      await tri.close();
      await removeDir(root);
    }
  }, 120_000);
});
