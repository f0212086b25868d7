/**
 * Athena cost per pack (issue 15, item 5): the bytes a pack scans, measured on the Trino
 * conformance server (the engine Athena runs, over the same raw-table layout), per day of window,
 * so that the cost of a monthly review is known before an account runs it.
 *
 *   npx tsx bench/trino-scan.ts [--sizes 0.25] [--days 1,7,30] [--shapes athena,trino]
 *                               [--trino-url URL] [--cache DIR]
 *   npm run bench -- ... --trino-scan        (the same case after each size's export rounds)
 *
 * How: the generated fleet files (bench/fleet-logs.ts, gzip, `windows/dt=YYYY-MM-DD/`) get a raw
 * table in Trino's Hive catalog (`createRawTables`, as `sessiontrail trino-tables` makes it), then a
 * `review` pack is exported for windows of 1, 7 and 30 days, its statements sent in two shapes:
 * `athena`, as the Athena engine sends them (the conformance suite's AthenaShapedEngine: Parquet
 * CTAS working tables, as Athena writes them), and `trino`, as `export --engine trino` runs them
 * (`TrinoEngine`, working tables in the `memory` catalog). After each statement of the pack
 * the bench reads Trino's query stats (`GET /v1/query/{queryId}`, `queryStats`), while Trino still
 * holds the query (it forgets finished queries after a while), and sums per pack:
 * - `physicalInputDataSize`: the bytes the connector read from storage — for gzip text files the
 *   compressed bytes. This is what Athena bills as "data scanned" (per query, on the bytes read
 *   from S3, which compression lowers), and the bench checks it against the sizes of the files in
 *   the partitions the raw read asked for;
 * - `rawInputDataSize` (as measured here, the same bytes for the Hive text reader) and
 *   `processedInputDataSize`, for the record;
 * - `peakUserMemoryReservation`, of which the row shows the highest statement's: the memory a
 *   Trino node (or Athena) must give one statement of the pack. A pack whose statement exceeds the
 *   server's `query.max-memory-per-node` is a row saying so, and the bench goes on.
 * Statements are split into the raw read (the one CREATE TABLE AS that names the raw table; a test
 * asserts there is one per source: test/query/athena/athena-statements.test.ts) and the rest, which
 * read the pack's working tables. Trino prints data sizes in succinct units (e.g. `26.45MB`): the
 * sums are exact to about 0.5 % of each statement's figure.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedClock } from '../lib/clock.ts';
import { loadConfig } from '../lib/config/config.ts';
import { exportEvidence } from '../lib/export/export-evidence.ts';
import { catalogTables } from '../lib/locate/catalog-tables.ts';
import { tableLocator } from '../lib/locate/table-locator.ts';
import { createRawTables } from '../lib/locate/trino-tables.ts';
import type { QueryEngine, QueryRun } from '../lib/query/query-engine.ts';
import type { SqlQuery } from '../lib/query/sql.ts';
import { TrinoEngine } from '../lib/query/trino/trino-engine.ts';
import { LocalKeySigner } from '../lib/signing/local-key-signer.ts';
import { SOURCES } from '../lib/sources/index.ts';
import { FsEvidenceStore } from '../lib/storage/fs-evidence-store.ts';
import { AthenaShapedEngine } from '../test/conformance/athena-shaped-engine.ts';
import { makeKey } from '../test/helpers/local-export.ts';
import { arg, benchCache, generatedFleets } from './bench-cli.ts';
import { FLEET_DAYS, FLEET_FROM, type FleetLogs } from './fleet-logs.ts';

const DAY_MS = 86_400_000;
const USER = 'sessiontrail-bench';

/** One statement of a pack and what Trino says it read. */
interface StatementScan {
  readonly name: string;
  readonly queryId: string;
  readonly readsRaw: boolean;
  readonly physical: number;
  readonly raw: number;
  readonly processed: number;
  /** Trino's `peakUserMemoryReservation`: the most memory the statement held at once. */
  readonly peakMemory: number;
  /** The `dt` partitions the statement's parameters bound it to (raw read only), inclusive. */
  readonly days: readonly string[];
}

