/**
 * The table the OCSF source reads on Athena when there is no Amazon Security Lake table to name:
 * an external **Parquet** table over `<logs prefix>/ocsf/`, laid out as Security Lake lays out a
 * custom source (`region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/*.parquet`; domain notes
 * §4.5), the layout the local reader also prunes by `eventDay`.
 *
 * With Security Lake, its own Glue table is read instead (it is created and kept by Security Lake,
 * partitioned by `eventday` in v1 and `time_dt` in v2) and this table is not created: see
 * infra/README.md (`securityLakeTable`).
 *
 * The columns are the top-level OCSF objects the OCSF source serialises ({@link OCSF_TABLE_COLUMNS}),
 * typed as OCSF 1.1 writes them, each struct with the fields the mapping reads (and a few neighbours):
 * Athena reads Parquet columns and struct fields by name, so a field absent from a file reads as
 * NULL, and the fields a struct leaves out are simply not read. `time` is epoch milliseconds, as in
 * Security Lake.
 */
import type { OCSF_TABLE_COLUMNS } from './ocsf.ts';
import { placeholder, type RawTableSpec, stagedRecordsTable } from './raw-table.ts';

const ACCOUNT = 'struct<uid:string,name:string>';
const USER = `struct<uid:string,uuid:string,name:string,domain:string,type:string,type_id:int,credential_uid:string,account:${ACCOUNT},account_uid:string>`;
const SESSION =
  'struct<uid:string,uuid:string,issuer:string,is_mfa:boolean,created_time:bigint,expiration_time:bigint,credential_uid:string>';
const FILE = 'struct<path:string,name:string>';
const PROCESS = `struct<name:string,pid:int,uid:string,cmd_line:string,file:${FILE},session:struct<uid:string>>`;
const ENDPOINT = 'struct<ip:string,hostname:string,domain:string,uid:string,svc_name:string>';

/** The Hive type of every column the OCSF source serialises (a missing one fails to compile). */
export const OCSF_COLUMN_TYPES: Readonly<Record<(typeof OCSF_TABLE_COLUMNS)[number], string>> = {
  metadata: 'struct<version:string,uid:string,product:struct<name:string,vendor_name:string,version:string>>',
  time: 'bigint',
  class_uid: 'int',
  activity_id: 'int',
  activity_name: 'string',
  type_uid: 'bigint',
  status_id: 'int',
  status: 'string',
  cloud: `struct<provider:string,region:string,account:${ACCOUNT},account_uid:string>`,
  actor: `struct<user:${USER},session:${SESSION},process:${PROCESS},invoked_by:string>`,
  user: USER,
  session: SESSION,
  api: 'struct<operation:string,version:string,service:struct<name:string>,request:struct<uid:string>,response:struct<error:string,error_message:string>>',
  src_endpoint: ENDPOINT,
  dst_endpoint: ENDPOINT,
  device: 'struct<hostname:string,ip:string,uid:string,name:string,type_id:int>',
  process: PROCESS,
  logon_type_id: 'int',
  is_mfa: 'boolean',
  mfa: 'boolean',
  unmapped: 'map<string,string>',
  http_request: 'struct<user_agent:string>',
};

/** The OCSF Parquet table (see above). */
export const OCSF_PARQUET_TABLE: RawTableSpec = {
  source: 'ocsf',
  table: 'ocsf_raw',
  format: 'parquet',
  columns: Object.entries(OCSF_COLUMN_TYPES).map(([name, type]) => ({ name, type })),
  partitions: [
    { name: 'region', type: 'string', projection: { type: 'enum', values: 'regions' } },
    { name: 'accountid', type: 'string', projection: { type: 'enum', values: 'accounts' } },
    { name: 'eventday', type: 'string', projection: { type: 'date', format: 'yyyyMMdd', start: '20150101' } },
  ],
  partition: { name: 'eventday', type: 'string', format: 'yyyyMMdd' },
  fieldDelimiter: '\u0001',
  location: 'ocsf',
  // Glue names are lower case; the folders keep Security Lake's `accountId` / `eventDay`.
  locationTemplate: `ocsf/region=${placeholder('region')}/accountId=${placeholder('accountid')}/eventDay=${placeholder('eventday')}`,
  deliveryLagDays: 0,
};

/**
 * OCSF written as JSON (JSON lines, documents or arrays, gzip or not) in the same Security Lake
 * folders: a staged table ({@link stagedRecordsTable}), so that each record is cited by its position
 * in its file on Trino and Athena as on DuckDB (a Hive text table numbers no lines). Parquet files
 * in those folders are not staged: they are the Parquet table's.
 */
export const OCSF_JSON_TABLE: RawTableSpec = stagedRecordsTable(OCSF_PARQUET_TABLE);
