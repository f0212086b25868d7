import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue, listValue } from '@duckdb/node-api';
import { SessiontrailError } from '../../errors.ts';
import { DUCKDB_SHIMS, duckdbDialect } from '../dialects/duckdb-dialect.ts';
import { type CellValue, type QueryEngine, type QueryRun, type Row, rowOf } from '../query-engine.ts';
import { literal, type SqlQuery, type SqlValue } from '../sql.ts';

export interface DuckDbEngineOptions {
  /** Worker threads; `undefined` lets DuckDB use every core. */
  readonly threads?: number;
  /**
   * Memory limit of every statement, e.g. `'2GB'`; without it, {@link memoryLimitFor} chooses per
   * statement (see that function).
   */
  readonly memoryLimit?: string;
  /** Bytes of lines one normalising statement reads; default {@link STATEMENT_INPUT_BYTES}. */
  readonly statementInputBytes?: number;
  /**
   * The folder under which the engine makes its own spill folder (removed on close and at process
   * exit); default the system temporary folder. Never the working directory: DuckDB's own default
   * (`.tmp` there) outlives the process and can fill the disk.
   */
  readonly tempRoot?: string;
}

/**
 * 512 MB: the limit the normalising statements (those that read raw lines) run under, but those
 * that read whole documents; the pack queries after them have {@link PACK_QUERY_MEMORY_LIMIT}. The
 * pack's working tables hold normalised columns, never raw lines (DESIGN 14), stored compressed in
 * the pack's database file; what does not fit spills to the engine's temp folder. DuckDB's resident
 * memory grows towards its limit whatever the input, so the limit is what bounds the export's
 * peak. Measured on the Windows normalising query alone (the export's largest statement,
 * bench/RESULTS.md), the same CPU time under each limit: at 1 M records 1.32 GiB peak under 1 GB
 * and 0.86 GiB under 512 MB; at 5 M, 0.92 GiB under 512 MB; under 256 MB it fails at 1 M (the
 * identity window's state does not all spill; a large input is read in parts, see
 * {@link STATEMENT_INPUT_BYTES}). The target is 1.5 GB for the whole export at 5 M and
 * 10 M records. An input the limit does not fit needs a larger one: `--memory-limit`.
 */
export const NORMALISE_MEMORY_LIMIT = '512MB';

/**
 * 512 MB for the pack's queries after the normalising ones, the same as theirs: they read the
 * working tables (stored in the database file, evictable) while the process holds the pack's rows
 * in its own heap, so the two add up; under 256 MB the findings query of the 10 M-record pack failed
 * with an Out of Memory Error. A constant of its own: the two limits were measured apart.
 */
export const PACK_QUERY_MEMORY_LIMIT = '512MB';

/**
 * 2 GB for the statements that read a JSON file as one document (a CloudTrail delivery is one
 * `{"Records": [...]}` object): DuckDB holds the whole document while parsing it and cannot spill
 * it, and a 50 MiB CloudTrail file needs more than 1 GB (test/sources/cloudtrail-large-file.test.ts).
 */
export const WHOLE_DOCUMENT_MEMORY_LIMIT = '2GB';

/**
 * The memory limit DuckDB applies to one statement, from what the statement says it holds
 * ({@link SqlQuery.memory}, set by the reader that reads its raw input, so that it goes with the
 * query under any name, parts included): {@link WHOLE_DOCUMENT_MEMORY_LIMIT} for one that reads
 * whole JSON documents, {@link NORMALISE_MEMORY_LIMIT} for one that reads raw lines,
 * {@link PACK_QUERY_MEMORY_LIMIT} for a query over the working tables. An explicit
 * {@link DuckDbEngineOptions.memoryLimit} applies to every statement.
 */
export function memoryLimitFor(query: Pick<SqlQuery, 'memory'>, engineLimit: string | undefined): string {
  if (engineLimit !== undefined) return engineLimit;
  switch (query.memory) {
    case 'whole-document':
      return WHOLE_DOCUMENT_MEMORY_LIMIT;
    case 'normalise':
      return NORMALISE_MEMORY_LIMIT;
    case undefined:
      return PACK_QUERY_MEMORY_LIMIT;
  }
}

/**
 * 64 MB: the limit once the pack's queries are done ({@link DuckDbEngine.release}). At 5 M records
 * DuckDB still held about 0.5 GiB of cached blocks while the pack was assembled and rendered: the
 * assemble step peaked at 1.12 GiB with them and 0.43 GiB without, the render at 0.97 and
 * 0.64 GiB (bench/RESULTS.md).
 */
export const RELEASED_MEMORY_LIMIT = '64MB';

