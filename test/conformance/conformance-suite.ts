/**
 * The cross-engine conformance suite for one or more sources: each dataset is staged once as the
 * logs bucket (a temp folder), its raw tables are created on Trino over the very same files, and
 * each case exports one pack on DuckDB and one on Trino, compared query by query and as
 * evidence.json (see conformance-harness.ts for what is compared and what is set aside).
 *
 * Needs a Trino (`npm run trino:start`, then TRINO_URL); skipped with the reason without one,
 * failed without one when SESSIONTRAIL_REQUIRE_TRINO=1.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, DEFAULT_CONFIG, loadConfig } from '../../lib/config/config.ts';
import type { ExportRequest } from '../../lib/evidence/request.ts';
import { placeholderClauses } from '../../lib/query/athena/athena-sql.ts';
import type { RawTableSpec } from '../../lib/sources/raw-table.ts';
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
  type EngineExport,
  exportOnAthenaShapedTrino,
  exportOnDuckDb,
  exportOnTrino,
} from './conformance-harness.ts';

const DEMO_CONFIG = new URL('../../config/demo.config.json', import.meta.url).pathname;
export const CONFORMANCE_TIMEOUT = 600_000;

export interface ConformanceCase {
  readonly name: string;
  readonly request: ExportRequest;
  readonly config?: 'demo';
}

/**
 * A documented difference that cannot be shimmed: both exports are rewritten by `normalise` before
 * they are compared (steps and evidence.json alike). Each must say why, and what is still compared.
 */
export interface KnownDifference {
  readonly what: string;
  normalise(text: string): string;
}

/** A staged logs root (bucket layout) and its Hive raw tables, shared by the cases of one dataset. */
export interface ConformanceDataset {
  readonly name: string;
  /** The sources whose raw tables are created (every source the cases read). */
  readonly sources: readonly string[];
  /** Table layouts that replace a source's own spec (OCSF as JSON lines). */
  readonly specs?: Readonly<Record<string, RawTableSpec>>;
  stage(root: string): Promise<void>;
  readonly cases: readonly ConformanceCase[];
  readonly known?: readonly KnownDifference[];
}

