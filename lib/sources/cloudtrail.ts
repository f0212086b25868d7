/**
 * AWS CloudTrail source: maps CloudTrail records (`{"Records":[…]}` files as delivered to S3, minified
 * or pretty-printed, gzip or not; plain JSON arrays; JSON lines) to normalised session events.
 *
 * CloudTrail logs no logoff, and a session's identity depends on how its credentials were obtained
 * (domain notes §3.3). The rules, and why:
 * - **Temporary credentials issued by STS** (`AssumeRole`, `AssumeRoleWithSAML`,
 *   `AssumeRoleWithWebIdentity`, `GetSessionToken`, `GetFederationToken`, successful): the call is
 *   the session's logon. `session_uid` is the key it returned (`responseElements.credentials.accessKeyId`),
 *   which signs every later call of the session (`userIdentity.accessKeyId`): the strongest join key.
 *   The user is the assumed-role / federated-user ARN (GetSessionToken: the caller). `linked_session_uid`
 *   is the caller's key, so role chains link hop by hop. The end hint is `credentials.expiration`
 *   (not ISO: `Jul 10, 2023, 12:09:47 PM`), reason `credentials_expired`. The same call is also an
 *   activity event of the caller's session (record uid `<eventID>#caller`).
 * - **Console sessions** (`ConsoleLogin` / `SwitchRole`, successful): the console signs calls with
 *   keys that no STS event returns, rotated during the session; what they share is the principal and
 *   `sessionContext.attributes.creationDate`, which equals the sign-in's `eventTime` (invictus:
 *   12:27:45Z both). So the session is `<principal ARN>@<creationDate>`, the logon's uid is
 *   `<principal ARN>@<eventTime>`, and calls under a key that no STS event in the data returned and
 *   that the console used (`sessionCredentialFromConsole`), or of an IAM user / root with a temporary
 *   key, are tied to `<ARN>@<creationDate>`. The end hint is the session's last call (`last_activity`).
 * - **Long-term keys (`AKIA…`) and root or IAM-user calls without a key** have no session boundaries:
 *   their calls are split into bursts by an inactivity gap ({@link CLOUDTRAIL_INACTIVITY_GAP_MS}); each
 *   burst gets a logon row derived from its first call (record uid `<eventID>#inferred-logon`, action
 *   `logon_inferred_from_activity`), end hint its last call (`last_activity`).
 * - Calls by AWS services and other accounts' principals (`AWSService`, `AWSAccount`, no identity)
 *   are skipped unless they issue credentials (an instance profile's `AssumeRole` by ec2 is a logon).
 *   Other sign-in steps (`CheckMfa`, …) are skipped. A failed call stays activity, the error in
 *   `action` and `target`; a failed `ConsoleLogin` is a failed logon. Calls that stop or narrow audit
 *   logging ({@link CLOUDTRAIL_TAMPERING_CALLS}) are integrity events, denied ones too.
 *
 * `host` is the account whose trail logged the record (`recipientAccountId`, else the identity's
 * account, else the account in the object key); the region is in the details. Records are unique by
 * `eventID` (trails that aggregate regions duplicate global events). `event_code` is
 * `<eventSource>:<eventName>` (e.g. `iam.amazonaws.com:CreateUser`), which privileged-action globs
 * match as `cloudtrail:iam.amazonaws.com:create*`.
 *
 * The raw relation is {@link Dialect.jsonRecords}; for Athena / Trino see {@link CLOUDTRAIL_ATHENA_TABLE}.
 */
import { basename } from 'node:path';
import { type Dialect, type RawInput, regexpGroup } from '../query/dialects/dialect.ts';
import { classifiedRow, INFERRED_LOGON_ACTION, problemRow } from '../query/session-events.ts';
import { literal, ParamList, type SqlQuery } from '../query/sql.ts';
import type { LocalFiles } from './raw-table.ts';

export const CLOUDTRAIL_SOURCE = 'cloudtrail';

/** The time field of a record as CloudTrail writes it. */
const EVENT_TIME_FIELD = 'eventTime (UTC)';
/** The time field of a record shipped by Logstash, whose date filter moved eventTime to @timestamp. */
const LOGSTASH_TIME_FIELD = '@timestamp (Logstash copy of eventTime, UTC)';

