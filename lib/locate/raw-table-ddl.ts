/**
 * The Hive DDL of a source's raw table on Trino, generated from its {@link RawTableSpec} (the same
 * spec the Glue table of the CDK app follows): the spec's columns (`line varchar` for a raw-line
 * table, typed columns for Parquet) and partitions, TEXTFILE with U+0001 as the field delimiter (one
 * line is one value; gzip files are read by their extension) or PARQUET.
 *
 * Partitions: Athena projects them; a Hive file metastore must be told. A layout of `name=value`
 * folders (`dt=…`, Security Lake's `region=…/accountId=…/eventDay=…`) is registered by
 * `sync_partition_metadata`; any other layout (CloudTrail's `<account>/CloudTrail/<region>/YYYY/MM/DD`)
 * folder by folder with `register_partition` ({@link buildPartitionRegistrations}), which the catalog
 * must allow (`hive.allow-register-partition-procedure=true`, scripts/trino/catalog/hive.properties).
 */

import { identifier, literal } from '../query/sql.ts';
import type { RawTableSpec } from '../sources/raw-table.ts';

export interface HiveTarget {
  readonly catalog: string;
  readonly schema: string;
  /** The table's location: the logs root followed by the spec's `location`. */
  readonly location: string;
}

/** True when every partition folder of the template is `name=${name}` (Hive's own layout). */
export function isHiveLayout(spec: RawTableSpec): boolean {
  const folders = spec.locationTemplate.slice(spec.location.length + 1).split('/');
  return (
    folders.length === spec.partitions.length &&
    folders.every((f, i) => {
      const name = spec.partitions[i]?.name ?? '';
      return f.toLowerCase() === `${name}=\${${name}}`.toLowerCase();
    })
  );
}

/**
 * Statements that (re)create the raw table of `spec` at `target.location`; for a Hive layout, also
 * the one that registers the partitions present.
 */
export function buildRawTableDdl(spec: RawTableSpec, target: HiveTarget): readonly string[] {
  const name = qualified(target, spec.table);
  const columns = [
    ...spec.columns.map((c) => `${quoteName(c.name)} ${trinoTypeOf(c.type)}`),
    ...spec.partitions.map((p) => `${identifier(p.name)} varchar`),
  ];
  const format =
    spec.format === 'parquet'
      ? `format = 'PARQUET'`
      : `format = 'TEXTFILE',\n  textfile_field_separator = U&'\\${spec.fieldDelimiter.codePointAt(0)?.toString(16).padStart(4, '0') ?? '0001'}'`;
  const statements = [
    `DROP TABLE IF EXISTS ${name}`,
    `CREATE TABLE ${name} (${columns.join(', ')})
WITH (
  ${format},
  external_location = ${literal(target.location)},
  partitioned_by = ARRAY[${spec.partitions.map((p) => literal(p.name)).join(', ')}]
)`,
  ];
  if (isHiveLayout(spec)) {
    // Folder names keep their case (`accountId=`), partition columns are lower case.
    statements.push(
      `CALL ${identifier(target.catalog)}.system.sync_partition_metadata(${literal(identifier(target.schema))}, ${literal(identifier(spec.table))}, 'FULL', false)`,
    );
  }
  return statements;
}

/**
 * The partition values of a folder (relative to the table location, `/`-separated) under the spec's
 * template, or null when the folder is not a partition. `yyyy/MM/dd` days span three folders.
 */
export function partitionValuesOf(spec: RawTableSpec, folder: string): readonly string[] | null {
  const template = spec.locationTemplate.slice(spec.location.length + 1);
  const names: string[] = [];
  const pattern = template
    .split(/(\$\{[^}]+\})/)
    .map((part) => {
      const m = /^\$\{([^}]+)\}$/.exec(part);
      if (m === null) return part.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
      names.push(m[1] as string);
      const day = spec.partition.name === m[1] ? spec.partition.format : null;
      if (day === 'yyyy/MM/dd') return '(\\d{4}/\\d{2}/\\d{2})';
      if (day === 'yyyy-MM-dd') return '(\\d{4}-\\d{2}-\\d{2})';
      if (day === 'yyyyMMdd') return '(\\d{8})';
      return '([^/]+)';
    })
    .join('');
  const m = new RegExp(`^${pattern}$`, 'i').exec(folder);
  if (m === null) return null;
  return spec.partitions.map((p) => m[names.indexOf(p.name) + 1] as string);
}

