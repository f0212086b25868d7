/**
 * OCSF source (Amazon Security Lake, other OCSF producers): maps OCSF records, from Parquet (Security
 * Lake v1 `eventDay=YYYYMMDD/` and v2 layouts) or JSON lines, to normalised session events. Parquet rows
 * are turned into JSON by the reader ({@link Dialect.jsonRecords}), so one mapping serves both.
 *
 * Classes read (domain notes §4):
 * - Authentication `3002`: `activity_id` 1 Logon (a `status_id` 2 Failure is a failed logon), 2 Logoff;
 *   other activities (Kerberos tickets, …) are skipped. The session is `session.uid`, else the key an
 *   STS call returned (Security Lake keeps it in `unmapped['responseElements.credentials.accessKeyId']`),
 *   else `<user uid>@<time in ms>` (a console sign-in, which returns no key). The end hint is
 *   `session.expiration_time`, else the STS `credentials.expiration` in `unmapped`.
 * - Process Activity `1007`, API Activity `6003` (`3005` in 1.0.0-rc.2) and Account Change `3001`: activity, attributed by
 *   `actor.session.uid`, else `actor.user.credential_uid` (the access key that signed the call).
 * Other classes are skipped.
 *
 * Version differences, read from `metadata.version`:
 * - `logon_type_id`: up to 1.1.0 (Security Lake v1 = 1.0.0-rc.2, v2 = 1.1.0) `0` means System, as in
 *   Windows; from 1.2.0 `1` is System and `0` Unknown. The normalised column uses the Windows
 *   numbering (so `0` = System); Unknown and Other (`99`) become NULL.
 * - The user's ARN is `user.uid` from 1.1.0 but `user.uuid` in 1.0.0-rc.2 (where `uid` is the
 *   principal id).
 *
 * `host` is `device.hostname`, else the cloud account (`cloud.account.uid`, `recipientAccountId`,
 * the actor's account). `event_code` is `<api.service.name>:<api.operation>` for API calls (so that
 * privileged-action globs read `ocsf:iam.amazonaws.com:create*`), else the `type_uid`.
 */
import type { Dialect, RawInput } from '../query/dialects/dialect.ts';
import { classifiedRow, problemRow } from '../query/session-events.ts';
import { literal, ParamList, type SqlQuery } from '../query/sql.ts';
import type { LocalFiles } from './raw-table.ts';

export const OCSF_SOURCE = 'ocsf';

/** OCSF classes this source maps. */
export const OCSF_CLASSES = {
  authentication: 3002,
  processActivity: 1007,
  apiActivity: 6003,
  accountChange: 3001,
} as const;

/**
 * Security Lake's OCSF columns serialised per row when reading its tables with Trino / Athena
 * (the union of what the mapping reads; absent columns must be left out for a given table).
 */
export const OCSF_TABLE_COLUMNS = [
  'metadata',
  'time',
  'class_uid',
  'activity_id',
  'activity_name',
  'type_uid',
  'status_id',
  'status',
  'cloud',
  'actor',
  'user',
  'session',
  'api',
  'src_endpoint',
  'dst_endpoint',
  'device',
  'process',
  'logon_type_id',
  'is_mfa',
  'mfa',
  'unmapped',
  'http_request',
] as const;

export function definedFields(eventCode: string): readonly string[] {
  if (eventCode.startsWith('3002')) return ['session_uid', 'user_uid', 'logon_type_id'];
  return ['session_uid', 'user_uid'];
}

/** Which field gave an OCSF record's time (the pack counts records by it). */
const OCSF_TIME_FIELD = 'time (OCSF event time, UTC)';

/**
 * The normalising query: every OCSF record classified as `event`, `skipped` (another class or
 * activity) or `rejected` (with the reason), normalised columns filled for events.
 */
