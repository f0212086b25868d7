/**
 * Cross-engine conformance: the same export, on DuckDB (files) and on Trino (a Hive raw-line table
 * over the same files), compared query by query and then as `evidence.json`.
 *
 * What is compared:
 * 1. Every query the export runs, in the order it runs them: for a materialised step
 *    (normalise, session events, attribution, halves) the whole working table, read back with
 *    `SELECT *`; for a select (pack sessions, activity, orphans, integrity, suppressions, coverage)
 *    its rows. Rows are compared as multisets in a canonical order (each row as JSON with sorted
 *    keys), so the engines' free choice of order among ties does not count; everything else does:
 *    column names, values, types as the use case sees them (number, string, boolean, null).
 * 2. `evidence.json`, byte for byte, with nothing set aside. The engine and the SQL text of its
 *    dialect (which differs for every query: JSON paths, `json_parse`, the raw-line relation,
 *    schema-qualified working tables) are not in evidence.json but in the signed manifest
 *    (`predicate.tool.engine`, each `queries/*.sql` a subject): evidence.json says what the logs
 *    show, the manifest how it was computed. Sessions, timelines, verdicts, coverage, ids, the
 *    queries' names, files and row counts and the pack id must be the same bytes.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedClock } from '../../lib/clock.ts';
import type { Config } from '../../lib/config/config.ts';
import { canonicalBytes } from '../../lib/evidence/canonical-json.ts';
import type { ExportRequest } from '../../lib/evidence/request.ts';
import { type ExportResult, exportEvidence } from '../../lib/export/export-evidence.ts';
import { findLocalLogs, localLocator } from '../../lib/locate/local-logs.ts';
import { sourceTableOf } from '../../lib/locate/raw-input-plan.ts';
import type { RawLogLocator } from '../../lib/locate/raw-log-locator.ts';
import { tableLocator } from '../../lib/locate/table-locator.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { QueryEngine, QueryRun, Row } from '../../lib/query/query-engine.ts';
import type { SqlQuery } from '../../lib/query/sql.ts';
import { TrinoEngine } from '../../lib/query/trino/trino-engine.ts';
import { LocalKeySigner } from '../../lib/signing/local-key-signer.ts';
import { MANIFEST_FILE, type PackStatement, parseManifest } from '../../lib/signing/manifest.ts';
import { SOURCES } from '../../lib/sources/index.ts';
import type { RawTableSpec } from '../../lib/sources/raw-table.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';
import type { TestTrinoEngine } from '../query/trino/trino-test-server.ts';
import { AthenaShapedEngine, type SentStatement } from './athena-shaped-engine.ts';

/** One step of an export as an engine ran it. */
export interface RecordedStep {
  readonly name: string;
  readonly kind: 'materialize' | 'select';
  readonly sql: string;
  readonly rows: readonly Row[];
}

/** Passes every call through and keeps what each query returned (materialised tables read back). */
export class RecordingEngine implements QueryEngine {
  readonly steps: RecordedStep[] = [];
  readonly dialect;

  constructor(private readonly inner: QueryEngine) {
    this.dialect = inner.dialect;
  }

  describe() {
    return this.inner.describe();
  }

  async materialize(table: string, query: SqlQuery): Promise<QueryRun> {
    const run = await this.inner.materialize(table, query);
    const { rows } = await this.inner.select({
      name: `${query.name} (table)`,
      sql: `SELECT * FROM ${this.dialect.workTable(table)}`,
      params: [],
    });
    this.steps.push({ name: query.name, kind: 'materialize', sql: query.sql, rows });
    return run;
  }

  /** Appends, then records the whole table as it now stands (a later part of the same step). */
  async append(table: string, query: SqlQuery): Promise<QueryRun> {
    const run = await this.inner.append(table, query);
    const { rows } = await this.inner.select({
      name: `${query.name} (table)`,
      sql: `SELECT * FROM ${this.dialect.workTable(table)}`,
      params: [],
    });
    this.steps.push({ name: query.name, kind: 'materialize', sql: query.sql, rows });
    return run;
  }

  async select(query: SqlQuery): Promise<{ rows: Row[]; run: QueryRun }> {
    const result = await this.inner.select(query);
    this.steps.push({ name: query.name, kind: 'select', sql: query.sql, rows: result.rows });
    return result;
  }

  /** Not a step: it runs no query (nothing to compare between engines). */
  release() {
    return this.inner.release();
  }

  close() {
    return this.inner.close();
  }
}

export interface EngineExport {
  readonly result: ExportResult;
  readonly steps: readonly RecordedStep[];
  readonly evidence: Uint8Array;
  /** Athena mode: every statement sent, as Athena would receive it. */
  readonly sent?: readonly SentStatement[];
  /** The pack's `queries/*.sql` files, by name. */
  readonly queryFiles?: ReadonlyMap<string, string>;
  /** The pack's signed manifest, which names the engine that computed it. */
  readonly manifest?: PackStatement;
}