/** One pack's figures. */
export interface PackScan {
  readonly shape: Shape;
  readonly days: number;
  readonly sessions: number;
  readonly statements: readonly StatementScan[];
  /** Bytes (gzip) of the fleet files in the partitions the raw read was bound to. */
  readonly filesInPartitions: number;
  readonly partitions: readonly string[];
  readonly wallMs: number;
  /** Why the pack was not built (the engine's message, first line), when it was not. */
  readonly failed: string | null;
}

/** Bytes of a Trino data size as JSON prints it: `0B`, `512B`, `26.45MB`, `1.20GB` (units of 1024). */
export function dataSizeBytes(text: unknown): number {
  const m = /^([0-9.]+)(B|kB|KB|MB|GB|TB|PB)$/.exec(String(text));
  if (m === null) throw new Error(`not a Trino data size: ${JSON.stringify(text)}`);
  const power = { B: 0, kB: 1, KB: 1, MB: 2, GB: 3, TB: 4, PB: 5 }[m[2] as 'B'];
  return Math.round(Number(m[1]) * 1024 ** power);
}

async function queryStats(url: string, queryId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/v1/query/${encodeURIComponent(queryId)}`, {
    headers: { 'X-Trino-User': USER },
  });
  if (!res.ok) throw new Error(`GET /v1/query/${queryId}: HTTP ${res.status} (Trino may have expired it)`);
  const info = (await res.json()) as { queryStats?: Record<string, unknown> };
  if (info.queryStats === undefined) throw new Error(`GET /v1/query/${queryId}: no queryStats`);
  return info.queryStats;
}

/**
 * The engine, with each statement's query stats read right after it finishes. The raw table's
 * name tells the raw read apart; its `YYYY-MM-DD` parameters are the partitions it asked for.
 */
function measured(engine: QueryEngine, url: string, rawTable: string, into: StatementScan[]): QueryEngine {
  const record = async (run: QueryRun, query: SqlQuery): Promise<void> => {
    if (run.engineQueryId === null) throw new Error(`${query.name}: Trino returned no query id`);
    const qs = await queryStats(url, run.engineQueryId);
    const readsRaw = query.sql.includes(rawTable);
    const days = readsRaw
      ? query.params.filter((p): p is string => typeof p === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(p))
      : [];
    into.push({
      name: query.name,
      queryId: run.engineQueryId,
      readsRaw,
      physical: dataSizeBytes(qs.physicalInputDataSize),
      raw: dataSizeBytes(qs.rawInputDataSize),
      processed: dataSizeBytes(qs.processedInputDataSize),
      peakMemory: dataSizeBytes(qs.peakUserMemoryReservation),
      days,
    });
  };
  return {
    dialect: engine.dialect,
    describe: () => engine.describe(),
    async materialize(table, query) {
      const run = await engine.materialize(table, query);
      await record(run, query);
      return run;
    },
    async append(table, query) {
      const run = await engine.append(table, query);
      await record(run, query);
      return run;
    },
    async select(query) {
      const out = await engine.select(query);
      await record(out.run, query);
      return out;
    },
    release: () => engine.release(),
    close: () => engine.close(),
  };
}

/** Every day from `lo` to `hi` (`YYYY-MM-DD`), inclusive. */
function daysBetween(lo: string, hi: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${lo}T00:00:00Z`); t <= Date.parse(`${hi}T00:00:00Z`); t += DAY_MS)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/**
 * How the pack's statements run: `trino` as `export --engine trino` runs them (working tables in
 * the `memory` catalog); `athena` as the Athena engine sends them (the conformance suite's
 * Athena-shaped engine: Parquet CTAS working tables in a Hive schema, as Athena writes them to S3).
 */
export type Shape = 'trino' | 'athena';

