/**
 * OCSF, DuckDB vs Trino: every query of the export gives the same rows and evidence.json is the same
 * bytes (bar the engine-specific fields, see conformance-harness.ts), on the Security Lake Parquet
 * samples (../shared/datasets/ocsf) and on the sample generator's JSON lines, with no difference
 * set aside. Trino reads the Parquet files as the Hive PARQUET table of
 * lib/sources/ocsf-raw-table.ts (columns and struct fields by name), and the JSON files through
 * the staged table `OCSF_JSON_TABLE`: split per record by lib/locate/record-staging.ts into
 * `ocsf-staging/records/region=…/accountId=…/eventDay=…`, each line carrying the record's position
 * in its file, so a record is cited `#record=<n>` on both engines. A Parquet row is cited by its
 * `metadata.uid` on both (a Hive table exposes no row number).
 */
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { OCSF_JSON_TABLE } from '../../lib/sources/ocsf-raw-table.ts';
import { generateOcsfSample } from '../../sample/ocsf-sample.ts';
import { dataset } from '../helpers/datasets.ts';
import { type ConformanceDataset, describeConformance } from './conformance-suite.ts';

const SAMPLES = dataset('ocsf', 'security-lake-samples', '1.0.0-rc.2', 'CLOUD_TRAIL');

/** Each Parquet sample in the Security Lake folder of the day of its record. */
async function stageParquet(root: string): Promise<void> {
  const duck = await DuckDbEngine.open({ threads: 1 });
  try {
    for (const entry of await readdir(SAMPLES, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
      const path = join(entry.parentPath, entry.name);
      const { rows } = await duck.select({
        name: 'day',
        sql: `SELECT strftime(make_timestamp(min(time) * 1000), '%Y%m%d') AS day FROM read_parquet(?)`,
        params: [path],
      });
      const dir = join(
        root,
        'ocsf',
        'region=us-east-1',
        'accountId=111122223333',
        `eventDay=${rows[0]?.day}`,
      );
      await mkdir(dir, { recursive: true });
      // The class folder in the name: two classes hold files of the same name.
      const folder = entry.parentPath
        .split('/')
        .pop()
        ?.replace(/[^A-Za-z0-9_]+/g, '_');
      await copyFile(path, join(dir, `${folder}-${entry.name}`));
    }
  } finally {
    await duck.close();
  }
}

/**
 * OCSF JSON files in every shape whose records a reader could number differently (the cases of
 * test/locate/record-positions.test.ts): blank, malformed, lenient and rejected lines, gzip of one
 * and of several members, pretty-printed documents, arrays with rejected elements, CR LF.
 */
async function stageJsonShapes(root: string): Promise<void> {
  const dir = join(root, 'ocsf', 'region=us-east-1', 'accountId=111122223333', 'eventDay=20240401');
  await mkdir(dir, { recursive: true });
  const rec = (n: number, extra: object = {}) => ({
    class_uid: 3002,
    activity_id: 1,
    status_id: 1,
    time: Date.parse('2024-04-01T08:00:00Z') + n * 60_000,
    metadata: { uid: `shape-${n}`, version: '1.1.0' },
    device: { hostname: 'web01.corp.example' },
    user: { uid: `u${n % 3}`, name: `user${n % 3}` },
    session: { uid: `s-${n}` },
    logon_type_id: 2,
    ...extra,
  });
  const line = (n: number, extra: object = {}) => JSON.stringify(rec(n, extra));
  const surrogate = (text: string) => text.replace('"@@"', '"\\ud800"');
  const files: Record<string, string | Buffer> = {
    'lines.json': `${line(1)}\n\n${line(2)}\nnot json\n   \n${line(3)}\n`,
    'lines-crlf.json': `${line(4)}\r\n${line(5)}\r\n`,
    'lines.json.gz': gzipSync(`${line(6)}\n{"cut":\n${line(7)}\n`),
    'members.json.gz': Buffer.concat([gzipSync(`${line(8)}\n`), gzipSync(`${line(9)}\n`)]),
    'lenient.json': `{"class_uid":3002,}\n${line(10)}\n{"class_uid":NaN}\n`,
    'pretty-object.json': `${JSON.stringify(rec(11), null, 2)}\n`,
    'pretty-array.json': JSON.stringify([rec(12), rec(13)], null, 2),
    'array-bad.json': surrogate(`[${line(14)},${line(15, { x: '@@' })},${line(16)}]`),
    'array-one-left.json': surrogate(`[${line(17, { x: '@@' })},${line(18)}]`),
    'records-later.json': JSON.stringify({ version: 1, Records: [rec(19), rec(20)] }, null, 2),
  };
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
}

const HOSTS = ['111122223333', '444455556666', '112233445566'];

const DATASETS: readonly ConformanceDataset[] = [
  {
    name: 'security-lake-parquet',
    sources: ['ocsf'],
    stage: stageParquet,
    cases: [
      {
        name: 'Security Lake 2014-07-18 incident (AssumeRole)',
        request: {
          kind: 'incident',
          incidentId: 'IR-OCSF',
          hosts: HOSTS,
          // Every account of the samples, though not every one logs in each window: empty on purpose.
          allowEmpty: true,
          sources: ['ocsf'],
          from: '2014-07-18',
          to: '2014-07-19',
        },
      },
      {
        name: 'Security Lake 2016 review (web identity, load balancers, trails)',
        request: { kind: 'review', sources: ['ocsf'], from: '2016-01-01', to: '2017-01-01' },
      },
      {
        name: 'Security Lake 2019-11 to 2020-10 review (SAML, API calls)',
        request: { kind: 'review', sources: ['ocsf'], from: '2019-11-01', to: '2020-10-01' },
      },
      {
        name: 'Security Lake 2022-11 to 2023-04 incident (console sign-ins, account changes)',
        request: {
          kind: 'incident',
          incidentId: 'IR-OCSF-2',
          hosts: HOSTS,
          // Every account of the samples, though not every one logs in each window: empty on purpose.
          allowEmpty: true,
          sources: ['ocsf'],
          from: '2022-11-01',
          to: '2023-04-01',
        },
      },
    ],
  },
  {
    name: 'ocsf-sample-json-lines',
    sources: ['ocsf'],
    specs: { ocsf: OCSF_JSON_TABLE },
    stage: async (root) => {
      await generateOcsfSample({ seed: 3, days: 3, from: '2024-04-01', outDir: root });
    },
    cases: [
      {
        name: 'sample review',
        request: { kind: 'review', sources: ['ocsf'], from: '2024-04-01', to: '2024-04-04' },
        config: 'demo',
      },
      {
        name: 'sample incident (every host)',
        request: {
          kind: 'incident',
          incidentId: 'IR-4',
          hosts: ['WEB01.CORP.EXAMPLE', 'DB01.CORP.EXAMPLE', 'APP01.CORP.EXAMPLE', '111122223333'],
          sources: ['ocsf'],
          from: '2024-04-01',
          to: '2024-04-04',
        },
        config: 'demo',
      },
    ],
  },
  {
    name: 'ocsf-json-shapes',
    sources: ['ocsf'],
    specs: { ocsf: OCSF_JSON_TABLE },
    stage: stageJsonShapes,
    cases: [
      {
        name: 'every shape of JSON file, rejected records and lines cited by position',
        request: { kind: 'review', sources: ['ocsf'], from: '2024-04-01', to: '2024-04-02' },
      },
    ],
  },
];

await describeConformance('OCSF conformance', DATASETS);
