/**
 * Creates the raw tables sessiontrail reads in a Trino Hive catalog, over logs laid out as the S3
 * bucket (`<root>/<source>/dt=YYYY-MM-DD/…`, CloudTrail in AWS's own layout), from each source's
 * raw-table spec: `sessiontrail trino-tables` for a Trino or Starburst cluster over a lake, and the
 * tests' Trino. Partitions of a `name=value` layout are synchronised by Trino; CloudTrail's
 * `YYYY/MM/DD` folders are registered one by one from the `folders` given (the catalog must allow
 * `register_partition`, see scripts/trino/catalog/hive.properties).
 */
import type { QueryEngine } from '../query/query-engine.ts';
import { identifier, literal } from '../query/sql.ts';
import type { TrinoEngine } from '../query/trino/trino-engine.ts';
import { SOURCES } from '../sources/index.ts';
import type { RawTableSpec } from '../sources/raw-table.ts';
import { buildPartitionRegistrations, buildRawTableDdl, isHiveLayout } from './raw-table-ddl.ts';

export interface RawTablesTarget {
  readonly catalog: string;
  readonly schema: string;
  /** The logs root as Trino reads it, without a trailing `/`: `s3://bucket/logs`, `local:///srv/logs`. */
  readonly location: string;
  /** A source's layout when it is not its own spec (e.g. OCSF as JSON: `OCSF_JSON_TABLE`). */
  readonly specs?: Readonly<Record<string, RawTableSpec>>;
}

/**
 * The statements that create the schema and the raw table of each of `sources` under `target`;
 * `folders(spec)` lists the partition folders of a non-Hive layout, relative to the table location.
 */
export async function rawTableStatements(
  sources: readonly string[],
  target: RawTablesTarget,
  folders: (spec: RawTableSpec) => Promise<readonly string[]>,
): Promise<{ readonly statements: readonly string[]; readonly tables: readonly string[] }> {
  const catalog = identifier(target.catalog);
  const schema = identifier(target.schema);
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${catalog}.${schema} WITH (location = ${literal(target.location)})`,
  ];
  const tables: string[] = [];
  for (const source of sources) {
    const spec = target.specs?.[source] ?? SOURCES[source]?.rawTable;
    if (spec === undefined) throw new Error(`unknown source ${source}`);
    const where = { catalog, schema, location: `${target.location}/${spec.location}` };
    statements.push(...buildRawTableDdl(spec, where));
    if (!isHiveLayout(spec))
      statements.push(...buildPartitionRegistrations(spec, where, await folders(spec)));
    tables.push(spec.table);
  }
  return { statements, tables };
}

/** Runs {@link rawTableStatements} on `engine`; returns the tables created. */
export async function createRawTables(
  engine: Pick<TrinoEngine, 'execute'> & Pick<QueryEngine, 'dialect'>,
  sources: readonly string[],
  target: RawTablesTarget,
  folders: (spec: RawTableSpec) => Promise<readonly string[]>,
): Promise<readonly string[]> {
  const { statements, tables } = await rawTableStatements(sources, target, folders);
  for (const sql of statements) await engine.execute(sql, [], 'raw tables');
  return tables;
}