/** Exports one review pack of `days` days on Trino over the raw table in `hive.<rawSchema>`. */
async function packScan(
  logs: FleetLogs,
  url: string,
  rawSchema: string,
  days: number,
  shape: Shape,
): Promise<PackScan> {
  const workSchema = `bench_${shape}_work_${process.pid}`;
  const trino = new TrinoEngine({
    server: url,
    workCatalog: shape === 'trino' ? 'memory' : 'hive',
    workSchema,
    user: USER,
  });
  // Managed tables of the file metastore live under its own folder (it refuses any other location).
  if (shape === 'athena') await trino.execute(`CREATE SCHEMA hive.${workSchema}`, [], 'work database');
  const engine = shape === 'trino' ? trino : new AthenaShapedEngine(trino, workSchema, 'bench');
  const tables = catalogTables(['windows'], {
    catalog: 'hive',
    schema: rawSchema,
    keyPrefix: `local://${logs.root}/`,
  });
  const rawTable = tables.windows?.table as string;
  const statements: StatementScan[] = [];
  const storeRoot = await mkdtemp(join(tmpdir(), 'st-bench-trino-'));
  const started = performance.now();
  const from = Date.parse(`${FLEET_FROM}T00:00:00Z`);
  let sessions = 0;
  let failed: string | null = null;
  try {
    const result = await exportEvidence(
      {
        kind: 'review',
        from: new Date(from).toISOString(),
        to: new Date(from + days * DAY_MS).toISOString(),
        sources: ['windows'],
      },
      {
        engine: measured(engine, url, rawTable, statements),
        store: new FsEvidenceStore(storeRoot),
        signer: await LocalKeySigner.fromFile(await makeKey()),
        clock: fixedClock('2026-01-01T00:00:00.000Z'),
        config: await loadConfig(fileURLToPath(new URL('../config/demo.config.json', import.meta.url))),
        locator: tableLocator(tables),
        toolVersion: '0.0.0-bench',
      },
    );
    sessions = result.pack.summary.sessions;
  } catch (e) {
    // A pack the server cannot build (e.g. a statement over its per-node memory) is a figure too:
    // the row says which statement failed and why, and the bench goes on with the next pack.
    failed = `statement ${statements.length + 1} (${statements.length} ran): ${String((e as Error).message).split('\n')[0]}`;
  } finally {
    await engine.close();
    if (shape === 'athena')
      await trino.execute(`DROP SCHEMA IF EXISTS hive.${workSchema}`, [], 'drop').catch(() => undefined);
    await rm(storeRoot, { recursive: true, force: true });
  }
  const wallMs = performance.now() - started;
  const asked = statements.filter((s) => s.readsRaw).flatMap((s) => s.days);
  const partitions =
    asked.length === 0
      ? []
      : daysBetween(
          asked.reduce((a, b) => (a < b ? a : b)),
          asked.reduce((a, b) => (a > b ? a : b)),
        );
  let filesInPartitions = 0;
  for (const f of logs.files) {
    const dt = basename(dirname(f)).replace(/^dt=/, '');
    if (partitions.includes(dt)) filesInPartitions += (await stat(f)).size;
  }
  return { shape, days, sessions, statements, filesInPartitions, partitions, wallMs, failed };
}

const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

/** The pack's figures as a Markdown table row. */
function row(p: PackScan): string {
  const sum = (ss: readonly StatementScan[], k: 'physical' | 'raw' | 'processed') =>
    ss.reduce((n, s) => n + s[k], 0);
  const rawReads = p.statements.filter((s) => s.readsRaw);
  const rest = p.statements.filter((s) => !s.readsRaw);
  const total = sum(p.statements, 'physical');
  const parts =
    p.partitions.length === 0 ? '—' : `${p.partitions[0]} → ${p.partitions.at(-1)} (${p.partitions.length})`;
  const billed = p.statements.reduce((n, s) => n + athenaBilledBytes(s.physical), 0);
  const peak = [...p.statements].sort((a, b) => b.peakMemory - a.peakMemory)[0];
  const peakText = peak === undefined ? '—' : `${mb(peak.peakMemory)} (${peak.name})`;
  if (p.failed !== null)
    return `| ${p.shape} | ${p.days} | **not built**: ${p.failed.replaceAll('|', '/')} | ${p.statements.length} ran | ${parts} | ${mb(p.filesInPartitions)} | | | | | | | ${peakText} | ${(p.wallMs / 1000).toFixed(1)} s |`;
  const largest = [...rest]
    .sort((a, b) => b.physical - a.physical)
    .slice(0, 3)
    .map((s) => `${s.name} ${mb(s.physical)}`)
    .join(', ');
  return `| ${p.shape} | ${p.days} | ${p.sessions} | ${p.statements.length} (${rawReads.length} raw) | ${parts} | ${mb(p.filesInPartitions)} | ${mb(sum(rawReads, 'physical'))} | ${mb(sum(rawReads, 'raw'))} | ${mb(sum(rest, 'physical'))} (${largest}) | ${mb(total)} | **${mb(total / p.days)}** | ${mb(billed)} | ${peakText} | ${(p.wallMs / 1000).toFixed(1)} s |`;
}