/**
 * `register_partition` calls for the partition folders among `folders` (relative to the table
 * location), for a layout that is not Hive's own (see {@link partitionValuesOf}).
 */
export function buildPartitionRegistrations(
  spec: RawTableSpec,
  target: HiveTarget,
  folders: readonly string[],
): readonly string[] {
  const out: string[] = [];
  for (const folder of [...new Set(folders)].sort()) {
    const values = partitionValuesOf(spec, folder);
    if (values === null) continue;
    out.push(
      `CALL ${identifier(target.catalog)}.system.register_partition(${literal(identifier(target.schema))}, ${literal(identifier(spec.table))}, ARRAY[${spec.partitions.map((p) => literal(p.name)).join(', ')}], ARRAY[${values.map(literal).join(', ')}], ${literal(`${target.location}/${folder}`)})`,
    );
  }
  return out;
}

/** A Hive type (`string`, `int`, `struct<a:string,b:map<string,string>>`, …) as a Trino type. */
export function trinoTypeOf(hiveType: string): string {
  const parser = new HiveTypeParser(hiveType.replaceAll(' ', ''));
  const type = parser.type();
  parser.end();
  return type;
}

const SCALARS: Readonly<Record<string, string>> = {
  string: 'varchar',
  varchar: 'varchar',
  bigint: 'bigint',
  int: 'integer',
  integer: 'integer',
  smallint: 'smallint',
  tinyint: 'tinyint',
  boolean: 'boolean',
  double: 'double',
  float: 'real',
  timestamp: 'timestamp(3)',
  date: 'date',
  binary: 'varbinary',
};

class HiveTypeParser {
  private at = 0;
  constructor(private readonly text: string) {}

  type(): string {
    const word = this.word().toLowerCase();
    if (word === 'struct') {
      this.expect('<');
      const fields: string[] = [];
      for (;;) {
        const name = this.word();
        this.expect(':');
        fields.push(`${quoteName(name)} ${this.type()}`);
        if (this.take(',')) continue;
        this.expect('>');
        return `ROW(${fields.join(', ')})`;
      }
    }
    if (word === 'map') {
      this.expect('<');
      const k = this.type();
      this.expect(',');
      const v = this.type();
      this.expect('>');
      return `MAP(${k}, ${v})`;
    }
    if (word === 'array') {
      this.expect('<');
      const e = this.type();
      this.expect('>');
      return `ARRAY(${e})`;
    }
    const scalar = SCALARS[word];
    if (scalar === undefined) throw new Error(`unknown Hive type ${word} in ${this.text}`);
    return scalar;
  }

  end(): void {
    if (this.at !== this.text.length)
      throw new Error(`unexpected ${this.text.slice(this.at)} in ${this.text}`);
  }

  private word(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at));
    if (m === null) throw new Error(`expected a name at ${this.at} in ${this.text}`);
    this.at += m[0].length;
    return m[0];
  }

  private take(c: string): boolean {
    if (this.text[this.at] !== c) return false;
    this.at++;
    return true;
  }

  private expect(c: string): void {
    if (!this.take(c)) throw new Error(`expected ${c} at ${this.at} in ${this.text}`);
  }
}

/** A column or field name, quoted (OCSF names such as `user` and `type` are reserved words). */
function quoteName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad column name ${JSON.stringify(name)}`);
  return `"${name.toLowerCase()}"`;
}

function qualified(target: HiveTarget, table: string): string {
  return `${identifier(target.catalog)}.${identifier(target.schema)}.${identifier(table)}`;
}