export function buildOcsfNormaliseQuery(d: Dialect, input: RawInput): SqlQuery {
  const p = new ParamList();
  const jx = (...keys: string[]) => `nullif(json_extract_scalar(record, ${d.jsonPath(keys)}), '')`;
  const sql = `
WITH recs AS (
  SELECT object_key, position, record, problem FROM ${d.jsonRecords(input, p, { columns: OCSF_TABLE_COLUMNS })}
),
base AS (
  SELECT object_key, position, record,
    try_cast(${jx('class_uid')} AS INTEGER) AS class_uid,
    try_cast(${jx('activity_id')} AS INTEGER) AS activity_id,
    ${jx('activity_name')} AS activity_name,
    ${jx('type_uid')} AS type_uid,
    try_cast(${jx('status_id')} AS INTEGER) AS status_id,
    ${jx('metadata', 'version')} AS version,
    ${jx('metadata', 'uid')} AS meta_uid,
    coalesce(try_cast(${jx('time')} AS BIGINT), ${d.awsTimeMillis(jx('time_dt'))}) AS time_ms,
    -- Upper-cased like the Windows and Linux sources, so one host is one host across sources.
    upper(coalesce(${jx('device', 'hostname')}, ${jx('cloud', 'account', 'uid')}, ${jx('cloud', 'account_uid')},
      ${jx('unmapped', 'recipientAccountId')}, ${jx('actor', 'user', 'account', 'uid')}, ${jx('actor', 'user', 'account_uid')},
      ${jx('dst_endpoint', 'hostname')})) AS host,
    ${jx('cloud', 'region')} AS region,
    ${jx('user', 'uid')} AS u_uid, ${jx('user', 'uuid')} AS u_uuid, ${jx('user', 'name')} AS u_name, ${jx('user', 'domain')} AS u_domain,
    ${jx('actor', 'user', 'uid')} AS a_uid, ${jx('actor', 'user', 'uuid')} AS a_uuid, ${jx('actor', 'user', 'name')} AS a_name,
    ${jx('actor', 'user', 'domain')} AS a_domain, ${jx('actor', 'user', 'credential_uid')} AS a_credential,
    ${jx('actor', 'session', 'uid')} AS a_session, ${jx('actor', 'session', 'issuer')} AS a_issuer,
    ${jx('session', 'uid')} AS s_uid, try_cast(${jx('session', 'expiration_time')} AS BIGINT) AS s_expiration,
    ${jx('unmapped', 'responseElements.credentials.accessKeyId')} AS issued_key,
    ${jx('unmapped', 'responseElements.credentials.expiration')} AS issued_expiration,
    ${jx('unmapped', 'responseElements.assumedRoleUser.arn')} AS issued_arn,
    try_cast(${jx('logon_type_id')} AS INTEGER) AS raw_logon_type,
    coalesce(${jx('is_mfa')}, ${jx('mfa')}, ${jx('session', 'is_mfa')}, ${jx('actor', 'session', 'is_mfa')}, ${jx('actor', 'session', 'mfa')}) AS mfa,
    ${jx('src_endpoint', 'ip')} AS src_ip,
    ${jx('src_endpoint', 'hostname')} AS src_host,
    ${jx('api', 'service', 'name')} AS api_service,
    ${jx('api', 'operation')} AS api_operation,
    ${jx('api', 'response', 'error')} AS api_error,
    ${jx('http_request', 'user_agent')} AS user_agent,
    coalesce(${jx('process', 'file', 'path')}, ${jx('process', 'name')}) AS proc,
    ${jx('process', 'cmd_line')} AS cmd_line,
    coalesce(${jx('actor', 'process', 'file', 'path')}, ${jx('actor', 'process', 'name')}) AS parent_proc,
    ${jx('process', 'session', 'uid')} AS p_session,
    ${jx('status')} AS status_text,
    ${jx('unmapped', 'requestParameters.roleArn')} AS role_arn,
    -- Up to OCSF 1.1.0 the enum has no Unknown: 0 is System (domain notes §4.2).
    regexp_like(coalesce(${jx('metadata', 'version')}, ''), '^1\\.[01]\\.') AS old_enum,
    -- 1.0.0-rc.2 put the ARN in uuid and the principal id in uid (domain notes §4.4), and numbered
    -- API Activity 3005 (Security Lake v1's CloudTrail API calls).
    regexp_like(coalesce(${jx('metadata', 'version')}, ''), '^1\\.0\\.0-rc') AS rc
  FROM recs WHERE record IS NOT NULL
),
classified AS (
  SELECT *,
    CASE
      WHEN class_uid IS NULL THEN 'rejected'
      WHEN time_ms IS NULL THEN 'rejected'
      WHEN class_uid NOT IN (${Object.values(OCSF_CLASSES).join(', ')}) AND NOT (rc AND class_uid = 3005) THEN 'skipped'
      WHEN class_uid = 3002 AND coalesce(activity_id, 0) NOT IN (1, 2) THEN 'skipped'
      WHEN host IS NULL THEN 'rejected'
      ELSE 'event' END AS status,
    CASE
      WHEN class_uid IS NULL THEN 'not_an_ocsf_record'
      WHEN time_ms IS NULL THEN 'missing_time'
      WHEN class_uid NOT IN (${Object.values(OCSF_CLASSES).join(', ')}) AND NOT (rc AND class_uid = 3005) THEN 'other_class'
      WHEN class_uid = 3002 AND coalesce(activity_id, 0) NOT IN (1, 2) THEN 'other_authentication_activity'
      WHEN host IS NULL THEN 'missing_host'
      END AS reason
  FROM base
),
mapped AS (
  SELECT *,
    CASE WHEN class_uid = 3002 THEN
      CASE WHEN rc THEN coalesce(issued_arn, u_uuid, u_uid) ELSE coalesce(issued_arn, u_uid, u_uuid) END
    ELSE CASE WHEN rc THEN coalesce(a_uuid, a_uid) ELSE coalesce(a_uid, a_uuid) END END AS user_uid,
    CASE WHEN class_uid = 3002 THEN u_name ELSE a_name END AS user_name,
    CASE WHEN class_uid = 3002 THEN u_domain ELSE a_domain END AS user_domain,
    CASE
      WHEN class_uid = 3002 AND activity_id = 1 AND status_id = 2 THEN 'failed_logon'
      WHEN class_uid = 3002 AND activity_id = 1 THEN 'logon'
      WHEN class_uid = 3002 THEN 'logoff'
      ELSE 'activity' END AS kind
  FROM classified WHERE status = 'event'
),
events AS (
  SELECT ${classifiedRow({
    status: `'event'`,
    source: literal(OCSF_SOURCE),
    host: 'host',
    record_uid: `coalesce(meta_uid, ${d.sha256Hex('record')})`,
    event_code: `CASE WHEN api_operation IS NOT NULL AND class_uid <> 3002 THEN concat_ws(':', api_service, api_operation)
         ELSE coalesce(type_uid, CAST(class_uid * 100 + coalesce(activity_id, 0) AS VARCHAR)) END`,
    kind: 'kind',
    time_ms: 'time_ms',
    time_field: literal(OCSF_TIME_FIELD),
    session_uid: `CASE
      WHEN kind = 'failed_logon' THEN NULL
      WHEN class_uid = 3002 THEN coalesce(s_uid, issued_key,
        CASE WHEN kind = 'logon' THEN user_uid || '@' || CAST(time_ms AS VARCHAR) END)
      ELSE coalesce(a_session, a_credential, p_session) END`,
    linked_session_uid: `CASE WHEN class_uid = 3002 AND kind = 'logon' THEN a_credential END`,
    user_uid: 'user_uid',
    user_name: 'user_name',
    user_domain: 'user_domain',
    logon_type_id: `CASE WHEN class_uid <> 3002 OR raw_logon_type IS NULL THEN NULL
         WHEN old_enum THEN CASE WHEN raw_logon_type = 99 THEN NULL ELSE raw_logon_type END
         WHEN raw_logon_type = 1 THEN 0
         WHEN raw_logon_type IN (0, 99) THEN NULL
         ELSE raw_logon_type END`,
    src_ip: 'src_ip',
    src_host: 'src_host',
    process: 'coalesce(proc, user_agent)',
    parent_process: 'parent_proc',
    command_line: 'cmd_line',
    action: `CASE
      WHEN api_operation IS NOT NULL AND api_error IS NOT NULL THEN api_operation || ' failed: ' || api_error
      WHEN api_operation IS NOT NULL THEN api_operation
      ELSE coalesce(activity_name, CAST(activity_id AS VARCHAR)) END`,
    target: 'CASE WHEN class_uid = 3002 THEN role_arn ELSE api_error END',
    logon_process: 'CASE WHEN class_uid = 3002 THEN api_operation END',
    end_hint_ms: `CASE WHEN kind = 'logon' THEN coalesce(s_expiration, ${d.awsTimeMillis('issued_expiration')}) END`,
    end_hint: `CASE WHEN kind = 'logon' AND coalesce(s_expiration, ${d.awsTimeMillis('issued_expiration')}) IS NOT NULL THEN 'credentials_expired' END`,
    details: `CASE WHEN kind = 'logon' THEN ${d.jsonObjectText([
      ['ocsf_version', 'version'],
      ['class_uid', 'CAST(class_uid AS VARCHAR)'],
      ['region', 'region'],
      ['mfa', 'mfa'],
      ['issuer', 'a_issuer'],
      ['caller', 'coalesce(a_uuid, a_uid)'],
      ['status', 'status_text'],
      ['logon_type_id_as_logged', 'CAST(raw_logon_type AS VARCHAR)'],
      ['user_agent', 'user_agent'],
    ])} END`,
    // The position in the file (a text file, staged or not); a Parquet row, which no Hive table
    // numbers, by its metadata.uid; else the file alone.
    raw_ref: `object_key || coalesce('#record=' || CAST(position AS VARCHAR), '#record=uid:' || meta_uid, '')`,
    object_key: 'object_key',
  })}
  FROM mapped
)
SELECT * FROM events
UNION ALL
SELECT ${problemRow({
    status: 'status',
    reason: 'reason',
    source: literal(OCSF_SOURCE),
    host: 'host',
    record_uid: 'meta_uid',
    event_code: 'CAST(class_uid AS VARCHAR)',
    time_ms: 'time_ms',
    time_field: literal(OCSF_TIME_FIELD),
    raw_ref: `object_key || coalesce('#record=' || CAST(position AS VARCHAR), '')`,
    object_key: 'object_key',
  })}
FROM classified WHERE status <> 'event'
UNION ALL
SELECT ${problemRow({
    status: `'rejected'`,
    reason: 'problem',
    source: literal(OCSF_SOURCE),
    raw_ref: `object_key || coalesce('#record=' || CAST(position AS VARCHAR), '')`,
    object_key: 'object_key',
  })}
FROM recs WHERE record IS NULL
`;
  return p.finish('normalise-ocsf', sql);
}

/** OCSF files in a plain local folder: Parquet (Security Lake's format), or JSON whose first bytes hold a `class_uid`. */
export const OCSF_LOCAL_FILES: LocalFiles = {
  documents: true,
  async recognises(path, head) {
    if (/\.parquet$/i.test(path)) return true;
    return /"class_uid"\s*:/.test(await head());
  },
};
