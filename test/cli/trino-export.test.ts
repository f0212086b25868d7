/**
 * `sessiontrail export --engine trino` as a user runs it against a real Trino (TRINO_URL): the demo's
 * sample logs, their raw tables created by `sessiontrail trino-tables`, and the pack compared with
 * the one DuckDB builds from the same files: evidence.json compared as bytes, inputs list included
 * (the Trino path lists the local folder through the same intake), nothing set aside: the OCSF
 * JSON files are staged per record by `trino-tables --ocsf-lines`, so their records carry the
 * positions DuckDB cites. The engine and the digests of its dialect's SQL are in the manifest, not
 * in evidence.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrinoEngine } from '../../lib/query/trino/trino-engine.ts';
import { diffJson } from '../conformance/conformance-harness.ts';
import { trinoAvailability, uniqueName } from '../query/trino/trino-test-server.ts';

const BIN = new URL('../../bin/sessiontrail.js', import.meta.url).pathname;
const CONFIG = new URL('../../config/demo.config.json', import.meta.url).pathname;
const trino = await trinoAvailability();

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

if (trino.unavailable !== null && trino.required) {
  describe('export --engine trino (Trino required)', () => {
    it('has a reachable Trino', () => {
      throw new Error(`SESSIONTRAIL_REQUIRE_TRINO=1 but ${trino.unavailable}`);
    });
  });
}

describe.skipIf(trino.unavailable !== null)(
  `sessiontrail export --engine trino on a real Trino${trino.unavailable === null ? '' : ` (skipped: ${trino.unavailable})`}`,
  () => {
    const url = trino.url as string;
    const rawSchema = uniqueName('cli_raw');
    let cwd: string;
    let logs: string;

    beforeAll(() => {
      cwd = mkdtempSync(join(tmpdir(), 'st-cli-trino-'));
      logs = join(cwd, 'logs');
      for (const args of [
        ['keygen', '--key', 'k.pem'],
        ['sample', '--out', logs, '--hosts', '6', '--days', '2', '--seed', '42', '--from', '2024-03-04'],
      ]) {
        const r = run(args, cwd);
        expect(r.code, r.stderr).toBe(0);
      }
      // The sample's CloudTrail file cut off mid-record stays: trino-tables stages it per record with
      // the local intake's splitter, so both engines read its whole records and reject the cut one.
      expect(
        (readdirSync(logs, { recursive: true }) as string[]).some((f) => f.includes('CutOffMidRecord')),
      ).toBe(true);
    }, 120_000);

    afterAll(async () => {
      const engine = new TrinoEngine({
        server: url,
        workCatalog: 'hive',
        workSchema: rawSchema,
        user: 'test',
      });
      for (const t of ['windows_raw', 'linux_auditd_raw', 'linux_auth_raw', 'cloudtrail_raw', 'ocsf_raw'])
        await engine
          .execute(`DROP TABLE IF EXISTS hive.${rawSchema}.${t}`, [], 'drop')
          .catch(() => undefined);
      await engine.execute(`DROP SCHEMA IF EXISTS hive.${rawSchema}`, [], 'drop').catch(() => undefined);
      rmSync(cwd, { recursive: true, force: true });
    });

    it('creates the raw tables, builds the demo review on Trino, and it is the evidence DuckDB builds', () => {
      // Prepare: the raw tables over the same files DuckDB reads.
      const tables = run(
        [
          'trino-tables',
          '--location',
          `local://${logs}`,
          '--trino-url',
          url,
          '--trino-schema',
          rawSchema,
          '--ocsf-lines',
          '--json',
        ],
        cwd,
      );
      expect(tables.code, tables.stderr).toBe(0);
      expect(JSON.parse(tables.stdout).tables).toHaveLength(5);
      const common = ['--kind', 'review', '--from', '2024-03-04', '--to', '2024-03-06', '--config', CONFIG];
      const common2 = ['--series', 'demo-review', '--key', 'k.pem', '--json'];

      // Act
      const onTrino = run(
        [
          'export',
          ...common,
          '--engine',
          'trino',
          '--trino-url',
          url,
          '--trino-schema',
          rawSchema,
          '--trino-work-schema',
          uniqueName('cli_work'),
          '--trino-logs-root',
          `local://${logs}/`,
          '--out',
          'ev-trino',
          ...common2,
        ],
        cwd,
      );
      const onDuckDb = run(['export', ...common, '--logs', logs, '--out', 'ev-duckdb', ...common2], cwd);

      // Assess
      expect(onTrino.code, onTrino.stderr).toBe(0);
      expect(onDuckDb.code, onDuckDb.stderr).toBe(0);
      const t = JSON.parse(onTrino.stdout) as { dir: string; summary: { sessions: number } };
      const d = JSON.parse(onDuckDb.stdout) as { dir: string; summary: { sessions: number } };
      expect(t.summary.sessions).toBeGreaterThan(0);
      const [duck, tri] = [d.dir, t.dir].map((dir) => readFileSync(join(dir, 'evidence.json'), 'utf8')) as [
        string,
        string,
      ];
      // Both list the same input files (path, status, records, size, sha256).
      const inputsOf = (text: string) => (JSON.parse(text) as { inputs?: { key: string }[] }).inputs;
      expect(inputsOf(tri)).toBeDefined();
      expect(inputsOf(tri)?.length).toBeGreaterThan(0);
      expect(inputsOf(tri)).toEqual(inputsOf(duck));
      // The same bytes, OCSF record positions included.
      expect(duck).toMatch(/ocsf\/[^"#]*\.json#record=\d+/);
      expect(diffJson(JSON.parse(duck), JSON.parse(tri))).toEqual([]);
      expect(tri).toBe(duck);
      // The signed manifest names the engine each pack ran on; evidence.json names none.
      const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      expect(manifestOf(t.dir).predicate.tool.engine.name).toBe('trino');
      expect(manifestOf(d.dir).predicate.tool.engine.name).toBe('duckdb');
      expect(JSON.parse(tri).tool).not.toHaveProperty('engine');
    }, 900_000);
  },
);
