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
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
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
];

await describeConformance('OCSF conformance', DATASETS);
