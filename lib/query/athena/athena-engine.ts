import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsOutput,
  GetWorkGroupCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { type ErrorCode, isSessiontrailError, SessiontrailError } from '../../errors.ts';
import type { Dialect } from '../dialects/dialect.ts';
import { type CellValue, type QueryEngine, type QueryRun, type Row, rowOf } from '../query-engine.ts';
import { type SqlQuery, sqlLiteral } from '../sql.ts';
import { athenaDialect, athenaWorkTableParts } from './athena-dialect.ts';
import { assertAthenaPlaceholders, athenaQuery } from './athena-sql.ts';

/** Options of {@link AthenaEngine}. */
export interface AthenaEngineOptions {
  readonly client: AthenaClient;
  /** The workgroup every query runs in (its result location, scan limit and engine version apply). */
  readonly workGroup: string;
  /** The Glue database that holds the pack's working tables (validated identifier). */
  readonly workDatabase: string;
  /** @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /** Per pack, lower-case `[a-z0-9_]`: prefixes the working tables so that packs never share one. */
  readonly runId: string;
  /**
   * Backoff between polls of a running query (and between retries of a throttled call):
   * exponential from `initial`, capped at `max`, with full jitter.
   * @default { initial: 250, max: 5000 }
   */
  readonly pollMs?: { readonly initial: number; readonly max: number };
  /** How long one query may take, queueing included, before it is stopped. @default 600_000 (10 min) */
  readonly deadlineMs?: number;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds on a monotonic-enough clock, for the deadline. @default Date.now */
  readonly now?: () => number;
  /** Uniform in [0, 1), for the jitter. @default Math.random */
  readonly random?: () => number;
}

const DEFAULT_CATALOG = 'AwsDataCatalog';
const DEFAULT_ENGINE_VERSION = 'Athena engine version 3';
/** Tries of one API call when Athena throttles or fails transiently (first try included). */
const MAX_TRIES = 5;
/** GetQueryResults returns at most 1,000 rows a page (Athena API reference). */
const PAGE_SIZE = 1000;

/** Error names that mean "try again later", from the Athena API reference and the SDK's throttling set. */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * Amazon Athena (engine v3) behind the {@link QueryEngine} port. Queries are Trino SQL; a value in a
 * WHERE clause goes to Athena as an execution parameter, every other value as a typed literal
 * written by the one escaping function (see {@link athenaQuery}, which the dialect's `bindValues`
 * applies before the pack records a query). Working tables are Parquet CTAS
 * tables named `"<workDatabase>"."<runId>_<name>"`, dropped by {@link close}.
 */
export class AthenaEngine implements QueryEngine {
  readonly dialect: Dialect;
  readonly #client: AthenaClient;
  readonly #workGroup: string;
  readonly #workDatabase: string;
  readonly #catalog: string;
  readonly #runId: string;
  readonly #poll: { readonly initial: number; readonly max: number };
  readonly #deadlineMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #random: () => number;
  /** Working tables this engine created (back-ticked DDL names), for {@link close}. */
  readonly #tables = new Set<string>();
  #version: Promise<string> | undefined;

  /**
   * @throws {SessiontrailError} `BAD_IDENTIFIER` for a bad `workDatabase` or `runId`; `BAD_CONFIG`
   *   for a non-positive poll interval or deadline.
   */
  constructor(options: AthenaEngineOptions) {
    this.dialect = athenaDialect(options.workDatabase, options.runId);
    this.#client = options.client;
    this.#workGroup = options.workGroup;
    this.#workDatabase = options.workDatabase;
    this.#catalog = options.catalog ?? DEFAULT_CATALOG;
    this.#runId = options.runId;
    this.#poll = options.pollMs ?? { initial: 250, max: 5000 };
    this.#deadlineMs = options.deadlineMs ?? 600_000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    if (!(this.#poll.initial > 0 && this.#poll.max >= this.#poll.initial)) {
      throw new SessiontrailError(
        'BAD_CONFIG',
        `Athena pollMs: expected 0 < initial <= max, received ${JSON.stringify(this.#poll)}`,
      );
    }
    if (!(this.#deadlineMs > 0)) {
      throw new SessiontrailError(
        'BAD_CONFIG',
        `Athena deadlineMs: expected a positive number, received ${this.#deadlineMs}`,
      );
    }
  }

