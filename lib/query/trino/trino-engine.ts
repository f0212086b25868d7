/**
 * Trino behind the {@link QueryEngine} port, over Trino's HTTP client protocol (`POST
 * /v1/statement`, then `nextUri` until done).
 *
 * Why `fetch` and not a Trino client package: those parse responses with `JSON.parse`, which
 * rounds BIGINTs above 2^53 (log fields such as record numbers can be that large), and their errors
 * do not tell an unreachable server from a failed query. The protocol is four headers and a loop.
 *
 * Parameters are bound with `EXECUTE IMMEDIATE '<query>' USING <values>`: the query text is sent
 * as it is recorded in the pack (with `?`), and each value travels as a typed literal in the USING
 * list, never spliced into the query. (`PREPARE` would need the prepared text echoed in an HTTP
 * header on every request, and the normalising query is larger than Trino's default header limit.)
 */
import { performance } from 'node:perf_hooks';
import { SessiontrailError } from '../../errors.ts';
import { trinoDialect } from '../dialects/trino-dialect.ts';
import { type CellValue, type QueryEngine, type QueryRun, type Row, rowOf } from '../query-engine.ts';
import { identifier, type SqlQuery, type SqlValue, sqlLiteral } from '../sql.ts';
import { parseExactJson } from './trino-json.ts';

export interface TrinoEngineOptions {
  /** Coordinator URL, e.g. `http://127.0.0.1:8080`. */
  readonly server: string;
  /**
   * Writable catalog that holds the working schema (`memory`, or a Hive catalog). The raw tables
   * are named by the locator (`lib/locate/`), not by the engine.
   */
  readonly workCatalog: string;
  /** Schema for this pack's working tables; created when missing. One per concurrent pack. */
  readonly workSchema: string;
  /** Trino user name (`X-Trino-User`). */
  readonly user: string;
  /**
   * Milliseconds one query may take, end to end, before it is cancelled.
   * @default 600000
   */
  readonly queryTimeoutMs?: number;
}

interface StatementResponse {
  readonly id: string;
  readonly nextUri?: string;
  readonly columns?: readonly { readonly name: string; readonly type: string }[];
  readonly data?: readonly (readonly unknown[])[];
  readonly stats?: {
    readonly state?: string;
    readonly elapsedTimeMillis?: number;
    readonly processedBytes?: number;
    readonly physicalInputBytes?: number;
  };
  readonly error?: { readonly message?: string; readonly errorName?: string; readonly errorType?: string };
}

interface Statement {
  readonly queryId: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: (readonly unknown[])[];
  readonly elapsedMs: number;
  readonly processedBytes: number | null;
}

/** Trino (or a Trino-compatible server) behind the {@link QueryEngine} port. */
export class TrinoEngine implements QueryEngine {
  readonly dialect;
  private readonly server: string;
  private readonly workCatalog: string;
  private readonly workSchema: string;
  private readonly timeoutMs: number;
  private readonly created = new Set<string>();
  private schemaReady = false;

  constructor(private readonly options: TrinoEngineOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.workCatalog = identifier(options.workCatalog);
    this.workSchema = identifier(options.workSchema);
    this.timeoutMs = options.queryTimeoutMs ?? 600_000;
    this.dialect = trinoDialect(this.workSchema);
  }

  /** @throws SessiontrailError `ENGINE_UNAVAILABLE` when the server cannot be reached. */
  async describe(): Promise<{ name: string; version: string }> {
    const info = await this.http(`${this.server}/v1/info`, { method: 'GET' });
    const version = (info as { nodeVersion?: { version?: unknown } }).nodeVersion?.version;
    return { name: 'trino', version: typeof version === 'string' ? version : 'unknown' };
  }

  /**
   * `CREATE TABLE <workCatalog>.<workSchema>.<table> AS <query>`, dropping the table first.
   * @throws SessiontrailError `QUERY_FAILED` (with Trino's error name) or `ENGINE_UNAVAILABLE`.
   */
  async materialize(table: string, query: SqlQuery): Promise<QueryRun> {
    const started = performance.now();
    await this.ensureWorkSchema();
    const name = this.dialect.workTable(table);
    await this.execute(`DROP TABLE IF EXISTS ${name}`, [], `${query.name} (drop)`);
    this.created.add(name);
    const result = await this.execute(`CREATE TABLE ${name} AS ${query.sql}`, query.params, query.name);
    const count = Number(result.rows[0]?.[0] ?? 0);
    return {
      name: query.name,
      engineQueryId: result.queryId,
      rows: count,
      durationMs: result.elapsedMs || performance.now() - started,
      bytesScanned: result.processedBytes,
    };
  }

  /**
   * `INSERT INTO` a working table {@link materialize} made, its columns by position.
   * @throws SessiontrailError `QUERY_FAILED` (with Trino's error name) or `ENGINE_UNAVAILABLE`.
   */
  async append(table: string, query: SqlQuery): Promise<QueryRun> {
    const started = performance.now();
    const name = this.dialect.workTable(table);
    const result = await this.execute(`INSERT INTO ${name} ${query.sql}`, query.params, query.name);
    return {
      name: query.name,
      engineQueryId: result.queryId,
      rows: Number(result.rows[0]?.[0] ?? 0),
      durationMs: result.elapsedMs || performance.now() - started,
      bytesScanned: result.processedBytes,
    };
  }