export interface ConformanceInput {
  /** Logs root laid out as the bucket (`<root>/windows/dt=…/`), read by DuckDB. */
  readonly root: string;
  /** `"$path"` prefix of the same files as Trino sees them. */
  readonly keyPrefix: string;
  readonly request: ExportRequest;
  readonly config: Config;
  readonly keyPath: string;
}

async function runExport(
  engine: QueryEngine,
  input: ConformanceInput,
  locator: RawLogLocator,
): Promise<EngineExport> {
  const recording = new RecordingEngine(engine);
  const storeRoot = await mkdtemp(join(tmpdir(), 'st-conf-store-'));
  const store = new FsEvidenceStore(storeRoot);
  const result = await exportEvidence(input.request, {
    engine: recording,
    store,
    signer: await LocalKeySigner.fromFile(input.keyPath),
    clock: fixedClock('2026-01-01T00:00:00.000Z'),
    config: input.config,
    locator,
    toolVersion: '0.0.0-conformance',
  });
  const evidence = await store.get(`${result.dir}/evidence.json`);
  const queryFiles = new Map<string, string>();
  for (const name of await store.list(`${result.dir}/queries`)) {
    queryFiles.set(name, new TextDecoder().decode(await store.get(`${result.dir}/queries/${name}`)));
  }
  const manifest = parseManifest(await store.get(`${result.dir}/${MANIFEST_FILE}`));
  return { result, steps: recording.steps, evidence, queryFiles, manifest };
}

/** The export on DuckDB, reading the files under `root`. */
export async function exportOnDuckDb(input: ConformanceInput): Promise<EngineExport> {
  const engine = await DuckDbEngine.open({ threads: 2 });
  try {
    return await runExport(engine, input, localLocator(input.root));
  } finally {
    await engine.close();
  }
}

/**
 * The export on Trino, reading the Hive table over the same files. The file checks (truncated
 * gzip) belong to the locator, not the engine: the Trino side reports what the same check finds.
 */
export async function exportOnTrino(engine: TestTrinoEngine, input: ConformanceInput): Promise<EngineExport> {
  try {
    const local = localLocator(input.root);
    return await runExport(engine, input, {
      sources: () => local.sources(),
      async locate(source, fromMs, toMs) {
        const found = await findLocalLogs(input.root, source, fromMs, toMs);
        await found.cleanup();
        return {
          input: engine.rawInput(source, fromMs, toMs, input.keyPrefix),
          problems: found.problems,
          // The table is over the same files: the same objects, sizes and digests are read.
          inputs: found.inputs,
          cleanup: async () => {},
        };
      },
    });
  } finally {
    await engine.close();
  }
}

/** Where the Athena-shaped export runs: the Trino server, the Hive schema of the raw tables and their layouts. */
export interface AthenaShapedTarget {
  readonly server: string;
  readonly rawSchema: string;
  readonly specs: Readonly<Record<string, RawTableSpec>>;
}

/**
 * The export as the Athena engine runs it (see athena-shaped-engine.ts), on Trino: working tables
 * are Parquet CTAS tables in a Hive schema made for this export (dropped afterwards), and each
 * source's input is planned from the table the CDK app would define for it (`sourceTableOf`, the
 * functions' `planRawInput`), with the logs root as the key prefix.
 */
