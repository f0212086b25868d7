/**
 * The Hive DDL of a source's raw-line table on Trino, generated from its {@link RawTableSpec} (the
 * same spec the Glue table of the CDK app follows): one `line varchar` column, the `dt` partition,
 * TEXTFILE with U+0001 as the field delimiter, so that one line is one value and gzip files are read
 * by their extension.
 */

import type { RawTableSpec } from '../../sources/raw-table.ts';
import { identifier, literal } from '../sql.ts';

/** Statements that (re)create the raw-line table of `spec` over `location` and register its partitions. */
export function buildRawTableDdl(
  spec: RawTableSpec,
  target: { readonly catalog: string; readonly schema: string; readonly location: string },
): readonly string[] {
  const catalog = identifier(target.catalog);
  const schema = identifier(target.schema);
  const table = identifier(spec.table);
  const columns = [
    ...spec.columns.map((c) => `${identifier(c.name)} varchar`),
    `${identifier(spec.partition.name)} varchar`,
  ];
  const delimiter = spec.fieldDelimiter.codePointAt(0)?.toString(16).padStart(4, '0') ?? '0001';
  return [
    `DROP TABLE IF EXISTS ${catalog}.${schema}.${table}`,
    `CREATE TABLE ${catalog}.${schema}.${table} (${columns.join(', ')})
WITH (
  format = 'TEXTFILE',
  external_location = ${literal(target.location)},
  partitioned_by = ARRAY[${literal(spec.partition.name)}],
  textfile_field_separator = U&'\\${delimiter}'
)`,
    // Partitions are the `dt=YYYY-MM-DD` folders that exist (Athena projects them instead).
    `CALL ${catalog}.system.sync_partition_metadata(${literal(schema)}, ${literal(table)}, 'FULL')`,
  ];
}
