import type { Dialect } from './dialects/dialect.ts';
import type { SqlQuery } from './sql.ts';

/** A value as the use case sees it: BIGINTs arrive as numbers when exact, else as strings. */
export type CellValue = string | number | boolean | null;
export type Row = Readonly<Record<string, CellValue>>;

/**
 * One result row as an object, built whole from its column names and its cells (`cell(i)` is
 * column i's value): every engine builds its rows here. An object given its properties one by one
 * (`row[name] = …`) leaves V8's fast layout after a dozen and took 1.8x the heap (58,000 rows of 45
 * columns: 332 MB against 180 MB); the pack's rows are the export's largest heap (issue 15). A
 * repeated column name keeps its last value, as an object literal does.
 */
export function rowOf(names: readonly string[], cell: (i: number) => CellValue): Row {
  return Object.fromEntries(names.map((name, i) => [name, cell(i)]));
}

/** What the engine reports about one query run; not part of `evidence.json` (not deterministic). */
export interface QueryRun {
  readonly name: string;
  readonly engineQueryId: string | null;
  readonly rows: number;
  readonly durationMs: number;
  readonly bytesScanned: number | null;
}

/**
 * The engine port. Adapters: DuckDB (embedded, default), Athena and Trino (later). Queries are
 * Trino SQL; the adapter's {@link Dialect} supplies what differs.
 */
export interface QueryEngine {
  readonly dialect: Dialect;
  /** Engine name and version, recorded in the pack. */
  describe(): Promise<{ readonly name: string; readonly version: string }>;
  /** Runs a query into a working table of this pack (replacing one of the same name). */
  materialize(table: string, query: SqlQuery): Promise<QueryRun>;
  /**
   * Runs a query and adds its rows to a working table that {@link materialize} made in this pack,
   * the query giving the same columns in the same order (a later part of the same input).
   * `QueryRun.rows` is the number of rows added.
   */
  append(table: string, query: SqlQuery): Promise<QueryRun>;
  /**
   * The most bytes of raw lines (decompressed) one statement should read from files, where a
   * source's rows depend on each file alone: a larger file input is normalised in parts, one
   * statement each, so that a statement's memory is bounded by its part, not by the input.
   * Unset: one statement reads the whole input (table inputs are always read by one statement).
   */
  readonly statementInputBytes?: number;
  /** Runs a query and returns its rows. */
  select(query: SqlQuery): Promise<{ readonly rows: Row[]; readonly run: QueryRun }>;
  /**
   * The pack's queries are done: gives back the memory the engine keeps only to speed up later
   * queries, while the process assembles, renders and seals the pack (an embedded engine's cache
   * would otherwise add to those steps' peak). Queries may still run after it, as before.
   */
  release(): Promise<void>;
  close(): Promise<void>;
}
