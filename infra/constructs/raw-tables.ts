/**
 * The Glue tables over the logs, generated from the sources' raw-table specs
 * (lib/sources/raw-table.ts, the one place that knows the columns and the layout): the Glue
 * `TableInput` of a spec, and the S3 prefixes a table reads (what the exporter may read, nothing
 * more).
 */
import type * as glue from 'aws-cdk-lib/aws-glue';
import { placeholder, type RawTableSpec, rawTableProblems } from '../../lib/sources/raw-table.ts';

/** Where a spec's table is, and the deployment's values for its enum partitions. */
export interface RawTablePlacement {
  readonly bucket: string;
  /** Key prefix of the sources, without slashes; '' for the bucket root. */
  readonly logsPrefix: string;
  /** Values of `enum` partitions by list name (may hold CloudFormation tokens such as the stack's account). */
  readonly values: { readonly accounts: readonly string[]; readonly regions: readonly string[] };
}

/** At most this many folders per table in the read policy; beyond, the policy reads the common prefix. */
export const MAX_READ_PREFIXES = 20;

export function underPrefix(p: RawTablePlacement, path: string): string {
  return p.logsPrefix === '' ? path : `${p.logsPrefix}/${path}`;
}

/**
 * The Glue `TableInput` of a source's table: projected partitions (date from the spec's first day to
 * NOW; enum from the deployment's lists), the location template, and the format (raw lines through
 * LazySimpleSerDe with U+0001 as the field delimiter, or Parquet).
 * @throws Error when the spec is incoherent or an enum partition has no values.
 */
export function glueTableInput(spec: RawTableSpec, p: RawTablePlacement): glue.CfnTable.TableInputProperty {
  const problems = rawTableProblems(spec);
  if (problems.length > 0) throw new Error(`raw table ${spec.table}: ${problems.join('; ')}`);
  const parameters: Record<string, string> = { EXTERNAL: 'TRUE', 'projection.enabled': 'true' };
  for (const part of spec.partitions) {
    const key = `projection.${part.name}`;
    if (part.projection.type === 'date') {
      parameters[`${key}.type`] = 'date';
      parameters[`${key}.format`] = part.projection.format;
      parameters[`${key}.range`] = `${part.projection.start},NOW`;
      parameters[`${key}.interval`] = '1';
      parameters[`${key}.interval.unit`] = 'DAYS';
    } else {
      const values = p.values[part.projection.values];
      if (values.length === 0)
        throw new Error(
          `raw table ${spec.table}: partition ${part.name} needs at least one ${part.projection.values} value`,
        );
      parameters[`${key}.type`] = 'enum';
      parameters[`${key}.values`] = values.join(',');
    }
  }
  const root = `s3://${p.bucket}/`;
  parameters['storage.location.template'] = `${root}${underPrefix(p, spec.locationTemplate)}`;
  const lines = spec.format !== 'parquet';
  if (!lines) parameters.classification = 'parquet';
  return {
    name: spec.table,
    description: lines
      ? `sessiontrail: raw ${spec.source} log lines, one row per line`
      : `sessiontrail: ${spec.source} records (Parquet)`,
    tableType: 'EXTERNAL_TABLE',
    parameters,
    partitionKeys: spec.partitions.map((part) => ({ name: part.name, type: part.type })),
    storageDescriptor: {
      location: `${root}${underPrefix(p, spec.location)}/`,
      columns: spec.columns.map((c) => ({ name: c.name, type: c.type })),
      ...(lines
        ? {
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
              parameters: { 'field.delim': spec.fieldDelimiter, 'serialization.format': spec.fieldDelimiter },
            },
          }
        : {
            inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
              parameters: { 'serialization.format': '1' },
            },
          }),
    },
  };
}

/**
 * The folders (relative to the bucket, without a trailing slash) that a table reads: its location
 * template up to the first date partition, with the enum partitions before it expanded into their
 * values (so the CloudTrail table reads `…/AWSLogs/<account>/CloudTrail/<region>` of the projected
 * accounts and regions only). When the expansion would exceed {@link MAX_READ_PREFIXES} folders it
 * stops at the common prefix (the IAM policy must stay small).
 */
export function readPrefixes(spec: RawTableSpec, p: RawTablePlacement): string[] {
  let prefixes = [''];
  for (const segment of underPrefix(p, spec.locationTemplate).split('/')) {
    const names = [...segment.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] as string);
    if (names.length === 0) {
      prefixes = prefixes.map((pre) => (pre === '' ? segment : `${pre}/${segment}`));
      continue;
    }
    const parts = names.map((n) => spec.partitions.find((x) => x.name === n));
    if (parts.length !== 1 || parts[0]?.projection.type !== 'enum') break;
    const part = parts[0];
    const values = part.projection.type === 'enum' ? p.values[part.projection.values] : [];
    if (prefixes.length * values.length > MAX_READ_PREFIXES) break;
    prefixes = prefixes.flatMap((pre) =>
      values.map((v) => {
        const seg = segment.replace(placeholder(part.name), v);
        return pre === '' ? seg : `${pre}/${seg}`;
      }),
    );
  }
  return prefixes.filter((pre) => pre !== '');
}
