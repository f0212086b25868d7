/**
 * The Glue / Hive table the CloudTrail source reads on Athena and Trino: a **raw-document table**
 * over the trail's own S3 layout, not AWS's typed `cloudtrail_logs_pp` table. Why: CloudTrail delivers
 * each file as one minified `{"Records":[…]}` line, so a one-string-column text table gives one row per
 * file, and the normalising query ({@link Dialect.jsonRecords}) unnests `Records` itself. A malformed
 * file then reaches SQL and is counted (the typed table's `CloudTrailInputFormat` fails the query), the
 * same SQL runs on DuckDB, and fields the typed DDL lacks (`sessionContext.sourceIdentity`,
 * `sessionCredentialFromConsole`, `responseElements.credentials`) are read from the JSON.
 *
 * DDL the CDK app generates from {@link CLOUDTRAIL_ATHENA_TABLE} (one table per trail prefix; an
 * organisation trail adds `<org-id>/` after `AWSLogs/`):
 *
 * ```sql
 * CREATE EXTERNAL TABLE cloudtrail_raw (line string)
 * PARTITIONED BY (account string, region string, day string)
 * ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001' LINES TERMINATED BY '\n'
 * STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
 *   OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
 * LOCATION 's3://<bucket>/<prefix>/AWSLogs/'
 * TBLPROPERTIES (
 *   'projection.enabled' = 'true',
 *   'projection.account.type' = 'enum', 'projection.account.values' = '<account ids, comma-separated>',
 *   'projection.region.type' = 'enum', 'projection.region.values' = '<regions, comma-separated>',
 *   'projection.day.type' = 'date', 'projection.day.format' = 'yyyy/MM/dd',
 *   'projection.day.range' = '2015/01/01,NOW', 'projection.day.interval' = '1',
 *   'projection.day.interval.unit' = 'DAYS',
 *   'storage.location.template' = 's3://<bucket>/<prefix>/AWSLogs/${account}/CloudTrail/${region}/${day}')
 * ```
 *
 * The export reads it with `RawInput { kind: 'table', partition: { column: 'day', format: 'yyyy/MM/dd' } }`,
 * and should read one day past the window (files land in the folder of their delivery day, up to
 * about 15 minutes after their events). Gzip is decompressed by Hive from the `.gz` extension.
 */

import { type RawTableSpec, rawTableOf } from './raw-table.ts';

/** The generic raw-line spec (what {@link RawTableSpec} can express today: `dt=YYYY-MM-DD` folders). */
export const CLOUDTRAIL_RAW_TABLE: RawTableSpec = rawTableOf('cloudtrail');

/** The table over CloudTrail's own layout (see the DDL above). */
export const CLOUDTRAIL_ATHENA_TABLE = {
  table: 'cloudtrail_raw',
  columns: [{ name: 'line', type: 'string' }],
  partitions: [
    { name: 'account', type: 'string', projection: { type: 'enum', values: '<account ids>' } },
    { name: 'region', type: 'string', projection: { type: 'enum', values: '<regions>' } },
    {
      name: 'day',
      type: 'string',
      projection: { type: 'date', format: 'yyyy/MM/dd', range: '2015/01/01,NOW', interval: 1, unit: 'DAYS' },
    },
  ],
  fieldDelimiter: '\u0001',
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  /** Athena's `storage.location.template`; `${x}` are projection placeholders, `$` kept out of templates. */
  locationTemplate: `s3://<bucket>/<prefix>/AWSLogs/${'$'}{account}/CloudTrail/${'$'}{region}/${'$'}{day}`,
} as const;
