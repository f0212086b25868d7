/**
 * DuckDB and Trino give the same rows for every query of the export, and the same evidence.json
 * (bar the fields that are engine-specific by design: see conformance-harness.ts), on every real
 * Windows dataset under ../shared/datasets/windows/ and on the sample generator's output.
 *
 * Needs a Trino (`npm run trino:start`, then TRINO_URL); skipped with the reason without one,
 * failed without one when SESSIONTRAIL_REQUIRE_TRINO=1.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, DEFAULT_CONFIG, loadConfig } from '../../lib/config/config.ts';
import type { ExportRequest } from '../../lib/evidence/request.ts';
import { generateWindowsSample } from '../../lib/sample/windows-sample.ts';
import { dataset } from '../helpers/datasets.ts';
import { makeKey } from '../helpers/local-export.ts';
import {
  registerRawTables,
  removeDir,
  type StagedLogs,
  testEngine,
  trinoAvailability,
  uniqueName,
} from '../query/trino/trino-test-server.ts';
import {
  comparableEvidence,
  diffJson,
  diffSteps,
  exportOnDuckDb,
  exportOnTrino,
} from './conformance-harness.ts';

const trino = await trinoAvailability();
const DEMO_CONFIG = new URL('../../config/demo.config.json', import.meta.url).pathname;
const TIMEOUT = 600_000;

interface Case {
  readonly name: string;
  readonly request: ExportRequest;
  readonly config?: 'demo';
}

/** A staged logs root (bucket layout) and its Hive raw table, shared by the cases of one dataset. */
interface Dataset {
  readonly name: string;
  stage(root: string): Promise<void>;
  readonly cases: readonly Case[];
}

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

const DATASETS: readonly Dataset[] = [
  {
    name: 'otrf',
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
          hosts: ['DC01', 'SRV01', 'SRV02', 'SRV03', 'WS01', 'WS02', 'WS03', 'WS04'],
          from: '2024-05-06',
          to: '2024-05-09',
        },
        config: 'demo',
      },
    ],
  },
];

if (trino.unavailable !== null && trino.required) {
  describe('cross-engine conformance (Trino required)', () => {
    it('has a reachable Trino', () => {
      throw new Error(`SESSIONTRAIL_REQUIRE_TRINO=1 but ${trino.unavailable}`);
    });
  });
}

describe.skipIf(trino.unavailable !== null)(
  `cross-engine conformance, DuckDB vs Trino${trino.unavailable === null ? '' : ` (skipped: ${trino.unavailable})`}`,
  () => {
    let keyPath: string;
    let demoConfig: Config;
    beforeAll(async () => {
      keyPath = await makeKey();
      demoConfig = await loadConfig(DEMO_CONFIG);
    });

    describe.each(DATASETS)('dataset $name', (ds) => {
      let root: string;
      let staged: StagedLogs;
      const admin = () => testEngine(trino.url as string, rawSchema, uniqueName('admin'));
      const rawSchema = uniqueName(`raw_${ds.name.replaceAll('-', '_')}`);

      beforeAll(async () => {
        root = await mkdtemp(join(tmpdir(), 'st-conf-logs-'));
        await ds.stage(root);
        staged = await registerRawTables(admin(), root, rawSchema, ['windows']);
      }, TIMEOUT);

      afterAll(async () => {
        await staged?.remove();
        await removeDir(root);
      });

      it.each(ds.cases)(
        '$name: every query gives the same rows and evidence.json is the same bytes',
        async (c) => {
          const input = {
            root,
            keyPrefix: staged.keyPrefix,
            request: c.request,
            config: c.config === 'demo' ? demoConfig : DEFAULT_CONFIG,
            keyPath,
          };
          const duck = await exportOnDuckDb(input);
          const tri = await exportOnTrino(testEngine(trino.url as string, rawSchema), input);

          const problems = diffSteps(duck.steps, tri.steps);
          const ev = comparableEvidence(duck, tri);
          if (ev.duck !== ev.trino) {
            problems.push(
              `evidence.json differs beyond the engine-specific fields:\n  ${diffJson(JSON.parse(ev.duck), JSON.parse(ev.trino)).join('\n  ')}`,
            );
          }
          expect(problems.join('\n\n')).toBe('');
          // The pack is not empty: the comparison covered real rows.
          expect(duck.steps.find((s) => s.name === 'normalise-windows')?.rows.length).toBeGreaterThan(0);
          expect(tri.result.packId).toBe(duck.result.packId);
          expect(tri.result.pack.tool.engine.name).toBe('trino');
        },
        TIMEOUT,
      );
    });
  },
);