  /**
   * `athena` and the workgroup's effective engine version (`Athena engine version 3` when the
   * workgroup does not say). Read once.
   *
   * @throws {SessiontrailError} `ENGINE_UNAVAILABLE` when the workgroup cannot be read.
   */
  async describe(): Promise<{ name: string; version: string }> {
    this.#version ??= this.#call('GetWorkGroup', () =>
      this.#client.send(new GetWorkGroupCommand({ WorkGroup: this.#workGroup })),
    ).then(
      (out) => out.WorkGroup?.Configuration?.EngineVersion?.EffectiveEngineVersion ?? DEFAULT_ENGINE_VERSION,
    );
    try {
      return { name: 'athena', version: await this.#version };
    } catch (err) {
      this.#version = undefined;
      throw err;
    }
  }

  /**
   * `INSERT INTO` a working table {@link materialize} made (Athena writes the new rows as further
   * Parquet files of the table), its columns by position.
   * @throws {SessiontrailError} as {@link materialize}; `QUERY_FAILED` when Athena does not report
   *   the rows added.
   */
  async append(table: string, query: SqlQuery): Promise<QueryRun> {
    const started = performance.now();
    const name = this.dialect.workTable(table);
    const bound = athenaQuery(query);
    const insert = await this.#execute(
      query.name,
      `INSERT INTO ${name}\n${bound.sql}`,
      toExecutionParameters(bound),
    );
    // Athena reports the rows an INSERT INTO wrote as the result's UpdateCount (GetQueryResults).
    const rows = await this.#updateCount(insert.id);
    if (rows === null)
      throw new SessiontrailError(
        'QUERY_FAILED',
        `Athena did not report how many rows ${query.name} added to ${table}`,
      );
    return {
      name: query.name,
      engineQueryId: insert.id,
      rows,
      durationMs: insert.engineMs ?? performance.now() - started,
      bytesScanned: sumBytes([insert]),
    };
  }

  /**
   * Runs `query` into the working table `table` as Parquet (`CREATE TABLE … AS`), dropping a table
   * of that name left by an earlier try of the same pack first. The row count is Athena's
   * `UpdateCount` for the CTAS, or a `count(*)` when Athena does not report it.
   *
   * @throws {SessiontrailError} `BAD_IDENTIFIER` for a bad table name; `QUERY_FAILED` when Athena
   *   fails or cancels the query or a parameter cannot be bound; `ENGINE_UNAVAILABLE` when Athena
   *   keeps throttling, is unreachable, or the deadline passes.
   */
  async materialize(table: string, query: SqlQuery): Promise<QueryRun> {
    const started = performance.now();
    const name = this.dialect.workTable(table);
    const ddlName = this.#ddlName(table);
    const bound = athenaQuery(query);
    const params = toExecutionParameters(bound);
    const drop = await this.#execute(query.name, `DROP TABLE IF EXISTS ${ddlName}`, []);
    this.#tables.add(ddlName);
    const ctas = await this.#execute(query.name, athenaCtas(name, bound.sql), params);
    let rows = await this.#updateCount(ctas.id);
    let counted: Executed | null = null;
    if (rows === null) {
      counted = await this.#execute(query.name, `SELECT count(*) AS n FROM ${name}`, []);
      const result = await this.#readAll(query.name, counted.id);
      const n = result[0]?.n;
      rows = typeof n === 'number' ? n : Number(n ?? 0);
    }
    return {
      name: query.name,
      engineQueryId: ctas.id,
      rows,
      durationMs: ctas.engineMs ?? performance.now() - started,
      // Everything the pack was billed for: the drop and the count scan nothing or next to nothing.
      bytesScanned: sumBytes([drop, ctas, counted]),
    };
  }

  /**
   * Runs `query` and returns its rows, converted by column type (see {@link toCell}).
   *
   * @throws {SessiontrailError} `QUERY_FAILED` when Athena fails or cancels the query or a
   *   parameter cannot be bound; `ENGINE_UNAVAILABLE` when Athena keeps throttling, is unreachable,
   *   or the deadline passes.
   */
  async select(query: SqlQuery): Promise<{ rows: Row[]; run: QueryRun }> {
    const started = performance.now();
    const bound = athenaQuery(query);
    const executed = await this.#execute(query.name, bound.sql, toExecutionParameters(bound));
    const rows = await this.#readAll(query.name, executed.id);
    return {
      rows,
      run: {
        name: query.name,
        engineQueryId: executed.id,
        rows: rows.length,
        durationMs: executed.engineMs ?? performance.now() - started,
        bytesScanned: executed.bytes,
      },
    };
  }

  /** Nothing to give back: Athena's memory is the service's, not this process's. */
  async release(): Promise<void> {}

  /**
   * Drops every working table this engine created. Each drop is tried even when another fails.
   *
   * @throws {SessiontrailError} `QUERY_FAILED` or `ENGINE_UNAVAILABLE` naming the tables left behind.
   */
  async close(): Promise<void> {
    const failed: { table: string; err: unknown }[] = [];
    for (const table of [...this.#tables]) {
      try {
        await this.#execute('close', `DROP TABLE IF EXISTS ${table}`, []);
        this.#tables.delete(table);
      } catch (err) {
        failed.push({ table, err });
      }
    }
    if (failed.length > 0) {
      const first = failed[0]?.err;
      throw new SessiontrailError(
        isSessiontrailError(first) ? first.code : 'ENGINE_UNAVAILABLE',
        `Athena: could not drop working table(s) ${failed.map((f) => f.table).join(', ')}: ${messageOf(first)}`,
        { cause: first },
      );
    }
  }

  /** `\`db\`.\`runId_name\``: DROP TABLE is Hive DDL on Athena, which quotes with back-ticks, not `"`. */
  #ddlName(table: string): string {
    const { database, table: name } = athenaWorkTableParts(this.#workDatabase, this.#runId, table);
    return `\`${database}\`.\`${name}\``;
  }

  /** Starts a query, waits for it to succeed, and returns its id and statistics. */
  async #execute(name: string, text: string, params: readonly string[]): Promise<Executed> {
    // The last word before Athena: no statement leaves with a `?` Athena does not take.
    assertAthenaPlaceholders(name, text, params.length);
    // One token for every try of this query: if a StartQueryExecution whose answer was lost did
    // start the query, the retry returns that execution instead of running (and billing) it twice.
    const token = randomUUID();
    const started = await this.#call('StartQueryExecution', () =>
      this.#client.send(
        new StartQueryExecutionCommand({
          QueryString: text,
          ClientRequestToken: token,
          WorkGroup: this.#workGroup,
          QueryExecutionContext: { Catalog: this.#catalog, Database: this.#workDatabase },
          ...(params.length > 0 ? { ExecutionParameters: [...params] } : {}),
        }),
      ),
    );
    const id = started.QueryExecutionId;
    if (id === undefined) {
      throw new SessiontrailError('ENGINE_UNAVAILABLE', `Athena started query ${name} but returned no id`);
    }
    const execution = await this.#waitFor(name, id);
    return {
      id,
      bytes: execution.Statistics?.DataScannedInBytes ?? null,
      engineMs: execution.Statistics?.EngineExecutionTimeInMillis ?? null,
    };
  }

  async #waitFor(name: string, id: string): Promise<QueryExecution> {
    const deadline = this.#now() + this.#deadlineMs;
    for (let attempt = 0; ; attempt++) {
      const out = await this.#call('GetQueryExecution', () =>
        this.#client.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      );
      const execution = out.QueryExecution ?? {};
      const status = execution.Status;
      switch (status?.State) {
        case 'SUCCEEDED':
          return execution;
        case 'FAILED': {
          const error = status.AthenaError;
          const detail = [
            status.StateChangeReason ?? error?.ErrorMessage ?? 'no reason given',
            error?.ErrorCategory === undefined ? null : `category ${error.ErrorCategory}`,
            error?.ErrorType === undefined ? null : `type ${error.ErrorType}`,
          ]
            .filter((p) => p !== null)
            .join('; ');
          throw new SessiontrailError('QUERY_FAILED', `Athena query ${name} (${id}) failed: ${detail}`);
        }
        case 'CANCELLED':
          // Athena cancels a query that passes the workgroup's scan limit, and says so in the reason.
          throw new SessiontrailError(
            'QUERY_FAILED',
            `Athena query ${name} (${id}) was cancelled: ${status.StateChangeReason ?? 'no reason given'}`,
          );
        default:
          break;
      }
      const wait = this.#backoff(attempt);
      if (this.#now() + wait > deadline) {
        await this.#client
          .send(new StopQueryExecutionCommand({ QueryExecutionId: id }))
          .catch(() => undefined);
        throw new SessiontrailError(
          'ENGINE_UNAVAILABLE',
          `Athena query ${name} (${id}) did not finish within ${this.#deadlineMs} ms (last state ${status?.State ?? 'unknown'}); it was stopped`,
        );
      }
      await this.#sleep(wait);
    }
  }

  /** The CTAS's `UpdateCount`, or null when Athena does not report one. */
  async #updateCount(id: string): Promise<number | null> {
    const out = await this.#call('GetQueryResults', () =>
      this.#client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1 })),
    );
    return typeof out.UpdateCount === 'number' ? out.UpdateCount : null;
  }

  async #readAll(name: string, id: string): Promise<Row[]> {
    const rows: Row[] = [];
    let columns: readonly ColumnInfo[] | undefined;
    let token: string | undefined;
    let first = true;
    do {
      const page: GetQueryResultsOutput = await this.#call('GetQueryResults', () =>
        this.#client.send(
          new GetQueryResultsCommand({
            QueryExecutionId: id,
            MaxResults: PAGE_SIZE,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo;
      if (columns === undefined) {
        throw new SessiontrailError(
          'QUERY_FAILED',
          `Athena query ${name} (${id}) returned no column metadata`,
        );
      }
      const data = page.ResultSet?.Rows ?? [];
      // The first row of the first page of a SELECT holds the column names, not data.
      const info: readonly ColumnInfo[] = columns;
      const names = info.map((column, i) => column.Name ?? `_col${i}`);
      for (const raw of first ? data.slice(1) : data) {
        rows.push(rowOf(names, (i) => toCell(raw.Data?.[i]?.VarCharValue, info[i] as ColumnInfo, name)));
      }
      first = false;
      token = page.NextToken;
    } while (token !== undefined);
    return rows;
  }

  /** Runs one API call, retrying throttling and transient failures with backoff, at most {@link MAX_TRIES} times. */
  async #call<T>(what: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        if (isSessiontrailError(err)) throw err;
        const retryable = isRetryable(err);
        if (retryable && attempt + 1 < MAX_TRIES) {
          await this.#sleep(this.#backoff(attempt));
          continue;
        }
        const code: ErrorCode =
          !retryable && nameOf(err) === 'InvalidRequestException' ? 'QUERY_FAILED' : 'ENGINE_UNAVAILABLE';
        const tries = retryable ? ` after ${attempt + 1} tries` : '';
        throw new SessiontrailError(
          code,
          `Athena ${what} in workgroup ${this.#workGroup} failed${tries}: ${nameOf(err)}: ${messageOf(err)}`,
          { cause: err },
        );
      }
    }
  }

  /** Exponential backoff with full jitter (a uniform wait up to the capped exponential). */
  #backoff(attempt: number): number {
    const cap = Math.min(this.#poll.max, this.#poll.initial * 2 ** attempt);
    return Math.floor(this.#random() * cap);
  }
}

