/**
 * The Glue / Hive table the CloudTrail source reads on Athena and Trino: a **raw-document table**
 * over the trail's own S3 layout, not AWS's typed `cloudtrail_logs_pp` table. Why: CloudTrail delivers
 * each file as one minified `{"Records":[…]}` line, so a one-string-column text table gives one row per
 * file, and the normalising query ({@link Dialect.jsonRecords}) unnests `Records` itself. A malformed
 * file then reaches SQL and is counted (the typed table's `CloudTrailInputFormat` fails the query), the
 * same SQL runs on DuckDB, and fields the typed DDL lacks (`sessionContext.sourceIdentity`,
 * `sessionCredentialFromConsole`, `responseElements.credentials`) are read from the JSON.
 *
 * The partitions are AWS's partition-projection layout (domain notes §3.6, ATH-CT-PP) extended from
 * one account and region to several: the trail delivers to `<logs prefix>/cloudtrail/` (the trail's
 * S3 key prefix), so its files are `<logs prefix>/cloudtrail/AWSLogs/<account>/CloudTrail/<region>/
 * YYYY/MM/DD/*.json.gz`, the layout the local reader expects under `<logs>/cloudtrail/`. DDL the CDK
 * app generates from {@link CLOUDTRAIL_RAW_TABLE}:
 *
 * ```sql
 * CREATE EXTERNAL TABLE cloudtrail_raw (line string)
 * PARTITIONED BY (account string, region string, day string)
 * ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001' LINES TERMINATED BY '\n'
 * STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
 *   OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
 * LOCATION 's3://<bucket>/<prefix>/cloudtrail/AWSLogs/'
 * TBLPROPERTIES (
 *   'projection.enabled' = 'true',
 *   'projection.account.type' = 'enum', 'projection.account.values' = '<account ids, comma-separated>',
 *   'projection.region.type' = 'enum', 'projection.region.values' = '<regions, comma-separated>',
 *   'projection.day.type' = 'date', 'projection.day.format' = 'yyyy/MM/dd',
 *   'projection.day.range' = '2015/01/01,NOW', 'projection.day.interval' = '1',
 *   'projection.day.interval.unit' = 'DAYS',
 *   'storage.location.template' = 's3://<bucket>/<prefix>/cloudtrail/AWSLogs/${account}/CloudTrail/${region}/${day}')
 * ```
 *
 * The export reads it with `RawInput { kind: 'table', partition: { column: 'day', format: 'yyyy/MM/dd' } }`
 * and one day past the window (files land in the folder of their delivery day, up to about 15
 * minutes after their events). Gzip is decompressed by Hive from the `.gz` extension. An organisation
 * trail writes `AWSLogs/<org-id>/<account>/CloudTrail/…` (CloudTrail user guide, "Finding your
 * CloudTrail log files"): {@link cloudTrailRawTable} with the organization id puts the table's
 * location one folder deeper, so the same partitions read it.
 *
 * **One row per file, and its limit.** Athena refuses a row over 32 MB (Athena user guide, "Service
 * Quotas": row or column size), and busy accounts deliver larger files. One row per *record* needs a
 * reader that splits the document, and none fits yet:
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
 * What remains is to split before the engine, as the local intake does (lib/locate/log-intake.ts:
 * one line per record, a bad record rejected alone): an intake over the delivered objects writing
 * per-record copies that a raw-line table reads. That is not built (issue 14, item 3 left open):
 * until then a file over 32 MB fails the pack on Athena with Athena's error (nothing is read
 * partially), the Trino test catalog has the same limit (`hive.text.max-line-length=32MB`,
 * scripts/trino/catalog/hive.properties), `scripts/aws-smoke.sh` measures the largest recent file of
 * a deployment against it, and the local path (DuckDB) reads such a file record by record
 * (test/sources/cloudtrail-large-file.test.ts, a generated 61.5 MiB document).
 */

import { SessiontrailError } from '../errors.ts';
import { placeholder, type RawTableSpec } from './raw-table.ts';

/**
 * The folder (under the logs prefix) of the staging's output: `records/` holds the per-record copies
 * the table reads, `accounts/` what the staging counted in each delivered object.
 */
export const CLOUDTRAIL_STAGING_PREFIX = 'cloudtrail-staging';

/**
 * Where the staging writes the per-record copies of the objects under `stagedFrom` (the delivered
 * layout, `cloudtrail/AWSLogs[/<org-id>]`): the same folders below, under
 * `cloudtrail-staging/records/`.
 */
export function stagedLocationOf(stagedFrom: string): string {
  return `${CLOUDTRAIL_STAGING_PREFIX}/records/${stagedFrom.split('/').slice(1).join('/')}`;
}

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