  /** @throws SessiontrailError `QUERY_FAILED` (with Trino's error name) or `ENGINE_UNAVAILABLE`. */
  async select(query: SqlQuery): Promise<{ rows: Row[]; run: QueryRun }> {
    const started = performance.now();
    const result = await this.execute(query.sql, query.params, query.name);
    const names = result.columns.map((col) => col.name);
    const rows = result.rows.map((values) =>
      rowOf(names, (i) => toCell(values[i], result.columns[i]?.type ?? 'varchar')),
    );
    return {
      rows,
      run: {
        name: query.name,
        engineQueryId: result.queryId,
        rows: rows.length,
        durationMs: result.elapsedMs || performance.now() - started,
        bytesScanned: result.processedBytes,
      },
    };
  }

  /**
   * Nothing to give back here: the working tables live in the cluster's catalog, and its memory is
   * the cluster's, not this process's (they are dropped on {@link close}).
   */
  async release(): Promise<void> {}

  /** Drops the working tables this engine created (memory catalogs keep them until dropped). */
  async close(): Promise<void> {
    for (const name of this.created) {
      try {
        await this.execute(`DROP TABLE IF EXISTS ${name}`, [], 'close');
      } catch {
        // Best effort: a server that went away has dropped its memory tables already.
      }
    }
    this.created.clear();
  }

  /** Runs one statement with bound parameters to completion. */
  async execute(sql: string, params: readonly SqlValue[], name: string): Promise<Statement> {
    const text =
      params.length === 0
        ? sql
        : `EXECUTE IMMEDIATE ${quote(sql)} USING ${params.map((v) => toLiteral(v)).join(', ')}`;
    const deadline = Date.now() + this.timeoutMs;
    let response = (await this.http(`${this.server}/v1/statement`, {
      method: 'POST',
      body: text,
    })) as StatementResponse;
    const rows: (readonly unknown[])[] = [];
    let columns = response.columns;
    for (;;) {
      if (response.columns !== undefined) columns = response.columns;
      if (response.data !== undefined) rows.push(...response.data);
      if (response.error !== undefined) {
        const e = response.error;
        throw new SessiontrailError(
          'QUERY_FAILED',
          `Trino could not run query ${name} (${response.id}): ${e.errorName ?? e.errorType ?? 'error'}: ${e.message ?? 'no message'}`,
          { cause: e },
        );
      }
      if (response.nextUri === undefined) break;
      if (Date.now() > deadline) {
        await this.http(response.nextUri, { method: 'DELETE' }).catch(() => undefined);
        throw new SessiontrailError(
          'QUERY_FAILED',
          `Trino query ${name} (${response.id}) did not finish within ${this.timeoutMs} ms; cancelled`,
        );
      }
      response = (await this.http(response.nextUri, { method: 'GET' })) as StatementResponse;
    }
    const stats = response.stats;
    return {
      queryId: response.id,
      columns: columns ?? [],
      rows,
      elapsedMs: stats?.elapsedTimeMillis ?? 0,
      processedBytes: stats?.processedBytes ?? stats?.physicalInputBytes ?? null,
    };
  }

  private async ensureWorkSchema(): Promise<void> {
    if (this.schemaReady) return;
    await this.execute(
      `CREATE SCHEMA IF NOT EXISTS ${this.workCatalog}.${this.workSchema}`,
      [],
      'create work schema',
    );
    this.schemaReady = true;
  }

  private async http(url: string, init: { method: string; body?: string }): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: init.method,
        ...(init.body === undefined ? {} : { body: init.body }),
        headers: {
          'X-Trino-User': this.options.user,
          'X-Trino-Source': 'sessiontrail',
          'X-Trino-Catalog': this.workCatalog,
          'X-Trino-Schema': this.workSchema,
          'X-Trino-Time-Zone': 'UTC',
        },
      });
    } catch (cause) {
      throw new SessiontrailError(
        'ENGINE_UNAVAILABLE',
        `expected a Trino server at ${this.server}, but it could not be reached: ${describeCause(cause)}`,
        { cause },
      );
    }
    const body = await res.text();
    // 502/503/504: a coordinator that is starting or behind a proxy that lost it.
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      throw new SessiontrailError(
        'ENGINE_UNAVAILABLE',
        `expected a Trino server at ${this.server}, received HTTP ${res.status}`,
      );
    }
    if (!res.ok) {
      throw new SessiontrailError(
        'QUERY_FAILED',
        `Trino answered HTTP ${res.status} to ${init.method} ${new URL(url).pathname}: ${body.slice(0, 300)}`,
      );
    }
    return init.method === 'DELETE' ? null : parseExactJson(body);
  }
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause;
  const code = inner && typeof inner === 'object' && 'code' in inner ? ` (${String(inner.code)})` : '';
  return `${cause.message}${code}`;
}

/** The query text as a string literal for `EXECUTE IMMEDIATE`. */
function quote(text: string): string {
  return sqlLiteral(text);
}

/** A parameter value as a typed Trino literal for the USING list: {@link sqlLiteral}, the one escaping function. */
export function toLiteral(value: SqlValue): string {
  return sqlLiteral(value);
}

/** A Trino JSON result value as the use case sees it (same shapes as the DuckDB adapter). */
function toCell(value: unknown, type: string): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'string') {
    // DECIMAL arrives as text; DuckDB hands decimals over as numbers.
    if (type.startsWith('decimal')) return Number(value);
    return value;
  }
  return JSON.stringify(value);
}
