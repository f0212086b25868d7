/**
 * The Glue / Hive table the CloudTrail source reads on Athena and Trino: a **table of per-record
 * copies** of the trail's files, not AWS's typed `cloudtrail_logs_pp` table, and not the delivered
 * files themselves. CloudTrail delivers each file as one minified `{"Records":[…]}` line; a table over
 * the delivered files reads a file as one row, and Athena refuses a row over 32 MB (Athena user guide,
 * "Service Quotas": row or column size), which busy accounts exceed; one bad record would also reject
 * the whole file there, while the local intake rejects that record alone.
 *
 * **Decision: split before the engine, with the local intake's splitter.** Before the CloudTrail
 * queries of a pack, the staging (lib/locate/record-staging.ts) lists the delivered objects of
 * the window under `stagedFrom` (`cloudtrail/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`),
 * runs each through the intake's own reader and splitter (lib/locate/log-intake.ts: gzip by magic,
 * the document split per record, each record checked) and writes, once per object and ETag, a gzip
 * NDJSON copy under `cloudtrail-staging/records/` in the same folders: one line per kept record,
 * `{"key":"<delivered key>","position":<index>,"record":{…}}`. This table (format `records`) reads
 * those lines, one row per record, and {@link Dialect.jsonRecords} takes the key and position from
 * the line, so `raw_ref` names the delivered object and the record's index on every engine; rejected
 * records are counted by the staging with their positions and reported in the pack's input list.
 * The same SQL reads the same rows on DuckDB (local intake), Trino and Athena (staged copies).
 *
 * Why not the alternatives:
 * - AWS's own DDL (`com.amazon.emr.cloudtrail.CloudTrailInputFormat` with `CloudTrailSerde` or the
 *   Hive JSON SerDe, Athena user guide "Create a table for CloudTrail logs") splits in the input
 *   format. Trino 476, the engine of the conformance suite, has no such format (no class of it in
 *   the Hive plugin's jars), so nothing here could run or mirror that table. The reader Trino added
 *   later (`io.trino.hive.formats.line.cloudtrail.CloudTrailLineReader`) logs and skips a document it
 *   cannot parse, so a file cut mid-record would vanish from the pack without a count; AWS documents
 *   no behaviour for a bad record. Both rewrite `requestParameters` / `responseElements` as strings,
 *   which the normalising SQL reads as objects.
 * - Hive's other text formats (LazySimpleSerDe, the JSON SerDes, CSV, regex) split on newlines
 *   only, and CloudTrail writes a file as one line.
 *
 * The partitions are AWS's partition-projection layout (domain notes §3.6, ATH-CT-PP), extended
 * from one account and region to several, under the staging prefix. DDL the CDK app generates from
 * {@link CLOUDTRAIL_RAW_TABLE}:
 *
 * ```sql
 * CREATE EXTERNAL TABLE cloudtrail_raw (line string)
 * PARTITIONED BY (account string, region string, day string)
 * ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001' LINES TERMINATED BY '\n'
 * STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
 *   OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
 * LOCATION 's3://<bucket>/<prefix>/cloudtrail-staging/records/AWSLogs/'
 * TBLPROPERTIES (
 *   'projection.enabled' = 'true',
 *   'projection.account.type' = 'enum', 'projection.account.values' = '<account ids, comma-separated>',
 *   'projection.region.type' = 'enum', 'projection.region.values' = '<regions, comma-separated>',
 *   'projection.day.type' = 'date', 'projection.day.format' = 'yyyy/MM/dd',
 *   'projection.day.range' = '2015/01/01,NOW', 'projection.day.interval' = '1',
 *   'projection.day.interval.unit' = 'DAYS',
 *   'storage.location.template' = 's3://<bucket>/<prefix>/cloudtrail-staging/records/AWSLogs/${account}/CloudTrail/${region}/${day}')
 * ```
 *
 * The export reads it with `RawInput { kind: 'table', format: 'records', partition: { column: 'day',
 * format: 'yyyy/MM/dd' } }` and one day past the window (files land in the folder of their delivery
 * day, up to about 15 minutes after their events). An organisation trail writes
 * `AWSLogs/<org-id>/<account>/CloudTrail/…` (CloudTrail user guide, "Finding your CloudTrail log
 * files"): {@link cloudTrailRawTable} with the organization id puts both the delivered and the
 * staged layout one folder deeper, so the same partitions read it. The staging walks every region
 * folder it finds, us-east-1 (global services' events) included.
 *
 * Limits: a staged line is one record (16 MiB at most, the intake's limit, far under 32 MB). The
 * staging runs where the export does: the Lambda before its Athena queries, `sessiontrail
 * trino-tables` over a `local://` logs root; a Trino catalog over S3 needs the staged copies made by
 * a deployment's export (the CLI does not stage S3 objects).
 */

import { SessiontrailError } from '../errors.ts';
import { placeholder, type RawTableSpec, stagedLocationOf, stagingFolderOf } from './raw-table.ts';

/**
 * The folder (under the logs prefix) of CloudTrail's staging output ({@link stagingFolderOf}):
 * `records/` holds the per-record copies the table reads, `accounts/` what the staging counted in
 * each delivered object.
 */
export const CLOUDTRAIL_STAGING_PREFIX = stagingFolderOf('cloudtrail/AWSLogs');

/** An AWS Organizations id (`o-` and 10 to 32 lower-case letters or digits, Organizations API reference). */
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/**
 * The table over CloudTrail's own layout (see the DDL above): a trail of one account
 * (`cloudtrail/AWSLogs/<account>/CloudTrail/…`), or with `organizationId` an organization trail
 * (`cloudtrail/AWSLogs/<org-id>/<account>/CloudTrail/…`).
 * @throws {SessiontrailError} `BAD_CONFIG` for an organization id that is not `o-` and 10 to 32
 *   lower-case letters or digits.
 */
export function cloudTrailRawTable(organizationId?: string): RawTableSpec {
  if (organizationId !== undefined && !ORGANIZATION_ID.test(organizationId)) {
    throw new SessiontrailError(
      'BAD_CONFIG',
      `CloudTrail organization id: expected o- and 10 to 32 lower-case letters or digits, received ${JSON.stringify(organizationId)}`,
    );
  }
  const org = organizationId === undefined ? '' : `/${organizationId}`;
  const stagedFrom = `cloudtrail/AWSLogs${org}`;
  const location = stagedLocationOf(stagedFrom);
  return {
    source: 'cloudtrail',
    table: 'cloudtrail_raw',
    format: 'records',
    columns: [{ name: 'line', type: 'string' }],
    partitions: [
      { name: 'account', type: 'string', projection: { type: 'enum', values: 'accounts' } },
      { name: 'region', type: 'string', projection: { type: 'enum', values: 'regions' } },
      {
        name: 'day',
        type: 'string',
        projection: { type: 'date', format: 'yyyy/MM/dd', start: '2015/01/01' },
      },
    ],
    partition: { name: 'day', type: 'string', format: 'yyyy/MM/dd' },
    fieldDelimiter: '\u0001',
    location,
    locationTemplate: `${location}/${placeholder('account')}/CloudTrail/${placeholder('region')}/${placeholder('day')}`,
    deliveryLagDays: 1,
    stagedFrom,
  };
}

/** The table over a single-account trail's layout (see {@link cloudTrailRawTable}). */
export const CLOUDTRAIL_RAW_TABLE: RawTableSpec = cloudTrailRawTable();

/** The same table under the name the CloudTrail source's documentation uses. */
export const CLOUDTRAIL_ATHENA_TABLE: RawTableSpec = CLOUDTRAIL_RAW_TABLE;