/**
 * 1 GiB of decompressed lines per normalising statement ({@link QueryEngine.statementInputBytes}).
 * The Windows normalising query numbers the records of a file that have no record number with a
 * window over its rows, and DuckDB cannot spill all of a window's state: under 512 MB it read 5 M
 * records (11.2 GiB of JSON lines) in one statement at 0.92 GiB peak, and failed with an Out of
 * Memory Error at 10 M (22.5 GiB). In parts of 2 GiB the 10 M export ran with its statements
 * peaking at 1.31 GiB, in parts of 1 GiB at 1.24 GiB, for the same time per part of input
 * (bench/RESULTS.md). A part of 1 GiB is about 0.45 M records of 2.3 KB (the OTRF captures).
 */
export const STATEMENT_INPUT_BYTES = 1024 ** 3;

/** The units DuckDB reads in a memory limit, in bytes. */
const MEMORY_UNITS: Readonly<Record<string, number>> = {
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

/** A size DuckDB reads as a memory limit: a number and one of {@link MEMORY_UNITS} (`512MB`, `1.5GB`). */
const MEMORY_SIZE = new RegExp(`^([0-9]+(?:\\.[0-9]+)?)(${Object.keys(MEMORY_UNITS).join('|')})$`);

/**
 * A memory limit given by a user, checked before it reaches DuckDB's `SET memory_limit`.
 * @throws SessiontrailError `BAD_REQUEST` when it is not a number and a unit, or under 64 MB (DuckDB
 *   cannot read a line of the largest size the intake passes, 16 MiB, per thread in less).
 */
export function checkMemoryLimit(text: string): string {
  const size = text.trim();
  const m = MEMORY_SIZE.exec(size);
  const bytes = m === null ? Number.NaN : Number(m[1]) * (MEMORY_UNITS[m[2] as string] ?? Number.NaN);
  if (!(bytes >= 64e6))
    throw new SessiontrailError(
      'BAD_REQUEST',
      `memory limit ${JSON.stringify(text)} is not a size of at least 64MB written as a number and a unit, e.g. 512MB, 1.5GB or 2GiB`,
    );
  return size;
}

/** The pack's database file, in the engine's spill folder. */
const WORK_DATABASE = 'work.duckdb';

/** Spill folders of open engines, removed at exit if their engine was not closed (a crash, a signal). */
const OPEN_SPILL_DIRS = new Set<string>();
let exitHookInstalled = false;
function removeOpenSpillDirs(): void {
  for (const dir of OPEN_SPILL_DIRS) rmSync(dir, { recursive: true, force: true });
  OPEN_SPILL_DIRS.clear();
}

/**
 * Embedded DuckDB behind the {@link QueryEngine} port: a database per pack, in a file of the
 * engine's own spill folder (removed with it), so that the working tables are stored compressed and
 * the engine can leave them on disk under its memory limit. An in-memory database kept them
 * uncompressed in memory: about 570 bytes per raw line in the Windows lines table, which grew with
 * the input (bench/RESULTS.md).
 */
export class DuckDbEngine implements QueryEngine {
  readonly dialect = duckdbDialect;

  readonly statementInputBytes: number;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** The spill folder this engine owns. */
    readonly tempDirectory: string,
    /** The limit the engine was opened with, if one was given. */
    private readonly memoryLimit: string | undefined,
    /** The limit in force on the connection now. */
    private currentLimit: string,
    statementInputBytes: number,
  ) {
    this.statementInputBytes = statementInputBytes;
  }

  /**
   * Opens the pack's database (a file in the spill folder) with the Trino-name shims and UTC as the session zone, a memory
   * limit, and a spill folder of its own.
   * @throws SessiontrailError `BAD_REQUEST` for a memory limit that is no size ({@link checkMemoryLimit});
   *   `QUERY_FAILED` when DuckDB cannot start.
   */
  static async open(options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    const fixedLimit = options.memoryLimit === undefined ? undefined : checkMemoryLimit(options.memoryLimit);
    const tempDirectory = mkdtempSync(join(options.tempRoot ?? tmpdir(), 'sessiontrail-duckdb-'));
    OPEN_SPILL_DIRS.add(tempDirectory);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', removeOpenSpillDirs);
    }
    const openLimit = fixedLimit ?? NORMALISE_MEMORY_LIMIT;
    const config: Record<string, string> = {
      memory_limit: openLimit,
      temp_directory: tempDirectory,
    };
    if (options.threads !== undefined) config.threads = String(options.threads);
    try {
      const instance = await DuckDBInstance.create(join(tempDirectory, WORK_DATABASE), config);
      const connection = await instance.connect();
      await connection.run(`SET TimeZone = 'UTC'`);
      // The database is scratch, removed with its folder on close: a checkpoint at shutdown would
      // rewrite its tables only to delete them. At 5 M records that checkpoint took 2.1 s of CPU
      // and was the export's memory peak (1,272 MiB during the close, 942 MiB before it;
      // bench/RESULTS.md).
      await connection.run('PRAGMA disable_checkpoint_on_shutdown');
      for (const shim of DUCKDB_SHIMS) await connection.run(shim);
      return new DuckDbEngine(
        instance,
        connection,
        tempDirectory,
        fixedLimit,
        openLimit,
        options.statementInputBytes ?? STATEMENT_INPUT_BYTES,
      );
    } catch (cause) {
      OPEN_SPILL_DIRS.delete(tempDirectory);
      rmSync(tempDirectory, { recursive: true, force: true });
      throw new SessiontrailError(
        'QUERY_FAILED',
        `DuckDB could not start: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  /**
   * Lowers the memory limit to {@link RELEASED_MEMORY_LIMIT}: DuckDB then evicts the blocks it
   * cached (the working tables stay in the database file) and hands the memory back. The next
   * statement, if any, sets its own limit again ({@link memoryLimitFor}).
   */
  async release(): Promise<void> {
    await this.connection.run(`SET memory_limit = ${literal(RELEASED_MEMORY_LIMIT)}`);
    this.currentLimit = RELEASED_MEMORY_LIMIT;
  }

  async describe() {
    const reader = await this.connection.runAndReadAll('SELECT version() AS v');
    return { name: 'duckdb', version: String(reader.getRowObjectsJS()[0]?.v ?? 'unknown') };
  }

  /** `INSERT INTO` the working table, its columns by position (the same query builder made both). */
  async append(table: string, query: SqlQuery): Promise<QueryRun> {
    const started = performance.now();
    const reader = await this.run(query, `INSERT INTO ${this.dialect.workTable(table)} ${query.sql}`);
    return {
      name: query.name,
      engineQueryId: null,
      rows: Number(Object.values(reader.getRowObjectsJS()[0] ?? {})[0] ?? 0),
      durationMs: performance.now() - started,
      bytesScanned: null,
    };
  }

  async materialize(table: string, query: SqlQuery): Promise<QueryRun> {
    const started = performance.now();
    const name = this.dialect.workTable(table);
    await this.run(query, `CREATE OR REPLACE TABLE ${name} AS ${query.sql}`);
    const count = await this.connection.runAndReadAll(`SELECT count(*) AS n FROM ${name}`);
    return {
      name: query.name,
      engineQueryId: null,
      rows: Number(count.getRowObjectsJS()[0]?.n ?? 0),
      durationMs: performance.now() - started,
      bytesScanned: null,
    };
  }

  async select(query: SqlQuery): Promise<{ rows: Row[]; run: QueryRun }> {
    const started = performance.now();
    const reader = await this.run(query, query.sql);
    const names = reader.columnNames();
    const rows = reader.getRowsJS().map((values) => rowOf(names, (i) => toCell(values[i])));
    return {
      rows,
      run: {
        name: query.name,
        engineQueryId: null,
        rows: rows.length,
        durationMs: performance.now() - started,
        bytesScanned: null,
      },
    };
  }

  /** Closes the database and removes its spill folder. */
  async close(): Promise<void> {
    try {
      this.connection.closeSync();
      this.instance.closeSync();
    } finally {
      OPEN_SPILL_DIRS.delete(this.tempDirectory);
      rmSync(this.tempDirectory, { recursive: true, force: true });
    }
  }

  private async run(query: SqlQuery, text: string) {
    try {
      const limit = memoryLimitFor(query, this.memoryLimit);
      if (limit !== this.currentLimit) {
        // SET takes no parameter: the limit goes through the one quoting function.
        await this.connection.run(`SET memory_limit = ${literal(limit)}`);
        this.currentLimit = limit;
      }
      return await this.connection.runAndReadAll(text, query.params.map(toDuckValue));
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      // DuckDB's own advice ("SET memory_limit") names a setting the user cannot reach: name ours.
      const advice = /Out of Memory Error/.test(message)
        ? ` (the statement ran under a memory limit of ${memoryLimitFor(query, this.memoryLimit)}: open the engine with a larger memoryLimit, from the command line --memory-limit, e.g. 2GB)`
        : '';
      throw new SessiontrailError(
        'QUERY_FAILED',
        `DuckDB could not run query ${query.name}: ${message}${advice}`,
        {
          cause,
        },
      );
    }
  }
}

function toDuckValue(value: SqlValue): DuckDBValue {
  if (Array.isArray(value)) return listValue([...value]);
  return value as DuckDBValue;
}

function toCell(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}
