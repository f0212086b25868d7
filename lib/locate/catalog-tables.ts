/**
 * The raw tables of a Trino (or Starburst) catalog that sessiontrail reads: each source's table as
 * its raw-table spec defines it (`<catalog>.<schema>.<spec.table>`, created with the DDL of
 * `lib/locate/raw-table-ddl.ts`, see the README's "Run on Trino"). Only the tables that exist
 * are read, so `sources()` of the resulting locator is what the catalog holds.
 */
import { SessiontrailError } from '../errors.ts';
import type { QueryEngine } from '../query/query-engine.ts';
import { identifier } from '../query/sql.ts';
import { SOURCE_NAMES, SOURCES } from '../sources/index.ts';
import { type RawTableSpec, stagedRecordsTable } from '../sources/raw-table.ts';
import { type SourceTable, sourceTableOf } from './raw-input-plan.ts';

export interface CatalogTablesOptions {
  readonly catalog: string;
  readonly schema: string;
  /** A source's layout when it is not its own spec (e.g. OCSF as JSON: `OCSF_JSON_TABLE`). */
  readonly specs?: Readonly<Record<string, RawTableSpec>>;
  /** The prefix of `"$path"` that object keys leave out (the tables' common location). */
  readonly keyPrefix?: string;
}

/** The raw-table spec a source is read with: the override, else the source's own. */
function specOf(source: string, specs: CatalogTablesOptions['specs']): RawTableSpec {
  const spec = specs?.[source] ?? SOURCES[source]?.rawTable;
  if (spec === undefined)
    throw new SessiontrailError(
      'BAD_REQUEST',
      `unknown source ${JSON.stringify(source)}; known: ${SOURCE_NAMES.join(', ')}`,
    );
  return spec;
}

/** The {@link SourceTable} of each of `sources` in `<catalog>.<schema>`, whether or not it exists. */
export function catalogTables(
  sources: readonly string[],
  options: CatalogTablesOptions,
): Readonly<Record<string, SourceTable>> {
  const database = `${identifier(options.catalog)}.${identifier(options.schema)}`;
  return Object.fromEntries(
    sources.map((s) => [
      s,
      sourceTableOf(specOf(s, options.specs), {
        database,
        ...(options.keyPrefix === undefined ? {} : { logsRoot: options.keyPrefix }),
      }),
    ]),
  );
}

/**
 * The known sources whose raw table exists in `<catalog>.<schema>`, asked of the engine's
 * `information_schema` (the catalog is a validated identifier, the schema a parameter). A table of
 * a Parquet source that has a single `line` column holds the staged records of its JSON files (OCSF
 * written as JSON) and is read as such ({@link stagedRecordsTable}), so the reader follows the table
 * as it was created.
 * @throws SessiontrailError `QUERY_FAILED` / `ENGINE_UNAVAILABLE` from the engine.
 */
export async function existingCatalogTables(
  engine: QueryEngine,
  options: CatalogTablesOptions,
): Promise<Readonly<Record<string, SourceTable>>> {
  const catalog = identifier(options.catalog);
  const { rows } = await engine.select({
    name: 'raw-tables',
    sql: `SELECT table_name, column_name FROM ${catalog}.information_schema.columns WHERE table_schema = ?`,
    params: [options.schema],
  });
  const columns = new Map<string, Set<string>>();
  for (const r of rows) {
    const table = String(r.table_name);
    if (!columns.has(table)) columns.set(table, new Set());
    columns.get(table)?.add(String(r.column_name));
  }
  const specs: Record<string, RawTableSpec> = {};
  const sources: string[] = [];
  for (const source of SOURCE_NAMES) {
    const spec = specOf(source, options.specs);
    const have = columns.get(spec.table);
    if (have === undefined) continue;
    sources.push(source);
    specs[source] =
      spec.format === 'parquet' &&
      have.has('line') &&
      !spec.columns.some((c) => have.has(c.name.toLowerCase()))
        ? stagedRecordsTable(spec)
        : spec;
  }
  return catalogTables(sources, { ...options, specs });
}