interface Executed {
  readonly id: string;
  readonly bytes: number | null;
  readonly engineMs: number | null;
}

function sumBytes(list: readonly (Executed | null)[]): number | null {
  const known = list.filter((e): e is Executed => e !== null && e.bytes !== null);
  return known.length === 0 ? null : known.reduce((n, e) => n + (e.bytes ?? 0), 0);
}

function nameOf(err: unknown): string {
  if (err instanceof Error) return (err as { code?: string }).code ?? err.name;
  return 'Error';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isRetryable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$retryable) return true;
  if (RETRYABLE_NAMES.has(e.name) || (e.code !== undefined && RETRYABLE_NAMES.has(e.code))) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 429 || (status !== undefined && status >= 500);
}

/**
 * The statement that materialises `sql` into the working table `name` (quoted): a CTAS written as
 * Parquet. The Athena-shaped conformance suite runs the same text on Trino.
 */
export function athenaCtas(name: string, sql: string): string {
  return `CREATE TABLE ${name} WITH (format = 'PARQUET') AS\n${sql}`;
}

/**
 * The query's values as Athena execution parameters. Athena substitutes each parameter's text into
 * the query as a SQL literal (Athena user guide, "Use parameterized queries"), so each is the
 * value's typed literal from {@link sqlLiteral}, the one escaping function.
 *
 * @throws {SessiontrailError} `QUERY_FAILED` for a list (Athena has no array parameter: the
 *   query must go through {@link athenaQuery} first) or a value with no literal.
 */