/**
 * The bytes Athena would bill for a query that scans `bytes`: Athena's pricing counts the bytes
 * scanned "rounded up to the nearest megabyte, with a 10 MB minimum per query" (DDL statements,
 * such as the DROP TABLE before each CTAS, are not billed, and are not among the runs summed here).
 */
export function athenaBilledBytes(bytes: number): number {
  return Math.max(10, Math.ceil(bytes / 1e6)) * 1e6;
}

/**
 * The case for one generated fleet: a raw table over its files, then a pack per window length.
 * Returns the lines to print (a Markdown table), or one line saying why it was skipped.
 */
export async function trinoScanCase(
  logs: FleetLogs,
  url: string,
  windows: readonly number[] = [1, 7, FLEET_DAYS],
  shapes: readonly Shape[] = ['athena', 'trino'],
): Promise<string[]> {
  const server = url.replace(/\/+$/, '');
  try {
    await fetch(`${server}/v1/info`);
  } catch (e) {
    return [`trino scan: skipped (no Trino at ${server}: ${(e as Error).message})`];
  }
  const rawSchema = `bench_raw_${process.pid}`;
  const ddl = new TrinoEngine({
    server,
    workCatalog: 'memory',
    workSchema: `bench_work_${process.pid}`,
    user: USER,
  });
  const lines = [
    `trino scan (Trino ${(await ddl.describe()).version}, raw table hive.${rawSchema}.${SOURCES.windows?.rawTable.table} over ${logs.root}):`,
    '| statements as | window (days) | sessions | statements | partitions read | gzip files there | raw read: physical input | raw read: raw input | working-table reads: physical (largest three) | pack total: physical | per day of window | Athena would bill (≥ 10 MB per query) | peak memory of one statement (Trino) | wall |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  try {
    await createRawTables(
      ddl,
      ['windows'],
      { catalog: 'hive', schema: rawSchema, location: `local://${logs.root}` },
      async () => [],
    );
    for (const shape of shapes)
      for (const days of windows) lines.push(row(await packScan(logs, server, rawSchema, days, shape)));
  } finally {
    const table = SOURCES.windows?.rawTable.table as string;
    await ddl.execute(`DROP TABLE IF EXISTS hive.${rawSchema}.${table}`, [], 'drop').catch(() => undefined);
    await ddl.execute(`DROP SCHEMA IF EXISTS hive.${rawSchema}`, [], 'drop').catch(() => undefined);
    await ddl
      .execute(`DROP SCHEMA IF EXISTS memory.bench_work_${process.pid}`, [], 'drop')
      .catch(() => undefined);
  }
  return lines;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const cache = benchCache();
  const url = arg('--trino-url') ?? 'http://127.0.0.1:8080';
  const windows = (arg('--days') ?? `1,7,${FLEET_DAYS}`).split(',').map(Number);
  const shapes = (arg('--shapes') ?? 'athena,trino').split(',') as Shape[];
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for await (const { millions, logs } of generatedFleets(cache, '0.25')) {
    console.log(`\n## ${millions} M records (${logs.files.length} files)`);
    for (const line of await trinoScanCase(logs, url, windows, shapes)) console.log(line);
  }
}
