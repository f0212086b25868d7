/**
 * DuckDB and Trino give the same rows for every query of the export, and the same evidence.json
 * (bar the fields that are engine-specific by design: see conformance-harness.ts), on every real
 * Windows dataset under ../shared/datasets/windows/ and on the sample generator's output.
 *
 * Needs a Trino (`npm run trino:start`, then TRINO_URL); skipped with the reason without one,
 * failed without one when SESSIONTRAIL_REQUIRE_TRINO=1.
 */
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { generateWindowsSample } from '../../sample/windows-sample.ts';
import { dataset } from '../helpers/datasets.ts';
import { type ConformanceDataset, describeConformance, type KnownDifference } from './conformance-suite.ts';

/**
 * Documented, not shimmed: the line of a record that has no record number (the flat layouts without
 * EventRecordID, e.g. the OTRF psh_control_panel capture). DuckDB numbers a file's lines and cites
 * `#line=<n>`; a Hive text table on Trino numbers no lines (`$path`, `$file_size` only), so the
 * source cites the line's digest there (`#sha256=<16 hex>`). Both forms are rewritten to
 * `#line=(position)` before comparing; the file, the record's identity (the same on both engines:
 * file, line digest, which identical line) and everything else are compared.
 */
const LINE_POSITION: KnownDifference = {
  what: 'line of a record without a record number: known to DuckDB, not to a Hive table on Trino',
  normalise: (text) => text.replace(/#(?:line=\d+|sha256=[0-9a-f]{16})(?=["\s#]|$)/g, '#line=(position)'),
};

const OTRF_DIR = dataset('windows', 'otrf');
const EVTX_DIR = dataset('windows', 'evtx-to-mitre-attack', 'jsonl');

/** OTRF captures: one file a day, put in the partition of the day in its name. */
const OTRF_FILES = [
  ['covenant_psremoting_command_2020-08-06115603.json.gz', '2020-08-06'],
  ['empire_invoke_runas_2019-05-18204300.json.gz', '2019-05-18'],
  ['empire_msbuild_dcerpc_wmi_smb_2020-09-20173857.json.gz', '2020-09-20'],
  ['empire_wmic_add_user_backdoor_2020-09-14080546.json.gz', '2020-09-14'],
  ['psh_control_panel_execution_2020-10-2201312134.json.gz', '2020-10-22'],
  ['rdp_interactive_taskmanager_lsass_dump_2020-09-22043748.json.gz', '2020-09-22'],
] as const;

const nextDay = (day: string) => new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);

/** The UTC day of a evtx_dump JSON-lines file's first event (its partition). */
async function firstDay(path: string): Promise<string> {
  let min: string | null = null;
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const m = /"SystemTime": *"(\d{4}-\d{2}-\d{2})/.exec(line);
    if (m?.[1] !== undefined && (min === null || m[1] < min)) min = m[1];
  }
  if (min === null) throw new Error(`no SystemTime in ${path}`);
  return min;
}

const DATASETS: readonly ConformanceDataset[] = [
  {
    name: 'otrf',
    sources: ['windows'],
    known: [LINE_POSITION],
    stage: async (root) => {
      for (const [file, day] of OTRF_FILES) {
        const dir = join(root, 'windows', `dt=${day}`);
        await mkdir(dir, { recursive: true });
        await copyFile(join(OTRF_DIR, file), join(dir, file));
      }
    },
    cases: OTRF_FILES.map(([file, day]) => ({
      name: `otrf ${file}`,
      request: { kind: 'review', sources: ['windows'], from: day, to: nextDay(day) },
    })),
  },
  {
    // 90 captures by ATT&CK technique, kept in their technique folders inside each partition (the
    // local reader and Hive both read sub-folders); three windows cover all of them.
    name: 'evtx-to-mitre-attack',
    sources: ['windows'],
    known: [LINE_POSITION],
    stage: async (root) => {
      const entries = await readdir(EVTX_DIR, { recursive: true, withFileTypes: true });
      for (const e of entries.filter((x) => x.isFile() && x.name.endsWith('.jsonl'))) {
        const path = join(e.parentPath, e.name);
        const target = join(root, 'windows', `dt=${await firstDay(path)}`, relative(EVTX_DIR, path));
        await mkdir(dirname(target), { recursive: true });
        await copyFile(path, target);
      }
    },
    cases: [
      {
        name: 'evtx-to-mitre-attack 2020',
        request: { kind: 'review', sources: ['windows'], from: '2020-07-01', to: '2020-09-01' },
      },
      {
        name: 'evtx-to-mitre-attack 2021-2022',
        request: { kind: 'review', sources: ['windows'], from: '2021-02-01', to: '2022-01-25' },
      },
      {
        name: 'evtx-to-mitre-attack 2023',
        request: { kind: 'review', sources: ['windows'], from: '2023-09-25', to: '2023-09-26' },
      },
    ],
  },
  {
    // The seeded sample (the ground-truth test's parameters): every layout, duplicates, UAC pairs,
    // reboots, log clears, bad lines; a review pack and an incident pack over every host.
    name: 'sample',
    sources: ['windows'],
    known: [LINE_POSITION],
    stage: async (root) => {
      await generateWindowsSample({ seed: 7, hosts: 8, days: 3, from: '2024-05-06', outDir: root });
    },
    cases: [
      {
        name: 'sample review',
        request: { kind: 'review', sources: ['windows'], from: '2024-05-06', to: '2024-05-09' },
        config: 'demo',
      },
      {
        name: 'sample incident (every host, unprivileged sessions too)',
        request: {
          kind: 'incident',
          sources: ['windows'],
          incidentId: 'IR-1',
          // every host of the 8-host sample (planHosts: DC01, 2 servers, 5 workstations)
          hosts: ['DC01', 'SRV01', 'SRV02', 'WS01', 'WS02', 'WS03', 'WS04', 'WS05'],
          from: '2024-05-06',
          to: '2024-05-09',
        },
        config: 'demo',
      },
    ],
  },
];

await describeConformance('cross-engine conformance, Windows', DATASETS);
