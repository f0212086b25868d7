/**
 * OCSF, DuckDB vs Trino: every query of the export gives the same rows and evidence.json is the same
 * bytes (bar the engine-specific fields, see conformance-harness.ts, and the one documented
 * difference below), on the Security Lake Parquet samples (../shared/datasets/ocsf) and on the
 * sample generator's JSON lines. Trino reads the Parquet files as the Hive PARQUET table of
 * lib/sources/ocsf-raw-table.ts (columns and struct fields by name), and the JSON lines as a
 * raw-line table in the same `region=…/accountId=…/eventDay=…` folders (`asLinesTable`).
 *
 * Documented, not shimmed: a record's **position** in its file. DuckDB knows it (the line number,
 * the Parquet row number); Trino's Hive tables expose no row number (`$path`, `$file_size`, … only),
 * so `jsonRecords` gives NULL there and the OCSF source names the record by its `metadata.uid`
 * instead (`#record=uid:<uid>` vs `#record=<n>`; a skipped record: no `#record=` vs `#record=<n>`).
 * The suite rewrites every form to `#record=(position)` before comparing; the file and everything
 * else is compared.
 */
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { OCSF_PARQUET_TABLE } from '../../lib/sources/ocsf-raw-table.ts';
import { asLinesTable } from '../../lib/sources/raw-table.ts';
import { generateOcsfSample } from '../../sample/ocsf-sample.ts';
import { dataset } from '../helpers/datasets.ts';
import { type ConformanceDataset, describeConformance, type KnownDifference } from './conformance-suite.ts';

const SAMPLES = dataset('ocsf', 'security-lake-samples', '1.0.0-rc.2', 'CLOUD_TRAIL');

const RECORD_POSITION: KnownDifference = {
  what: 'record position in its file: known to DuckDB, not to a Hive table on Trino',
  // A skipped record without a position has no `#record=` at all on Trino.
  normalise: (text) =>
    // (`#version=` may follow: the record is one of several versions that disagree, issue 10).
    text.replace(
      /(\.(?:json|parquet))(?:#record=(?:\d+|uid:[^"#\s]*))?(?=["\s#]|$)/g,
      '$1#record=(position)',
    ),
};

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
    known: [RECORD_POSITION],
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
    specs: { ocsf: asLinesTable(OCSF_PARQUET_TABLE) },
    stage: async (root) => {
      await generateOcsfSample({ seed: 3, days: 3, from: '2024-04-01', outDir: root });
    },
    known: [RECORD_POSITION],
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