/** Calls of a long-term key further apart than this begin a new (inferred) session. */
export const CLOUDTRAIL_INACTIVITY_GAP_MS = 30 * 60_000;

export interface CloudTrailOptions {
  /** @default {@link CLOUDTRAIL_INACTIVITY_GAP_MS} */
  readonly inactivityGapMs?: number;
}

/** STS calls that return temporary credentials: each successful one begins a session. */
export const CREDENTIAL_EVENTS = [
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'GetSessionToken',
  'GetFederationToken',
] as const;

/**
 * Calls that stop, delete or narrow the account's own audit logging, by `<eventSource>:<eventName>`:
 * CloudTrail (API reference: StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors,
 * PutInsightSelectors, DeleteEventDataStore, StopEventDataStoreIngestion, UpdateEventDataStore),
 * AWS Config (StopConfigurationRecorder, DeleteConfigurationRecorder, DeleteDeliveryChannel) and
 * Security Lake (DeleteDataLake, DeleteAwsLogSource, DeleteCustomLogSource, UpdateDataLake).
 * They are **integrity** events, denied attempts included (MITRE ATT&CK T1562.008 Impair Defenses:
 * Disable or Modify Cloud Logs), and still activity of their caller's session. The value is what
 * the pack's integrity list calls it.
 */
export const CLOUDTRAIL_TAMPERING_CALLS: Readonly<
  Record<string, 'logging_stopped' | 'audit_policy_changed'>
> = {
  'cloudtrail.amazonaws.com:StopLogging': 'logging_stopped',
  'cloudtrail.amazonaws.com:DeleteTrail': 'logging_stopped',
  'cloudtrail.amazonaws.com:DeleteEventDataStore': 'logging_stopped',
  'cloudtrail.amazonaws.com:StopEventDataStoreIngestion': 'logging_stopped',
  'cloudtrail.amazonaws.com:UpdateTrail': 'audit_policy_changed',
  'cloudtrail.amazonaws.com:PutEventSelectors': 'audit_policy_changed',
  'cloudtrail.amazonaws.com:PutInsightSelectors': 'audit_policy_changed',
  'cloudtrail.amazonaws.com:UpdateEventDataStore': 'audit_policy_changed',
  'config.amazonaws.com:StopConfigurationRecorder': 'logging_stopped',
  'config.amazonaws.com:DeleteConfigurationRecorder': 'logging_stopped',
  'config.amazonaws.com:DeleteDeliveryChannel': 'logging_stopped',
  'securitylake.amazonaws.com:DeleteDataLake': 'logging_stopped',
  'securitylake.amazonaws.com:DeleteAwsLogSource': 'logging_stopped',
  'securitylake.amazonaws.com:DeleteCustomLogSource': 'logging_stopped',
  'securitylake.amazonaws.com:UpdateDataLake': 'audit_policy_changed',
};

/** Request parameters that name what a call acted on, most specific first. */
const TARGET_PARAMETERS = [
  'userName',
  'roleName',
  'groupName',
  'policyArn',
  'policyName',
  'roleArn',
  'name',
  'trailName',
  'keyId',
  'bucketName',
  'secretId',
  'instanceId',
  'functionName',
  'accountId',
] as const;

/** Which population fields an event code defines. */
export function definedFields(eventCode: string): readonly string[] {
  const name = eventCode.split(':').pop() ?? '';
  if ((CREDENTIAL_EVENTS as readonly string[]).includes(name)) return ['session_uid', 'user_uid'];
  if (name === 'ConsoleLogin' || name === 'SwitchRole') return ['session_uid', 'user_uid'];
  return ['session_uid', 'user_uid'];
}

/** The columns of the `events` step, each CloudTrail event's facts before they take the contract's form. */
const EVENT_PART_COLUMNS = [
  'status',
  'reason',
  'host',
  'record_uid',
  'event_code',
  'kind',
  'time_ms',
  'time_field',
  'session_uid',
  'linked_session_uid',
  'user_uid',
  'action',
  'target',
  'end_hint_ms',
  'end_hint',
  'details',
  'src_ip',
  'user_agent',
  'object_key',
  'position',
  'logon_process',
  'request_text',
] as const;

/** One branch of the `events` step by column name: the columns not given are NULL. */
function eventPart(values: Readonly<Partial<Record<(typeof EVENT_PART_COLUMNS)[number], string>>>): string {
  return EVENT_PART_COLUMNS.map((c) => `${values[c] ?? 'NULL'} AS ${c}`).join(',\n    ');
}