export function toExecutionParameters(query: SqlQuery): string[] {
  return query.params.map((value, i) => {
    if (Array.isArray(value)) {
      throw new SessiontrailError(
        'QUERY_FAILED',
        `Athena cannot bind parameter ${i + 1} of query ${query.name}: it is a list of ${value.length} value(s), and Athena execution parameters are scalars only`,
      );
    }
    try {
      return sqlLiteral(value);
    } catch (err) {
      throw new SessiontrailError(
        'QUERY_FAILED',
        `Athena cannot bind parameter ${i + 1} of query ${query.name}: ${messageOf(err)}`,
        { cause: err },
      );
    }
  });
}

/**
 * One result cell from Athena's text form to the port's value, by the column's type: integers are
 * numbers when exact and strings otherwise (as the DuckDB engine does), `boolean` a boolean,
 * `double`/`real` a number, `timestamp` an ISO 8601 UTC string, `decimal` and everything else the
 * text Athena gave. A missing value is SQL NULL (Athena omits `VarCharValue` for NULL).
 *
 * @throws {SessiontrailError} `QUERY_FAILED` when a value does not parse as its column's type.
 */
export function toCell(text: string | undefined, column: ColumnInfo, queryName = 'query'): CellValue {
  if (text === undefined) return null;
  const type = (column.Type ?? 'varchar').toLowerCase().replace(/\(.*$/, '').trim();
  const bad = (): SessiontrailError =>
    new SessiontrailError(
      'QUERY_FAILED',
      `Athena query ${queryName}: column ${column.Name} of type ${column.Type} holds ${JSON.stringify(text.slice(0, 40))}`,
    );
  switch (type) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint': {
      if (!/^-?\d+$/.test(text)) throw bad();
      const n = BigInt(text);
      return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : text;
    }
    case 'boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw bad();
    case 'double':
    case 'real':
    case 'float': {
      if (text === 'NaN') return Number.NaN;
      if (text === 'Infinity') return Number.POSITIVE_INFINITY;
      if (text === '-Infinity') return Number.NEGATIVE_INFINITY;
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n)) throw bad();
      return n;
    }
    case 'timestamp':
    case 'timestamp with time zone': {
      const iso = isoTimestamp(text);
      if (iso === null) throw bad();
      return iso;
    }
    default:
      return text;
  }
}

/**
 * Athena prints timestamps as `2024-03-04 08:00:00.123` (no zone: UTC, as the queries compute in
 * UTC) or `… 08:00:00.123 UTC` / `… +02:00` with a zone. Fractions beyond milliseconds are
 * truncated, as `Date` cannot hold them.
 */
function isoTimestamp(text: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:\s*(UTC|Z|[+-]\d{2}:\d{2}))?$/.exec(
    text.trim(),
  );
  if (m === null) return null;
  const [, day, time, fraction = '', zone = 'Z'] = m;
  const ms = fraction.slice(0, 3).padEnd(3, '0');
  const date = new Date(`${day}T${time}.${ms}${zone === 'UTC' ? 'Z' : zone}`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
