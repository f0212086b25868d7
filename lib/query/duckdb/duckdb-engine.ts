import { performance } from 'node:perf_hooks';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue, listValue } from '@duckdb/node-api';
import { SessiontrailError } from '../../errors.ts';
import { DUCKDB_SHIMS, duckdbDialect } from '../dialects/duckdb-dialect.ts';
import type { CellValue, QueryEngine, QueryRun, Row } from '../query-engine.ts';
import type { SqlQuery, SqlValue } from '../sql.ts';

export interface DuckDbEngineOptions {
  /** Worker threads; `undefined` lets DuckDB use every core. */
  readonly threads?: number;
  /** Memory limit, e.g. `'2GB'`. */
  readonly memoryLimit?: string;
}

/** Embedded DuckDB behind the {@link QueryEngine} port: an in-memory database per pack. */
export class DuckDbEngine implements QueryEngine {
  readonly dialect = duckdbDialect;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens an in-memory database with the Trino-name shims and UTC as the session zone. */
  static async open(options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    const config: Record<string, string> = {};
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    const instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    await connection.run(`SET TimeZone = 'UTC'`);
    for (const shim of DUCKDB_SHIMS) await connection.run(shim);
    return new DuckDbEngine(instance, connection);
  }

  async describe() {
    const reader = await this.connection.runAndReadAll('SELECT version() AS v');
    return { name: 'duckdb', version: String(reader.getRowObjectsJS()[0]?.v ?? 'unknown') };
  }

  async materialize(table: string, query: SqlQuery): Promise<QueryRun> {
    const started = performance.now();
    const name = this.dialect.workTable(table);
    await this.run(query, `CREATE OR REPLACE TEMP TABLE ${name} AS ${query.sql}`);
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
    const rows = reader.getRowObjectsJS().map(toRow);
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

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private async run(query: SqlQuery, text: string) {
    try {
      return await this.connection.runAndReadAll(text, query.params.map(toDuckValue));
    } catch (cause) {
      throw new SessiontrailError(
        'QUERY_FAILED',
        `DuckDB could not run query ${query.name}: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }
}

function toDuckValue(value: SqlValue): DuckDBValue {
  if (Array.isArray(value)) return listValue([...value]);
  return value as DuckDBValue;
}

function toRow(raw: Record<string, unknown>): Row {
  const row: Record<string, CellValue> = {};
  for (const [key, value] of Object.entries(raw)) row[key] = toCell(value);
  return row;
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
