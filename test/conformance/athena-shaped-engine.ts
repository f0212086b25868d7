/**
 * The statements the Athena engine sends, run on the real Trino: the conformance suite's Athena
 * mode. What is the same as `AthenaEngine` (lib/query/athena/athena-engine.ts), by sharing its code:
 * - the dialect (`athenaDialect`: working tables `"<workDatabase>"."<runId>_<name>"`, and values
 *   outside WHERE clauses written as literals by `athenaQuery` / `sqlLiteral`);
 * - the CTAS text (`athenaCtas`: Parquet), in a Hive catalog as Athena's Glue catalog is;
 * - the execution parameters (`toExecutionParameters`), bound here with Trino's
 *   `EXECUTE IMMEDIATE … USING`, the statement Athena's parameterized queries stand on;
 * - every statement checked by `assertAthenaPlaceholders` before it is sent;
 * - the rows of a select converted from their text by the Athena adapter's `toCell`;
 * - the row count of a materialised step read with `SELECT count(*)` (Athena's fallback when a
 *   CTAS reports no `UpdateCount`, which Trino's CTAS answer is not used for here);
 * - the raw tables as the CDK app defines them: `sourceTableOf(spec)` planned by `planRawInput`,
 *   as the functions' `athenaLocate` does.
 * What differs, and why: `DROP TABLE` is written with back-ticks for Athena (Hive DDL) and with
 * double quotes here (Trino refuses back-ticks); it carries no value.
 */
import { athenaDialect } from '../../lib/query/athena/athena-dialect.ts';
import { athenaCtas, toCell, toExecutionParameters } from '../../lib/query/athena/athena-engine.ts';
import { assertAthenaPlaceholders, athenaQuery } from '../../lib/query/athena/athena-sql.ts';
import type { Dialect } from '../../lib/query/dialects/dialect.ts';
import { type QueryEngine, type QueryRun, type Row, rowOf } from '../../lib/query/query-engine.ts';
import type { SqlQuery } from '../../lib/query/sql.ts';
import type { TrinoEngine } from '../../lib/query/trino/trino-engine.ts';

/** One statement as it was sent: the text and the execution parameters (Athena's strings). */
export interface SentStatement {
  readonly name: string;
  readonly text: string;
  readonly parameters: readonly string[];
}

/** The Athena engine's statements on a Trino whose X-Trino-Catalog is the Hive catalog of `workDatabase`. */
export class AthenaShapedEngine implements QueryEngine {
  readonly dialect: Dialect;
  /** Every statement sent, in order (for the `?`-placement and count assertions). */
  readonly sent: SentStatement[] = [];
  readonly #created = new Set<string>();

  constructor(
    private readonly trino: TrinoEngine,
    workDatabase: string,
    runId: string,
  ) {
    this.dialect = athenaDialect(workDatabase, runId);
  }

  describe() {
    return this.trino.describe();
  }

  async materialize(table: string, query: SqlQuery): Promise<QueryRun> {
    const name = this.dialect.workTable(table);
    const bound = athenaQuery(query);
    await this.#send(`${query.name} (drop)`, `DROP TABLE IF EXISTS ${name}`, []);
    this.#created.add(name);
    const ctas = await this.#send(query.name, athenaCtas(name, bound.sql), toExecutionParameters(bound));
    const counted = await this.#send(`${query.name} (count)`, `SELECT count(*) AS n FROM ${name}`, []);
    return {
      name: query.name,
      engineQueryId: ctas.queryId,
      rows: Number(counted.rows[0]?.[0] ?? 0),
      durationMs: ctas.elapsedMs,
      bytesScanned: ctas.processedBytes,
    };
  }

  /** As AthenaEngine.append: `INSERT INTO` the table, the rows added counted by Trino. */
  async append(table: string, query: SqlQuery): Promise<QueryRun> {
    const name = this.dialect.workTable(table);
    const bound = athenaQuery(query);
    const insert = await this.#send(
      query.name,
      `INSERT INTO ${name}\n${bound.sql}`,
      toExecutionParameters(bound),
    );
    return {
      name: query.name,
      engineQueryId: insert.queryId,
      rows: Number(insert.rows[0]?.[0] ?? 0),
      durationMs: insert.elapsedMs,
      bytesScanned: insert.processedBytes,
    };
  }

  async select(query: SqlQuery): Promise<{ rows: Row[]; run: QueryRun }> {
    const bound = athenaQuery(query);
    const result = await this.#send(query.name, bound.sql, toExecutionParameters(bound));
    const names = result.columns.map((col) => col.name);
    const rows = result.rows.map((values) =>
      rowOf(names, (i) =>
        toCell(asText(values[i]), { Name: names[i], Type: result.columns[i]?.type }, query.name),
      ),
    );
    return {
      rows,
      run: {
        name: query.name,
        engineQueryId: result.queryId,
        rows: rows.length,
        durationMs: result.elapsedMs,
        bytesScanned: result.processedBytes,
      },
    };
  }

  /** As Athena's: nothing held in this process. */
  async release(): Promise<void> {}

  async close(): Promise<void> {
    for (const name of this.#created) {
      await this.trino.execute(`DROP TABLE IF EXISTS ${name}`, [], 'close').catch(() => undefined);
    }
    this.#created.clear();
  }

  /**
   * Sends one statement as Athena would receive it: the parameters are already literals (Athena's
   * ExecutionParameters), so they go into `EXECUTE IMMEDIATE … USING` as they are.
   */
  async #send(name: string, text: string, parameters: readonly string[]) {
    assertAthenaPlaceholders(name, text, parameters.length);
    this.sent.push({ name, text, parameters });
    const sql =
      parameters.length === 0
        ? text
        : `EXECUTE IMMEDIATE '${text.replaceAll("'", "''")}' USING ${parameters.join(', ')}`;
    return this.trino.execute(sql, [], name);
  }
}

/**
 * A Trino JSON result value as the text GetQueryResults would hold (`VarCharValue`), so that the
 * Athena adapter's own conversion (`toCell`, by column type) reads it. NULL is no text, as Athena
 * omits `VarCharValue` for NULL.
 */
function asText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}
