/**
 * Linux auditd and auth.log, DuckDB vs Trino: every query of the export gives the same rows and
 * evidence.json is the same bytes (bar the engine-specific fields, see conformance-harness.ts), on
 * the real datasets (../shared/datasets/linux: go-libaudit, otrf) and on the sample generator's
 * output. Trino reads the raw-line TEXTFILE tables `linux_auditd_raw` and `linux_auth_raw` over
 * `<source>/dt=YYYY-MM-DD/`.
 *
 * The real captures are auditd logs (and, in otrf, JSON syslog exports): no real auth.log is
 * public here. Each capture is staged under both sources, so that the auth.log reader's rejection
 * path (every line `malformed_line`) is compared on real bytes too; the sample covers its events.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { generateLinuxSample } from '../../sample/linux-sample.ts';
import { dataset } from '../helpers/datasets.ts';
import { type ConformanceDataset, describeConformance } from './conformance-suite.ts';

const SOURCES = ['linux_auditd', 'linux_auth'] as const;

/** The UTC day of a capture's first `msg=audit(<epoch>` stamp (its partition), else `fallback`. */
async function firstDay(path: string, fallback?: string): Promise<string> {
  let min: number | null = null;
  for (const m of (await readFile(path, 'utf8')).matchAll(/audit\((\d{9,10})\./g)) {
    const s = Number(m[1]);
    if (min === null || s < min) min = s;
  }
  if (min === null) {
    if (fallback === undefined) throw new Error(`no audit stamp in ${path}`);
    return fallback;
  }
  return new Date(min * 1000).toISOString().slice(0, 10);
}

/** Copies each capture into `<source>/dt=<its first day>/` for both Linux sources. */
async function stageCaptures(root: string, files: readonly { path: string; day?: string }[]): Promise<void> {
  for (const f of files) {
    const day = await firstDay(f.path, f.day);
    for (const source of SOURCES) {
      const dir = join(root, source, `dt=${day}`);
      await mkdir(dir, { recursive: true });
      await copyFile(f.path, join(dir, basename(f.path)));
    }
  }
}

const GO_LIBAUDIT = [
  'audit-rhel6.log',
  'audit-rhel7.log',
  'audit-ubuntu14.log',
  'audit-ubuntu16.log',
  'audit-ubuntu17.log',
  'test2.log',
  'test3.log',
];
const OTRF = [
  'sh_arp_cache_2020-11-10074812.log',
  'sh_binary_padding_dd_2020-11-10081941.log',
  'syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json',
  'syslog_sysmon_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json',
];

const review = (name: string, from: string, to: string) => ({
  name,
  request: { kind: 'review' as const, sources: [...SOURCES], from, to },
});

const DATASETS: readonly ConformanceDataset[] = [
  {
    // Captures span months to years; each is in the partition of its first record, and the windows
    // (at most 366 days) cover every partition: test2 2007, test3 2015, rhel7/rhel6/ubuntu16
    // 2016-12 to 2017-04, ubuntu17/ubuntu14 2018.
    name: 'go-libaudit',
    sources: SOURCES,
    stage: (root) =>
      stageCaptures(
        root,
        GO_LIBAUDIT.map((f) => ({ path: dataset('linux', 'go-libaudit', f) })),
      ),
    cases: [
      review('go-libaudit 2007 (test2)', '2007-01-01', '2008-01-01'),
      review('go-libaudit 2015 (test3)', '2015-06-01', '2016-06-01'),
      review('go-libaudit 2016-2017 (rhel7, rhel6, ubuntu16)', '2016-12-01', '2017-12-01'),
      review('go-libaudit 2018 (ubuntu17, ubuntu14)', '2018-01-01', '2019-01-01'),
      {
        name: 'go-libaudit rhel7 incident (every session and orphan)',
        request: {
          kind: 'incident',
          incidentId: 'IR-7',
          hosts: ['AUDIT-RHEL7'],
          sources: [...SOURCES],
          from: '2016-12-07T00:00:00Z',
          to: '2016-12-08T00:00:00Z',
        },
      },
    ],
  },
  {
    name: 'otrf-linux',
    sources: SOURCES,
    stage: (root) =>
      stageCaptures(
        root,
        OTRF.map((f) => ({
          path: dataset('linux', 'otrf', f),
          day: /_(\d{4}-\d{2}-\d{2})\d{6}\./.exec(f)?.[1],
        })),
      ),
    cases: [
      {
        name: 'otrf 2020-11-10 incident on SH',
        request: {
          kind: 'incident',
          incidentId: 'IR-8',
          hosts: ['SH'],
          sources: [...SOURCES],
          from: '2020-11-10T00:00:00Z',
          to: '2020-11-11T00:00:00Z',
        },
      },
      review('otrf 2022-05-11 (auoms and sysmon syslog)', '2022-05-11', '2022-05-12'),
    ],
  },
  {
    // The seeded sample: ssh, console and cron logins, sudo/su, account changes, reboots, unset
    // sessions, gzip and plain files; a review pack and an incident pack over every host.
    name: 'linux-sample',
    sources: SOURCES,
    stage: async (root) => {
      await generateLinuxSample({ seed: 5, hosts: 4, days: 3, from: '2024-06-03', outDir: root });
    },
    cases: [
      { ...review('sample review', '2024-06-03', '2024-06-06'), config: 'demo' },
      {
        name: 'sample incident (every host)',
        request: {
          kind: 'incident',
          incidentId: 'IR-3',
          hosts: ['LNX01', 'LNX02', 'LNX03', 'LNX04'],
          sources: [...SOURCES],
          from: '2024-06-03',
          to: '2024-06-06',
        },
        config: 'demo',
      },
    ],
  },
];

await describeConformance('Linux conformance', DATASETS);