export async function exportOnAthenaShapedTrino(
  target: AthenaShapedTarget,
  input: ConformanceInput,
): Promise<EngineExport> {
  const workDatabase = `athena_work_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const trino = new TrinoEngine({
    server: target.server,
    workCatalog: 'hive',
    workSchema: workDatabase,
    user: 'sessiontrail-test',
  });
  // Managed tables of the file metastore live under its own folder (it refuses any other location).
  await trino.execute(`CREATE SCHEMA hive.${workDatabase}`, [], 'athena work database');
  const engine = new AthenaShapedEngine(trino, workDatabase, 'conformance_run');
  try {
    // The functions' locator (tableLocator over sourceTableOf), with the file checks of the local
    // reader and the objects it lists, as for the Trino export.
    const tables = Object.fromEntries(
      Object.keys(SOURCES).map((source) => {
        const spec = target.specs[source] ?? (SOURCES[source]?.rawTable as RawTableSpec);
        return [
          source,
          sourceTableOf(spec, { database: `hive.${target.rawSchema}`, logsRoot: input.keyPrefix }),
        ];
      }),
    );
    const catalog = tableLocator(tables);
    const local = localLocator(input.root);
    const result = await runExport(engine, input, {
      sources: () => local.sources(),
      async locate(source, fromMs, toMs) {
        const found = await findLocalLogs(input.root, source, fromMs, toMs);
        await found.cleanup();
        const located = await catalog.locate(source, fromMs, toMs);
        return { ...located, problems: found.problems, inputs: found.inputs };
      },
    });
    return { ...result, sent: engine.sent };
  } finally {
    await engine.close();
    await trino.execute(`DROP SCHEMA IF EXISTS hive.${workDatabase}`, [], 'drop work').catch(() => undefined);
  }
}

/** A row as canonical JSON (sorted keys), the unit of comparison. */
export function canonicalRow(row: Row): string {
  return new TextDecoder().decode(canonicalBytes(row));
}

/**
 * Compares two row lists as multisets; returns a readable account of the difference, or null.
 * Columns are compared first, so that a renamed or missing column is named instead of failing
 * every row.
 */
export function diffRows(
  label: string,
  duck: readonly Row[],
  trino: readonly Row[],
  limit = 8,
): string | null {
  const colsOf = (rows: readonly Row[]) => [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
  const dc = colsOf(duck);
  const tc = colsOf(trino);
  const lines: string[] = [];
  if (duck.length > 0 && trino.length > 0 && dc.join() !== tc.join()) {
    lines.push(
      `columns only on DuckDB: ${dc.filter((c) => !tc.includes(c)).join(', ') || '-'}; only on Trino: ${tc.filter((c) => !dc.includes(c)).join(', ') || '-'}`,
    );
  }
  const count = new Map<string, number>();
  for (const r of duck) {
    const k = canonicalRow(r);
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  for (const r of trino) {
    const k = canonicalRow(r);
    count.set(k, (count.get(k) ?? 0) - 1);
  }
  const onlyDuck: string[] = [];
  const onlyTrino: string[] = [];
  for (const [k, n] of [...count.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (let i = 0; i < n; i++) onlyDuck.push(k);
    for (let i = 0; i < -n; i++) onlyTrino.push(k);
  }
  if (onlyDuck.length === 0 && onlyTrino.length === 0 && lines.length === 0) return null;
  lines.unshift(
    `${label}: DuckDB ${duck.length} rows, Trino ${trino.length} rows; ${onlyDuck.length} only on DuckDB, ${onlyTrino.length} only on Trino`,
  );
  // Pair rows that differ in a few columns, so that the differing values stand out.
  const parsed = (k: string) => JSON.parse(k) as Record<string, unknown>;
  const shown = Math.min(limit, Math.max(onlyDuck.length, onlyTrino.length));
  for (let i = 0; i < shown; i++) {
    const a = onlyDuck[i];
    const b = onlyTrino[i];
    if (a !== undefined && b !== undefined) {
      const ra = parsed(a);
      const rb = parsed(b);
      const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
      const changed = keys.filter((key) => JSON.stringify(ra[key]) !== JSON.stringify(rb[key]));
      lines.push(
        `  #${i + 1} differs in ${changed.join(', ')}:`,
        ...changed.map(
          (key) =>
            `     ${key}: DuckDB ${clip(JSON.stringify(ra[key]))} | Trino ${clip(JSON.stringify(rb[key]))}`,
        ),
        `     (DuckDB row ${clip(a, 400)})`,
      );
    } else if (a !== undefined) lines.push(`  only on DuckDB: ${clip(a, 400)}`);
    else if (b !== undefined) lines.push(`  only on Trino:  ${clip(b, 400)}`);
  }
  return lines.join('\n');
}

function clip(text: string | undefined, max = 160): string {
  if (text === undefined) return 'undefined';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Every step of the two exports, compared; a list of readable differences (empty when conformant). */
export function diffSteps(duck: readonly RecordedStep[], trino: readonly RecordedStep[]): string[] {
  const out: string[] = [];
  const names = (s: readonly RecordedStep[]) => s.map((x) => `${x.kind}:${x.name}`).join(' → ');
  if (names(duck) !== names(trino)) {
    out.push(`the engines ran different steps:\n  DuckDB ${names(duck)}\n  Trino  ${names(trino)}`);
    return out;
  }
  duck.forEach((step, i) => {
    const other = trino[i] as RecordedStep;
    const d = diffRows(`step ${i + 1} ${step.kind} ${step.name}`, step.rows, other.rows);
    if (d !== null) out.push(d);
  });
  return out;
}

/**
 * `evidence.json` of both engines as text, compared as is: the engine and the digests of its
 * dialect's SQL are in the manifest, not in evidence.json (lib/evidence/model.ts `ToolInfo`).
 */
export function comparableEvidence(duck: EngineExport, trino: EngineExport): { duck: string; trino: string } {
  const text = (e: EngineExport) => new TextDecoder().decode(e.evidence);
  return { duck: text(duck), trino: text(trino) };
}

/** The paths at which two JSON values differ, with both values, for a readable failure. */
export function diffJson(a: unknown, b: unknown, path = '$', out: string[] = [], limit = 20): string[] {
  if (out.length >= limit) return out;
  if (JSON.stringify(a) === JSON.stringify(b)) return out;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) out.push(`${path}: DuckDB ${a.length} items, Trino ${b.length} items`);
      for (let i = 0; i < Math.min(a.length, b.length); i++)
        diffJson(a[i], b[i], `${path}[${i}]`, out, limit);
      return out;
    }
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort())
      diffJson(ra[k], rb[k], `${path}.${k}`, out, limit);
    return out;
  }
  out.push(`${path}: DuckDB ${clip(JSON.stringify(a))} | Trino ${clip(JSON.stringify(b))}`);
  return out;
}