/**
 * The normalising query: every record of the window's files classified as `event`, `skipped` or
 * `rejected` (with the reason), normalised columns filled for events, plus the derived rows described
 * above (caller activity of credential-issuing calls, inferred logons of long-term-key bursts).
 */
export function buildCloudTrailNormaliseQuery(
  d: Dialect,
  input: RawInput,
  options: CloudTrailOptions = {},
): SqlQuery {
  const p = new ParamList();
  const gap = options.inactivityGapMs ?? CLOUDTRAIL_INACTIVITY_GAP_MS;
  const jx = (...keys: string[]) => `nullif(json_extract_scalar(record, ${d.jsonPath(keys)}), '')`;
  const credentialEvents = CREDENTIAL_EVENTS.map(literal).join(', ');
  const principalTypes = `('IAMUser', 'Root', 'AssumedRole', 'FederatedUser', 'IdentityCenterUser')`;

  const sql = `
WITH recs AS (
  SELECT object_key, position, record, problem FROM ${d.jsonRecords(input, p)}
),
base AS (
  SELECT object_key, position, record,
    ${jx('eventID')} AS event_id,
    -- Logstash's date filter replaces eventTime by @timestamp (the same instant, UTC) in shipped
    -- records; the field used is recorded per record.
    -- (Logstash writes milliseconds, .000Z: dropped when zero, so that the text of a sign-in's time
    -- still equals its sessions' creationDate, which CloudTrail writes without them.)
    coalesce(${jx('eventTime')}, ${d.replaceAll(jx('@timestamp'), '\\.0+Z$', 'Z')}) AS time_text,
    CASE WHEN ${jx('eventTime')} IS NOT NULL THEN ${literal(EVENT_TIME_FIELD)}
      WHEN ${jx('@timestamp')} IS NOT NULL THEN ${literal(LOGSTASH_TIME_FIELD)} ELSE ${literal(EVENT_TIME_FIELD)} END AS time_field,
    ${jx('eventSource')} AS event_source,
    ${jx('eventName')} AS event_name,
    ${jx('awsRegion')} AS region,
    coalesce(${jx('recipientAccountId')}, ${jx('userIdentity', 'accountId')},
      ${regexpGroup(d, 'object_key', 'AWSLogs/(?:o-[a-z0-9]+/)?([0-9]{12})/CloudTrail', 1)}) AS host,
    ${jx('userIdentity', 'type')} AS ui_type,
    ${jx('userIdentity', 'arn')} AS ui_arn,
    ${jx('userIdentity', 'accountId')} AS ui_account,
    ${jx('userIdentity', 'accessKeyId')} AS ui_key,
    ${jx('userIdentity', 'userName')} AS ui_user_name,
    ${jx('userIdentity', 'invokedBy')} AS ui_invoked_by,
    ${jx('userIdentity', 'sessionContext', 'attributes', 'creationDate')} AS ui_creation,
    ${jx('userIdentity', 'sessionContext', 'attributes', 'mfaAuthenticated')} AS ui_mfa,
    ${jx('userIdentity', 'sessionContext', 'sessionIssuer', 'arn')} AS ui_issuer,
    ${jx('userIdentity', 'sessionContext', 'sourceIdentity')} AS ui_source_identity,
    ${jx('sourceIPAddress')} AS src_ip,
    ${jx('userAgent')} AS user_agent,
    ${jx('errorCode')} AS error_code,
    ${jx('errorMessage')} AS error_message,
    lower(coalesce(${jx('sessionCredentialFromConsole')}, '')) = 'true' AS from_console,
    ${jx('responseElements', 'credentials', 'accessKeyId')} AS issued_key,
    ${jx('responseElements', 'credentials', 'expiration')} AS expiration_text,
    coalesce(${jx('responseElements', 'assumedRoleUser', 'arn')}, ${jx('responseElements', 'federatedUser', 'arn')},
      -- Instance-profile AssumeRole calls (by ec2.amazonaws.com) return no assumedRoleUser: the
      -- session's ARN is built the way STS names it.
      'arn:aws:sts::' || ${regexpGroup(d, jx('requestParameters', 'roleArn'), '^arn:aws[a-z-]*:iam::([0-9]+):role/', 1)}
        || ':assumed-role/' || ${regexpGroup(d, jx('requestParameters', 'roleArn'), '/([^/]+)$', 1)}
        || '/' || ${jx('requestParameters', 'roleSessionName')}) AS issued_arn,
    ${jx('requestParameters', 'roleArn')} AS role_arn,
    coalesce(${jx('requestParameters', 'roleSessionName')}, ${jx('requestParameters', 'name')}) AS session_name,
    coalesce(${jx('responseElements', 'sourceIdentity')}, ${jx('requestParameters', 'sourceIdentity')}) AS source_identity,
    ${jx('requestParameters', 'serialNumber')} AS mfa_serial,
    coalesce(${jx('responseElements', 'ConsoleLogin')}, ${jx('responseElements', 'SwitchRole')}) AS signin_result,
    ${jx('additionalEventData', 'MFAUsed')} AS mfa_used,
    ${jx('additionalEventData', 'LoginTo')} AS login_to,
    ${jx('additionalEventData', 'SwitchFrom')} AS switch_from,
    coalesce(${jx('userIdentity', 'identityProvider')}, ${jx('requestParameters', 'principalArn')}) AS identity_provider,
    coalesce(${jx('responseElements', 'subject')}, ${jx('responseElements', 'subjectFromWebIdentityToken')}) AS federated_subject,
    coalesce(${TARGET_PARAMETERS.map((k) => jx('requestParameters', k)).join(', ')}) AS target_param,
    nullif(json_extract_scalar(record, '$.resources[0].ARN'), '') AS first_resource,
    nullif(substr(json_format(json_extract(record, '$.requestParameters')), 1, 1000), 'null') AS request_text
  FROM recs WHERE record IS NOT NULL
),
timed AS (
  SELECT *, ${d.awsTimeMillis('time_text')} AS time_ms FROM base
),
roles AS (
  SELECT *,
    CASE
      WHEN event_id IS NULL OR event_name IS NULL OR event_source IS NULL THEN 'rejected'
      WHEN time_text IS NULL OR time_ms IS NULL THEN 'rejected'
      WHEN host IS NULL THEN 'rejected'
      WHEN event_source = 'sts.amazonaws.com' AND event_name IN (${credentialEvents}) AND error_code IS NULL AND issued_key IS NOT NULL THEN 'issue'
      WHEN event_source = 'signin.amazonaws.com' AND event_name IN ('ConsoleLogin', 'SwitchRole') AND error_code IS NULL AND signin_result = 'Success' AND ui_arn IS NOT NULL THEN 'console'
      WHEN event_source = 'signin.amazonaws.com' AND event_name = 'ConsoleLogin' THEN 'console_failed'
      WHEN event_source = 'signin.amazonaws.com' THEN 'skipped'
      WHEN ui_type IS NULL OR ui_type NOT IN ${principalTypes} THEN 'skipped'
      -- A principal's call with neither ARN nor access key belongs to no session that can be told:
      -- counted as rejected (it would otherwise fall out of every list below).
      WHEN ui_key IS NULL AND ui_arn IS NULL AND event_source <> 'signin.amazonaws.com' AND NOT (event_source = 'sts.amazonaws.com' AND event_name IN (${credentialEvents}) AND error_code IS NULL AND issued_key IS NOT NULL) THEN 'rejected'
      ELSE 'call' END AS role,
    CASE
      WHEN event_id IS NULL OR event_name IS NULL OR event_source IS NULL THEN 'not_a_cloudtrail_record'
      WHEN time_text IS NULL THEN 'missing_time'
      WHEN time_ms IS NULL THEN 'bad_time'
      WHEN host IS NULL THEN 'missing_account'
      WHEN event_source = 'signin.amazonaws.com' AND event_name NOT IN ('ConsoleLogin', 'SwitchRole') THEN 'sign_in_step'
      WHEN ui_type IS NULL THEN 'service_event'
      WHEN ui_type = 'AWSService' THEN 'aws_service_caller'
      WHEN ui_type = 'AWSAccount' THEN 'other_account_caller'
      WHEN ui_type NOT IN ${principalTypes} THEN 'other_identity_type'
      ELSE 'missing_caller_identity' END AS skip_reason
  FROM timed
),
issued AS (
  SELECT DISTINCT host, issued_key FROM roles WHERE role = 'issue'
),
console_keys AS (
  SELECT DISTINCT host, ui_key FROM roles WHERE from_console AND ui_key IS NOT NULL
),
-- The session a call belongs to (see the rules in this file's header).
keyed AS (
  SELECT r.*,
    CASE
      WHEN r.ui_type NOT IN ${principalTypes} THEN NULL
      WHEN r.ui_key IS NOT NULL AND i.issued_key IS NOT NULL THEN r.ui_key
      WHEN r.ui_key IS NOT NULL AND r.ui_key NOT LIKE 'AKIA%' AND r.ui_creation IS NOT NULL
        AND (ck.ui_key IS NOT NULL OR r.from_console OR r.ui_type IN ('IAMUser', 'Root')) THEN r.ui_arn || '@' || r.ui_creation
      WHEN r.ui_key IS NOT NULL AND r.ui_key NOT LIKE 'AKIA%' THEN r.ui_key
      ELSE coalesce(r.ui_key, r.ui_arn) END AS caller_session,
    -- A long-term key (or a principal without a key): its calls are split into bursts.
    r.ui_type IN ('IAMUser', 'Root') AND (r.ui_key IS NULL OR r.ui_key LIKE 'AKIA%') AS long_term
  FROM roles r
  LEFT JOIN issued i ON i.host = r.host AND i.issued_key = r.ui_key
  LEFT JOIN console_keys ck ON ck.host = r.host AND ck.ui_key = r.ui_key
),
-- Calls (of every role that is a call of its caller): the call itself, and the caller's side of a
-- credential-issuing call.
calls AS (
  SELECT *, event_id AS uid FROM keyed WHERE role = 'call' AND caller_session IS NOT NULL
  UNION ALL
  SELECT *, event_id || '#caller' AS uid FROM keyed
  WHERE role = 'issue' AND ui_type IN ${principalTypes} AND caller_session IS NOT NULL
),
-- Bursts of long-term keys, over one copy of each record.
lt AS (
  SELECT *,
    CASE WHEN prev_ms IS NULL OR time_ms - prev_ms > ${p.add(gap)} THEN 1 ELSE 0 END AS starts_burst
  FROM (
    SELECT *, lag(time_ms) OVER (PARTITION BY host, caller_session ORDER BY time_ms, uid) AS prev_ms
    FROM (
      SELECT *, row_number() OVER (PARTITION BY uid ORDER BY object_key, position) AS copy_no FROM calls WHERE long_term
    ) c
    WHERE copy_no = 1
  ) l
),
bursts AS (
  SELECT *, sum(starts_burst) OVER (PARTITION BY host, caller_session ORDER BY time_ms, uid ROWS UNBOUNDED PRECEDING) AS burst_no
  FROM lt
),
inferred AS (
  SELECT b.*, e.last_ms, e.calls_in_burst
  FROM bursts b
  JOIN (SELECT host, caller_session, burst_no, max(time_ms) AS last_ms, count(*) AS calls_in_burst
        FROM bursts GROUP BY host, caller_session, burst_no) e
    ON e.host = b.host AND e.caller_session = b.caller_session AND e.burst_no = b.burst_no
  WHERE b.starts_burst = 1
),
console_last AS (
  SELECT host, caller_session, max(time_ms) AS last_ms FROM calls GROUP BY host, caller_session
),
events AS (
  -- Credential-issuing STS calls: the new session's logon.
  SELECT ${eventPart({
    status: `'event'`,
    reason: 'CAST(NULL AS VARCHAR)',
    host: 'host',
    record_uid: 'event_id',
    event_code: `event_source || ':' || event_name`,
    kind: `'logon'`,
    time_ms: 'time_ms',
    time_field: 'time_field',
    session_uid: 'issued_key',
    linked_session_uid: `CASE WHEN ui_type IN ${principalTypes} THEN ui_key END`,
    user_uid: `CASE WHEN event_name = 'GetSessionToken' THEN ui_arn ELSE issued_arn END`,
    action: 'event_name',
    target: 'coalesce(role_arn, issued_arn)',
    end_hint_ms: d.awsTimeMillis('expiration_text'),
    end_hint: `'credentials_expired'`,
    details: d.jsonObjectText([
      ['how', `'temporary credentials issued by ' || event_name`],
      ['region', 'region'],
      ['role_arn', 'role_arn'],
      ['session_name', 'session_name'],
      ['source_identity', 'coalesce(source_identity, ui_source_identity)'],
      ['mfa', `CASE WHEN mfa_serial IS NOT NULL THEN 'true (' || mfa_serial || ')' ELSE ui_mfa END`],
      ['caller', 'coalesce(ui_arn, ui_invoked_by, ui_type)'],
      ['caller_key', 'ui_key'],
      ['identity_provider', 'identity_provider'],
      ['federated_subject', 'federated_subject'],
      ['expiration', 'expiration_text'],
      ['user_agent', 'user_agent'],
    ]),
    src_ip: 'src_ip',
    user_agent: 'user_agent',
    object_key: 'object_key',
    position: 'position',
    logon_process: 'event_name',
    request_text: 'request_text',
  })}
  FROM keyed WHERE role = 'issue'
  UNION ALL
  -- Console sign-ins and role switches: the console session's logon.
  SELECT ${eventPart({
    status: `'event'`,
    host: 'k.host',
    record_uid: 'k.event_id',
    event_code: `k.event_source || ':' || k.event_name`,
    kind: `'logon'`,
    time_ms: 'k.time_ms',
    time_field: 'k.time_field',
    session_uid: `k.ui_arn || '@' || k.time_text`,
    user_uid: 'k.ui_arn',
    action: 'k.event_name',
    target: 'k.login_to',
    end_hint_ms: 'coalesce(cl.last_ms, k.time_ms)',
    end_hint: `'last_activity'`,
    details: d.jsonObjectText([
      ['how', `'console ' || k.event_name`],
      ['region', 'k.region'],
      ['mfa', `coalesce(k.mfa_used, k.ui_mfa)`],
      ['switch_from', 'k.switch_from'],
      ['source_identity', 'k.ui_source_identity'],
      ['login_to', 'k.login_to'],
      ['user_agent', 'k.user_agent'],
    ]),
    src_ip: 'k.src_ip',
    user_agent: 'k.user_agent',
    object_key: 'k.object_key',
    position: 'k.position',
    logon_process: 'k.event_name',
  })}
  FROM keyed k LEFT JOIN console_last cl ON cl.host = k.host AND cl.caller_session = k.ui_arn || '@' || k.time_text
  WHERE k.role = 'console'
  UNION ALL
  -- Failed console sign-ins.
  SELECT ${eventPart({
    status: `'event'`,
    host: 'host',
    record_uid: 'event_id',
    event_code: `event_source || ':' || event_name`,
    kind: `'failed_logon'`,
    time_ms: 'time_ms',
    time_field: 'time_field',
    user_uid: 'coalesce(ui_arn, ui_user_name)',
    action: `event_name || ' failed'`,
    target: `concat_ws(': ', error_code, coalesce(error_message, signin_result))`,
    src_ip: 'src_ip',
    user_agent: 'user_agent',
    object_key: 'object_key',
    position: 'position',
    logon_process: 'event_name',
  })}
  FROM keyed WHERE role = 'console_failed'
  UNION ALL
  -- Inferred logons of long-term-key bursts.
  SELECT ${eventPart({
    status: `'event'`,
    host: 'host',
    record_uid: `uid || '#inferred-logon'`,
    event_code: `event_source || ':' || event_name`,
    kind: `'logon'`,
    time_ms: 'time_ms',
    time_field: 'time_field',
    session_uid: 'caller_session',
    user_uid: 'coalesce(ui_arn, ui_user_name)',
    action: literal(INFERRED_LOGON_ACTION),
    end_hint_ms: 'last_ms',
    end_hint: `'last_activity'`,
    details: d.jsonObjectText([
      [
        'how',
        `'inferred: calls of a long-term credential without a gap of ' || CAST(${p.add(gap / 60_000)} AS VARCHAR) || ' minutes'`,
      ],
      ['region', 'region'],
      ['credential', `coalesce(ui_key, 'none (' || ui_type || ')')`],
      ['calls', 'CAST(calls_in_burst AS VARCHAR)'],
      ['mfa', 'ui_mfa'],
      ['user_agent', 'user_agent'],
    ]),
    src_ip: 'src_ip',
    user_agent: 'user_agent',
    object_key: 'object_key',
    position: 'position',
  })}
  FROM inferred
  UNION ALL
  -- Calls: activity of the caller's session; log tampering (succeeded or denied) is an integrity event.
  SELECT ${eventPart({
    status: `'event'`,
    host: 'host',
    record_uid: 'uid',
    event_code: `event_source || ':' || event_name`,
    kind: `CASE WHEN event_source || ':' || event_name IN (${Object.keys(CLOUDTRAIL_TAMPERING_CALLS).map(literal).join(', ')}) THEN 'integrity' ELSE 'activity' END`,
    time_ms: 'time_ms',
    time_field: 'time_field',
    session_uid: 'caller_session',
    user_uid: 'coalesce(ui_arn, ui_user_name)',
    action: `CASE WHEN error_code IS NULL THEN event_name ELSE event_name || ' failed: ' || error_code END`,
    target: `nullif(concat_ws(' ', coalesce(target_param, first_resource), CASE WHEN error_code IS NOT NULL THEN '(' || concat_ws(': ', error_code, error_message) || ')' END), '')`,
    src_ip: 'src_ip',
    user_agent: 'user_agent',
    object_key: 'object_key',
    position: 'position',
    request_text: 'request_text',
  })}
  FROM calls
)
SELECT ${classifiedRow({
    status: 'status',
    reason: 'reason',
    source: literal(CLOUDTRAIL_SOURCE),
    host: 'host',
    record_uid: 'record_uid',
    event_code: 'event_code',
    kind: 'kind',
    time_ms: 'time_ms',
    time_field: 'time_field',
    session_uid: 'session_uid',
    linked_session_uid: 'linked_session_uid',
    user_uid: 'user_uid',
    user_name: `coalesce(${regexpGroup(d, 'user_uid', '^arn:aws[a-z-]*:(?:iam|sts)::[0-9]*:(.+)$', 1)}, user_uid)`,
    user_domain: regexpGroup(d, 'user_uid', '^arn:aws[a-z-]*:(?:iam|sts)::([0-9]+):', 1),
    src_ip: 'src_ip',
    process: 'user_agent',
    // ActivityEvent has no source address: it leads the call's parameters, as "from <ip>: <parameters>".
    command_line: `concat_ws(': ', 'from ' || src_ip, request_text)`,
    action: 'action',
    target: 'target',
    logon_process: 'logon_process',
    end_hint_ms: 'CAST(end_hint_ms AS BIGINT)',
    end_hint: 'end_hint',
    details: 'details',
    raw_ref: `object_key || coalesce('#record=' || CAST(position AS VARCHAR), '#eventID=' || record_uid)`,
    object_key: 'object_key',
  })}
FROM events
UNION ALL
SELECT ${problemRow({
    status: `CASE WHEN role = 'rejected' THEN 'rejected' ELSE 'skipped' END`,
    reason: 'skip_reason',
    source: literal(CLOUDTRAIL_SOURCE),
    host: 'host',
    record_uid: 'event_id',
    event_code: `CASE WHEN event_source IS NOT NULL AND event_name IS NOT NULL THEN event_source || ':' || event_name END`,
    time_ms: 'time_ms',
    time_field: 'time_field',
    raw_ref: `object_key || coalesce('#record=' || CAST(position AS VARCHAR), '')`,
    object_key: 'object_key',
  })}
FROM roles WHERE role IN ('rejected', 'skipped')
UNION ALL
SELECT ${problemRow({
    status: `'rejected'`,
    reason: 'problem',
    source: literal(CLOUDTRAIL_SOURCE),
    raw_ref: `object_key || coalesce('#record=' || CAST(position AS VARCHAR), '')`,
    object_key: 'object_key',
  })}
FROM recs WHERE record IS NULL
`;
  return p.finish('normalise-cloudtrail', sql);
}

/**
 * CloudTrail files in a plain local folder: named as CloudTrail names them
 * (`<account>_CloudTrail_<region>_…`), or in a `CloudTrail` folder, or their first bytes hold a
 * record's `eventVersion` / `eventSource`. Each file is one `{"Records":[…]}` document.
 */
export const CLOUDTRAIL_LOCAL_FILES: LocalFiles = {
  documents: true,
  async recognises(path, head) {
    if (/\.parquet$/i.test(path)) return false;
    if (/_CloudTrail_/.test(basename(path)) || /(^|[\\/])CloudTrail[\\/]/.test(path)) return true;
    return /"(eventVersion|eventSource)"\s*:/.test(await head());
  },
};