/** Registers the suite: one `describe` per dataset, one `it` per case. */
export async function describeConformance(title: string, datasets: readonly ConformanceDataset[]) {
  const trino = await trinoAvailability();
  if (trino.unavailable !== null && trino.required) {
    describe(`${title} (Trino required)`, () => {
      it('has a reachable Trino', () => {
        throw new Error(`SESSIONTRAIL_REQUIRE_TRINO=1 but ${trino.unavailable}`);
      });
    });
  }

  describe.skipIf(trino.unavailable !== null)(
    `${title}, DuckDB vs Trino${trino.unavailable === null ? '' : ` (skipped: ${trino.unavailable})`}`,
    () => {
      let keyPath: string;
      let demoConfig: Config;
      beforeAll(async () => {
        keyPath = await makeKey();
        demoConfig = await loadConfig(DEMO_CONFIG);
      });

      describe.each(datasets)('dataset $name', (ds) => {
        let root: string;
        let staged: StagedLogs;
        const rawSchema = uniqueName(`raw_${ds.name.replaceAll(/[^a-z0-9]/g, '_')}`);
        const engine = (work?: string) => testEngine(trino.url as string, rawSchema, work, ds.specs ?? {});

        beforeAll(async () => {
          root = await mkdtemp(join(tmpdir(), 'st-conf-logs-'));
          await ds.stage(root);
          staged = await registerRawTables(
            engine(uniqueName('admin')),
            root,
            rawSchema,
            ds.sources,
            ds.specs ?? {},
          );
        }, CONFORMANCE_TIMEOUT);

        afterAll(async () => {
          await staged?.remove();
          if (root !== undefined) await removeDir(root);
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
            const duck = normalised(await exportOnDuckDb(input), ds.known);
            const tri = normalised(await exportOnTrino(engine(), input), ds.known);

            const problems = diffSteps(duck.steps, tri.steps);
            const ev = comparableEvidence(duck, tri);
            if (ev.duck !== ev.trino) {
              problems.push(
                `evidence.json differs:\n  ${diffJson(JSON.parse(ev.duck), JSON.parse(ev.trino)).join('\n  ')}`,
              );
            }
            expect(problems.join('\n\n')).toBe('');
            // The comparison covered real rows: every source read records on both engines.
            for (const source of c.request.sources ?? ds.sources) {
              const rows = (e: EngineExport) =>
                e.steps.find((s) => s.name === `normalise-${source.replaceAll('_', '-')}`)?.rows.length ?? 0;
              expect(rows(duck), `records of ${source}`).toBeGreaterThan(0);
              expect(rows(tri)).toBe(rows(duck));
            }
            expect(tri.result.packId).toBe(duck.result.packId);
            // The signed manifest names the engine that computed the pack.
            expect(tri.manifest?.predicate.tool.engine?.name).toBe('trino');
          },
          CONFORMANCE_TIMEOUT,
        );

        it.each(ds.cases)(
          '$name, Athena mode: the statements the Athena engine sends give the same rows and evidence.json bytes',
          async (c) => {
            const input = {
              root,
              keyPrefix: staged.keyPrefix,
              request: c.request,
              config: c.config === 'demo' ? demoConfig : DEFAULT_CONFIG,
              keyPath,
            };
            const duck = normalised(await exportOnDuckDb(input), ds.known);
            const athena = normalised(
              await exportOnAthenaShapedTrino(
                { server: trino.url as string, rawSchema, specs: ds.specs ?? {} },
                input,
              ),
              ds.known,
            );

            const problems = diffSteps(duck.steps, athena.steps);
            const ev = comparableEvidence(duck, athena);
            if (ev.duck !== ev.trino) {
              problems.push(
                `evidence.json differs:\n  ${diffJson(JSON.parse(ev.duck), JSON.parse(ev.trino)).join('\n  ')}`,
              );
            }
            expect(problems.join('\n\n')).toBe('');
            expect(athena.result.packId).toBe(duck.result.packId);
            // Athena's rule held for every statement sent: ? only in WHERE, one per parameter.
            const sent = athena.sent ?? [];
            expect(sent.length).toBeGreaterThan(0);
            for (const s of sent) {
              const clauses = placeholderClauses(s.text);
              expect(
                clauses.filter((k) => k !== 'where'),
                s.name,
              ).toEqual([]);
              expect(clauses.length, s.name).toBe(s.parameters.length);
            }
            // The pack's queries/*.sql hold exactly the SQL that was sent for each query.
            const files = [...(athena.queryFiles ?? new Map<string, string>()).values()];
            expect(files.length).toBe(athena.result.pack.queries.length);
            const texts = sent.map((s) => s.text);
            for (const file of files) {
              // The file's header: its name and how values are bound, then one line per parameter.
              const lines = file.split('\n');
              while (/^-- (\S+: positional parameters|local file paths|\$\d+ = )/.test(lines[0] ?? ''))
                lines.shift();
              const sql = lines.join('\n').trim();
              expect(
                texts.some(
                  (t) => t.trim() === sql || (t.startsWith('CREATE TABLE ') && t.trim().endsWith(sql)),
                ),
                `${file.slice(0, 80)} was sent as it is recorded`,
              ).toBe(true);
            }
          },
          CONFORMANCE_TIMEOUT,
        );
      });
    },
  );
}

/** An export with the documented differences rewritten (rows and evidence.json). */
function normalised(e: EngineExport, known: readonly KnownDifference[] = []): EngineExport {
  if (known.length === 0) return e;
  const fix = (text: string) => known.reduce((t, k) => k.normalise(t), text);
  const fixValue = (v: unknown) => (typeof v === 'string' ? fix(v) : v);
  return {
    ...e,
    steps: e.steps.map((s) => ({
      ...s,
      rows: s.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fixValue(v)]))),
    })) as EngineExport['steps'],
    evidence: new TextEncoder().encode(fix(new TextDecoder().decode(e.evidence))),
  };
}
