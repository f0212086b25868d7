/**
 * Windows Security log source: maps raw JSON lines of five layouts to normalised session events.
 *
 * Layouts (detected per line, so one file may mix them):
 * - `flat`: NXLog `im_msvistalog` → Logstash (OTRF 2020 sets) and the newer flat export
 *   (`TimeCreated`, short `Hostname`): System fields and every EventData item at the top level.
 * - `wlb6`: Winlogbeat 6.x (`event_id`, `log_name`, `computer_name`, fields under `event_data`).
 * - `ecs`: Winlogbeat 7/8 ECS (`winlog.event_id`, `winlog.computer_name`, `winlog.event_data.*`).
 * - `evtx`: evtx_dump JSON (`Event.System`, `Event.EventData`, `Event.UserData`).
 *
 * Event time, and why (a zone-less local time is never taken as UTC):
 * - `evtx`: `Event.System.TimeCreated.#attributes.SystemTime`, the producer's UTC time.
 * - `ecs`, `wlb6`: `@timestamp`, which Winlogbeat sets from the record's TimeCreated (UTC).
 * - `flat`: `TimeCreated` when it carries a zone (newer export, UTC); else `EventTime` when it
 *   carries an offset; else `@timestamp`, the collector's receipt time in UTC, some seconds after
 *   the event (over ten in real captures), because NXLog's `EventTime` is host-local time without a
 *   zone. Such a record's details carry the measured lag (`collector_lag_ms`: the receipt time less
 *   EventTime read as UTC, less the host's UTC offset taken as the nearest quarter hour), which the
 *   pack states as a bound.
 * The field used is recorded per record (`time_field`) and counted in the pack's coverage.
 *
 * Logon ids are compared in a canonical form (`0x` + lower-case hex without leading zeros), which
 * orders and matches exactly as the numbers do: `0x00000000000003E7` = `0x3e7`.
 */

import type { Dialect, RawInput } from '../query/dialects/dialect.ts';
import { eventOrProblemRow, LINE_IDENTITY_PREFIX, type SessionEventKind } from '../query/session-events.ts';
import { literal, ParamList, type SqlQuery } from '../query/sql.ts';

export const WINDOWS_SOURCE = 'windows';

/** Event ids this source maps; anything else on the Security channel is skipped and counted. */
export const WINDOWS_EVENT_IDS = [
  '4624',
  '4625',
  '4634',
  '4647',
  '4648',
  '4672',
  '4688',
  '4663',
  '4673',
  '4674',
  '4720',
  '4724',
  '4726',
  '4728',
  '4732',
  '4756',
  '4722',
  '4723',
  '4725',
  '4729',
  '4733',
  '4738',
  '4742',
  '4740',
  '4757',
  '4765',
  '4767',
  '4781',
  '4794',
  '4697',
  '4698',
  '4719',
  '4906',
  '4912',
  '1100',
  '1102',
  '4608',
  '4609',
  '4616',
  '4778',
  '4779',
] as const;

/** Per-layout JSON roots. `ed` is where EventData (or UserData for 1102) lives. */
const LAYOUT = {
  // json_extract parses a non-ECS line a second time. Measured and not kept (bench/RESULTS.md):
  // the same parse as one json_extract list (slower than json_value's), and a guard that parses
  // only lines whose text holds "System" or a \u escape (no difference measured on a 1 GiB part).
  detect: (jp: (k: string[]) => string, lv: (k: string[]) => string) => `CASE
      WHEN ${lv(['winlog', 'event_id'])} IS NOT NULL THEN 'ecs'
      WHEN json_extract(line, ${jp(['Event', 'System'])}) IS NOT NULL THEN 'evtx'
      WHEN ${lv(['event_id'])} IS NOT NULL THEN 'wlb6'
      ELSE 'flat' END`,
} as const;

/** Names of EventData items read by the mapping, extracted once per in-scope line. */
const ED_FIELDS = [
  'SubjectUserSid',
  'SubjectUserName',
  'SubjectDomainName',
  'SubjectLogonId',
  'TargetUserSid',
  'TargetUserName',
  'TargetDomainName',
  'TargetLogonId',
  'TargetLinkedLogonId',
  'TargetSid',
  'TargetServerName',
  'LogonType',
  'ElevatedToken',
  'IpAddress',
  'WorkstationName',
  'ProcessName',
  'LogonProcessName',
  'AuthenticationPackageName',
  'PrivilegeList',
  'NewProcessName',
  'ParentProcessName',
  'CommandLine',
  'TokenElevationType',
  'ObjectType',
  'ObjectName',
  'Service',
  'MemberName',
  'MemberSid',
  'LogonID',
  'AccountName',
  'AccountDomain',
  'ClientName',
  'ClientAddress',
  'SessionName',
  'PreviousTime',
  'NewTime',
  'Status',
  'SubStatus',
  'CategoryId',
  'SubcategoryId',
  'SubcategoryGuid',
  'AuditPolicyChanges',
  'CrashOnAuditFailValue',
  'SourceUserName',
  'SourceSid',
  'SidList',
  'OldTargetUserName',
  'NewTargetUserName',
  'Workstation',
  'TargetOutboundUserName',
  'TargetOutboundDomainName',
  'ServiceName',
  'ServiceFileName',
  'ServiceAccount',
  'TaskName',
  'PasswordLastSet',
] as const;
type EdField = (typeof ED_FIELDS)[number];

/** Canonical logon id: `0x` + lower-case hex without leading zeros, or NULL when not hex. */
export function canonicalLogonIdSql(expr: string): string {
  const x = `lower(trim(${expr}))`;
  return `CASE WHEN regexp_like(${x}, '^0x[0-9a-f]+$') THEN '0x' || coalesce(nullif(regexp_replace(${x}, '^0x0*', ''), ''), '0') END`;
}

/** The same canonical form in TypeScript, for request values and tests. */
export function canonicalLogonId(value: string): string | null {
  const x = value.trim().toLowerCase();
  if (!/^0x[0-9a-f]+$/.test(x)) return null;
  return `0x${x.slice(2).replace(/^0+/, '') || '0'}`;
}

/** How each event id maps to the normalised columns. Field names are EventData names. */
interface EventMapping {
  readonly kind: SessionEventKind;
  readonly action: string;
  /** Which identity the event is about: the new/target logon or the subject (caller). */
  readonly who: 'Target' | 'Subject' | 'Account' | 'ProcessOwner';
  readonly session?: EdField | 'ProcessOwner';
  readonly linked?: EdField;
  readonly logonType?: EdField;
  readonly elevated?: EdField;
  readonly srcIp?: EdField;
  readonly srcHost?: EdField;
  readonly process?: EdField;
  readonly parent?: EdField;
  readonly commandLine?: EdField;
  readonly privileges?: EdField;
  readonly logonProcess?: EdField;
  readonly authPackage?: EdField;
  /** SQL expression over `ed_*` columns for the target. */
  readonly target?: string;
}

const GROUP_TARGET = `concat_ws(' -> ', coalesce(ed_MemberName, ed_MemberSid), concat_ws('\\', ed_TargetDomainName, ed_TargetUserName))`;
const ACCOUNT_TARGET = `concat_ws(' ', concat_ws('\\', ed_TargetDomainName, ed_TargetUserName), ed_TargetSid)`;
const OBJECT_TARGET = `concat_ws(' ', ed_ObjectType, ed_ObjectName)`;

const MAPPINGS: Readonly<Record<(typeof WINDOWS_EVENT_IDS)[number], EventMapping>> = {
  '4624': {
    kind: 'logon',
    action: 'logon',
    who: 'Target',
    session: 'TargetLogonId',
    linked: 'TargetLinkedLogonId',
    logonType: 'LogonType',
    elevated: 'ElevatedToken',
    srcIp: 'IpAddress',
    srcHost: 'WorkstationName',
    process: 'ProcessName',
    logonProcess: 'LogonProcessName',
    authPackage: 'AuthenticationPackageName',
    // A NewCredentials logon (type 9, runas /netonly) acts on the network as its outbound identity (MS-4624).
    target: `CASE WHEN ed_LogonType = '9' THEN nullif(concat_ws('\\', ed_TargetOutboundDomainName, ed_TargetOutboundUserName), '') END`,
  },
  '4625': {
    kind: 'failed_logon',
    action: 'logon_failed',
    who: 'Target',
    logonType: 'LogonType',
    srcIp: 'IpAddress',
    srcHost: 'WorkstationName',
    process: 'ProcessName',
    logonProcess: 'LogonProcessName',
    authPackage: 'AuthenticationPackageName',
    target: `concat_ws(' ', ed_Status, ed_SubStatus)`,
  },
  '4634': {
    kind: 'logoff',
    action: 'logoff',
    who: 'Target',
    session: 'TargetLogonId',
    logonType: 'LogonType',
  },
  '4647': { kind: 'logoff', action: 'user_logoff', who: 'Target', session: 'TargetLogonId' },
  '4648': {
    kind: 'activity',
    action: 'explicit_credentials',
    who: 'Subject',
    session: 'SubjectLogonId',
    srcIp: 'IpAddress',
    process: 'ProcessName',
    target: `concat_ws(' on ', concat_ws('\\', ed_TargetDomainName, ed_TargetUserName), ed_TargetServerName)`,
  },
  '4672': {
    kind: 'privilege',
    action: 'special_privileges',
    who: 'Subject',
    session: 'SubjectLogonId',
    privileges: 'PrivilegeList',
  },
  '4688': {
    kind: 'activity',
    action: 'process_created',
    who: 'ProcessOwner',
    session: 'ProcessOwner',
    elevated: 'TokenElevationType',
    process: 'NewProcessName',
    parent: 'ParentProcessName',
    commandLine: 'CommandLine',
  },
  '4663': {
    kind: 'activity',
    action: 'object_access',
    who: 'Subject',
    session: 'SubjectLogonId',
    process: 'ProcessName',
    target: OBJECT_TARGET,
  },
  '4673': {
    kind: 'activity',
    action: 'privileged_service_called',
    who: 'Subject',
    session: 'SubjectLogonId',
    process: 'ProcessName',
    privileges: 'PrivilegeList',
    target: 'ed_Service',
  },
  '4674': {
    kind: 'activity',
    action: 'privileged_object_operation',
    who: 'Subject',
    session: 'SubjectLogonId',
    process: 'ProcessName',
    privileges: 'PrivilegeList',
    target: OBJECT_TARGET,
  },
  '4720': {
    kind: 'activity',
    action: 'user_created',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: ACCOUNT_TARGET,
  },
  '4724': {
    kind: 'activity',
    action: 'password_reset',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: ACCOUNT_TARGET,
  },
  '4726': {
    kind: 'activity',
    action: 'user_deleted',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: ACCOUNT_TARGET,
  },
  '4728': {
    kind: 'activity',
    action: 'group_member_added',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: GROUP_TARGET,
  },
  '4732': {
    kind: 'activity',
    action: 'group_member_added',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: GROUP_TARGET,
  },
  '4756': {
    kind: 'activity',
    action: 'group_member_added',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: GROUP_TARGET,
  },
  // Account and group changes beyond creation (Microsoft "Audit User Account Management" and
  // "Audit Security Group Management" event docs): each names its subject and the account acted on.
  '4722': {
    kind: 'activity',
    action: 'user_enabled',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: ACCOUNT_TARGET,
  },
  '4723': {
    kind: 'activity',
    action: 'password_change_attempted',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: ACCOUNT_TARGET,
  },
  '4725': {
    kind: 'activity',
    action: 'user_disabled',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: ACCOUNT_TARGET,
  },
  '4729': {
    kind: 'activity',
    action: 'group_member_removed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: GROUP_TARGET,
  },
  '4733': {
    kind: 'activity',
    action: 'group_member_removed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: GROUP_TARGET,
  },
  '4757': {
    kind: 'activity',
    action: 'group_member_removed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: GROUP_TARGET,
  },
  '4738': {
    kind: 'activity',
    action: 'user_changed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: ACCOUNT_TARGET,
  },
  // 4742, a computer account was changed ("Audit Computer Account Management"): the subject who
  // changed it, the computer account changed (TargetSid, TargetUserName, TargetDomainName) and the
  // changed attributes, "-" when unchanged; PasswordLastSet is the machine account's password reset
  // (MS-4742, https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4742).
  // Zerologon (CVE-2020-1472) leaves this as its one Security trace: ANONYMOUS LOGON resetting the
  // DC's machine account password (OTRF mimikatz_CVE-2020-1472_Unauthenticated_NetrServerAuthenticate2).
  '4742': {
    kind: 'activity',
    action: 'computer_account_changed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: `concat_ws(' ', ${ACCOUNT_TARGET}, 'password last set ' || ed_PasswordLastSet)`,
  },
  // 4740: TargetDomainName holds the caller computer's name, not a domain (MS-4740).
  '4740': {
    kind: 'activity',
    action: 'user_locked_out',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: `concat_ws(' ', ed_TargetUserName, ed_TargetSid, 'caller computer ' || ed_TargetDomainName)`,
  },
  '4765': {
    kind: 'activity',
    action: 'sid_history_added',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: `concat_ws(' ', ${ACCOUNT_TARGET}, 'from ' || coalesce(ed_SourceUserName, ed_SourceSid), 'SIDs ' || ed_SidList)`,
  },
  '4767': {
    kind: 'activity',
    action: 'user_unlocked',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: ACCOUNT_TARGET,
  },
  '4781': {
    kind: 'activity',
    action: 'user_renamed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: `concat_ws(' ', concat_ws(' -> ', ed_OldTargetUserName, ed_NewTargetUserName), ed_TargetSid)`,
  },
  '4794': {
    kind: 'activity',
    action: 'dsrm_password_set',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: `concat_ws(' ', 'from ' || ed_Workstation, 'status ' || ed_Status)`,
  },
  // A service installed or a scheduled task created runs code later, often as SYSTEM: what a
  // remote admin session does to persist or to execute (PsExec, sc create, schtasks /create), and
  // often the only trace of it on the target host (MS-4697, MS-4698).
  '4697': {
    kind: 'activity',
    action: 'service_installed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: `concat_ws(' ', ed_ServiceName, ed_ServiceFileName, 'as ' || ed_ServiceAccount)`,
  },
  '4698': {
    kind: 'activity',
    action: 'scheduled_task_created',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: 'ed_TaskName',
  },
  // Audit policy changes are integrity events: they decide what the log records from then on
  // (MS-4719 system policy, MS-4912 per-user policy, MS-4906 CrashOnAuditFail).
  '4719': {
    kind: 'integrity',
    action: 'audit_policy_changed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: `concat_ws(' ', coalesce(ed_SubcategoryId, ed_SubcategoryGuid), ed_AuditPolicyChanges)`,
  },
  '4912': {
    kind: 'integrity',
    action: 'audit_policy_changed',
    who: 'Subject',
    session: 'SubjectLogonId',
    target: `concat_ws(' ', 'for ' || ed_TargetUserSid, coalesce(ed_SubcategoryId, ed_SubcategoryGuid), ed_AuditPolicyChanges)`,
  },
  '4906': {
    kind: 'integrity',
    action: 'audit_policy_changed',
    who: 'Subject',
    target: `'CrashOnAuditFail ' || ed_CrashOnAuditFailValue`,
  },
  '1100': { kind: 'integrity', action: 'audit_service_stopped', who: 'Subject' },
  '1102': { kind: 'integrity', action: 'log_cleared', who: 'Subject', session: 'SubjectLogonId' },
  '4608': { kind: 'boot', action: 'system_start', who: 'Subject' },
  '4609': { kind: 'shutdown', action: 'system_shutdown', who: 'Subject' },
  '4616': {
    kind: 'integrity',
    action: 'system_time_changed',
    who: 'Subject',
    session: 'SubjectLogonId',
    process: 'ProcessName',
    target: `concat_ws(' -> ', ed_PreviousTime, ed_NewTime)`,
  },
  '4778': {
    kind: 'reconnect',
    action: 'session_reconnected',
    who: 'Account',
    session: 'LogonID',
    srcIp: 'ClientAddress',
    srcHost: 'ClientName',
    target: 'ed_SessionName',
  },
  '4779': {
    kind: 'disconnect',
    action: 'session_disconnected',
    who: 'Account',
    session: 'LogonID',
    srcIp: 'ClientAddress',
    srcHost: 'ClientName',
    target: 'ed_SessionName',
  },
};

/**
 * The `details` key of a skipped Sysmon record: its own UtcTime minus the time it was read at, in
 * milliseconds (buildUtcTimeCheckQuery, the pack's `coverage.sources[].utc_time_checks`).
 */
export const UTC_CHECK_DETAIL = 'own_utc_minus_time_ms';

/** Sysmon's channel, lower case: its records carry the event's UTC time in their own `UtcTime` field. */
const SYSMON_CHANNEL = 'microsoft-windows-sysmon/operational';

/** The NULL SID (S-1-0-0): "no security principal", never an account. */
export const NULL_SID = 'S-1-0-0';

/** Logon type 9 (NewCredentials, `runas /netonly`): a copy of the caller's logon with other outbound credentials (MS-4624). */
export const NEW_CREDENTIALS_LOGON_TYPE = 9;

/** Fields whose population the pack reports (per event code). */
export const POPULATION_FIELDS = [
  'session_uid',
  'user_uid',
  'logon_type_id',
  'linked_session_uid',
  'is_elevated',
] as const;

/** Which population fields an event code defines at all (others are not expected on it). */
export function definedFields(eventCode: string): readonly (typeof POPULATION_FIELDS)[number][] {
  const m = MAPPINGS[eventCode as (typeof WINDOWS_EVENT_IDS)[number]];
  if (m === undefined) return [];
  const out: (typeof POPULATION_FIELDS)[number][] = [];
  if (m.session !== undefined) out.push('session_uid');
  if (m.who !== 'Account') out.push('user_uid');
  if (m.logonType !== undefined) out.push('logon_type_id');
  if (m.linked !== undefined) out.push('linked_session_uid');
  if (m.elevated !== undefined) out.push('is_elevated');
  return out;
}

/** Builds a `CASE event_code WHEN … END` over the mappings that define `pick`. */
function byEvent(pick: (m: EventMapping) => string | undefined): string {
  const arms = Object.entries(MAPPINGS)
    .map(([code, m]) => [code, pick(m)] as const)
    .filter((arm): arm is readonly [string, string] => arm[1] !== undefined)
    .map(([code, expr]) => `WHEN ${literal(code)} THEN ${expr}`);
  return arms.length === 0 ? 'NULL' : `CASE event_code ${arms.join(' ')} END`;
}

const ed = (f: EdField) => `ed_${f}`;
const notZero = (x: string) => `(${x} IS NOT NULL AND ${x} <> '0x0')`;
const ownerIsTarget = notZero(`luid_TargetLogonId`);

function identityPart(part: 'uid' | 'name' | 'domain'): string {
  const field = {
    uid: ['UserSid', 'UserSid'],
    name: ['UserName', 'UserName'],
    domain: ['DomainName', 'DomainName'],
  }[part];
  return byEvent((m) => {
    switch (m.who) {
      case 'Target':
        return ed(`Target${field[0]}` as EdField);
      case 'Subject':
        return ed(`Subject${field[1]}` as EdField);
      case 'Account':
        return part === 'uid' ? 'NULL' : part === 'name' ? ed('AccountName') : ed('AccountDomain');
      case 'ProcessOwner':
        // 4688 v2: the target subject owns the process when it differs from the creator (MS-4688).
        return `CASE WHEN ${ownerIsTarget} THEN ${ed(`Target${field[0]}` as EdField)} ELSE ${ed(`Subject${field[1]}` as EdField)} END`;
    }
  });
}

/** `receipt_minus_local_ms` rounded to the nearest quarter hour: the host's UTC offset, negated. */
const QUARTER_HOURS_SQL = 'CAST(round(CAST(receipt_minus_local_ms AS DOUBLE) / 900000) AS BIGINT) * 900000';

/**
 * The normalising query: every raw line of the window's files, classified as `event` (mapped),
 * `skipped` (another channel or event id) or `rejected` (with the reason), with the normalised
 * columns filled for events. The engine materialises it once per pack, so raw data is read once.
 */
export function buildWindowsNormaliseQuery(d: Dialect, input: RawInput): SqlQuery {
  const p = new ParamList();
  const jp = (keys: string[]) => d.jsonPath(keys);
  const clean = (x: string) => `nullif(nullif(trim(${x}), '-'), '')`;
  const hasZone = (x: string) => `regexp_like(${x}, '(Z|[+-][0-9][0-9]:?[0-9][0-9])$')`;

  const edRoot = `CASE layout
      WHEN 'ecs' THEN coalesce(json_extract(line, ${jp(['winlog', 'event_data'])}), json_extract(line, ${jp(['winlog', 'user_data'])}))
      WHEN 'evtx' THEN coalesce(json_extract(line, ${jp(['Event', 'EventData'])}), json_extract(line, ${jp(['Event', 'UserData', 'LogFileCleared'])}))
      WHEN 'wlb6' THEN coalesce(json_extract(line, ${jp(['event_data'])}), json_extract(line, ${jp(['user_data'])}))
      ELSE ${d.toJson('line')} END`;

  const luidCols = ['SubjectLogonId', 'TargetLogonId', 'TargetLinkedLogonId', 'LogonID'] as const;
  // Every field of the line is extracted in one pass (one parse per line where the engine can):
  // lv() registers a path and returns its element of the \`sv\` list built by the scalars CTE.
  const linePaths: string[][] = [];
  const lv = (keys: string[]) => {
    const at = linePaths.findIndex((k) => k.join('\u0000') === keys.join('\u0000'));
    if (at >= 0) return `sv[${at + 1}]`;
    linePaths.push(keys);
    return `sv[${linePaths.length}]`;
  };

  const channelLc = `lower(coalesce(${lv(['Channel'])}, ${lv(['log_name'])}, ${lv(['winlog', 'channel'])}, ${lv(['Event', 'System', 'Channel'])}))`;
  // Built before the query text, so that every path it reads is registered for the scalars CTE.
  const sysCte = `sys AS (
  SELECT object_key, line, line_no, ok, layout,
    coalesce(
      ${d.tryInteger(lv(['EventID']), 'INTEGER')},
      ${d.tryInteger(lv(['event_id']), 'INTEGER')},
      ${d.tryInteger(lv(['winlog', 'event_id']), 'INTEGER')},
      ${d.tryInteger(lv(['Event', 'System', 'EventID']), 'INTEGER')},
      ${d.tryInteger(lv(['Event', 'System', 'EventID', '#text']), 'INTEGER')}) AS event_id,
    ${channelLc} AS channel_lc,
    upper(trim(coalesce(${lv(['winlog', 'computer_name'])}, ${lv(['computer_name'])}, ${lv(['Event', 'System', 'Computer'])}, ${lv(['Hostname'])}, ${lv(['Computer'])}))) AS host,
    coalesce(
      ${d.tryInteger(lv(['RecordNumber']), 'BIGINT')},
      ${d.tryInteger(lv(['record_number']), 'BIGINT')},
      ${d.tryInteger(lv(['winlog', 'record_id']), 'BIGINT')},
      ${d.tryInteger(lv(['Event', 'System', 'EventRecordID']), 'BIGINT')},
      ${d.tryInteger(lv(['EventRecordID']), 'BIGINT')}) AS record_no,
    CASE layout
      WHEN 'evtx' THEN ${lv(['Event', 'System', 'TimeCreated', '#attributes', 'SystemTime'])}
      WHEN 'flat' THEN CASE
        WHEN ${hasZone(`coalesce(${lv(['TimeCreated'])}, '')`)} THEN ${lv(['TimeCreated'])}
        WHEN ${hasZone(`coalesce(${lv(['EventTime'])}, '')`)} THEN ${lv(['EventTime'])}
        ELSE ${lv(['@timestamp'])} END
      ELSE ${lv(['@timestamp'])} END AS time_text,
    CASE layout
      WHEN 'evtx' THEN 'Event.System.TimeCreated.SystemTime (event time, UTC)'
      WHEN 'flat' THEN CASE
        WHEN ${hasZone(`coalesce(${lv(['TimeCreated'])}, '')`)} THEN 'TimeCreated (event time, UTC)'
        WHEN ${hasZone(`coalesce(${lv(['EventTime'])}, '')`)} THEN 'EventTime (event time with UTC offset)'
        ELSE '@timestamp (collector receipt time, UTC; EventTime has no zone)' END
      ELSE '@timestamp (Winlogbeat event time, UTC)' END AS time_field,
    -- a time the record gives only without a zone (a TimeCreated or EventTime of host-local time):
    -- without a collector time such a record has no usable time, which its reason says
    CASE WHEN layout = 'flat' AND coalesce(${lv(['TimeCreated'])}, ${lv(['EventTime'])}) IS NOT NULL THEN true ELSE false END AS zoneless_time,
    -- the zone-less local EventTime of a record timed by the collector: read as if UTC, it measures
    -- the collector's lag once the host's UTC offset is taken out (see collector_lag_ms below)
    CASE WHEN layout = 'flat' AND NOT ${hasZone(`coalesce(${lv(['TimeCreated'])}, '')`)} AND NOT ${hasZone(`coalesce(${lv(['EventTime'])}, '')`)}
      THEN ${d.isoTimeText(`replace(trim(${lv(['EventTime'])}), ' ', 'T') || 'Z'`)} END AS local_time_as_utc,
    -- Sysmon writes the event's time in UTC in its own field (UtcTime, \`2020-10-22 05:31:04.762\`):
    -- set beside the time a flat export's record is read at when that time is the export's own
    -- (TimeCreated, or EventTime with a zone), it tells whether that time is the UTC it says it is
    -- (OTRF's newer flat exports write host-local time with a Z: UtcTime is 4-5 h later). A time
    -- the collector or Winlogbeat set (@timestamp) is UTC by construction and is not checked here.
    CASE WHEN layout = 'flat' AND ${channelLc} = ${literal(SYSMON_CHANNEL)}
      AND (${hasZone(`coalesce(${lv(['TimeCreated'])}, '')`)} OR ${hasZone(`coalesce(${lv(['EventTime'])}, '')`)})
      THEN ${d.isoTimeText(`replace(trim(${lv(['UtcTime'])}), ' ', 'T') || 'Z'`)} END AS own_utc_time
  FROM (SELECT object_key, line, line_no, ok, sv, CASE WHEN ok THEN ${LAYOUT.detect(jp, lv)} END AS layout FROM scalars)
),`;
  const lenientMarked = input.kind === 'files' && input.lenientJsonMarked === true;
  const sql = `
WITH raw AS (
  SELECT object_key, line, line_no FROM ${d.rawLines(input, p)}
),
-- One pass: each line flows through every step once, strict JSON is checked once per line, and the
-- last SELECT tells events from problems by status. A step read twice (events, then problems) is
-- materialised by DuckDB with every raw line in it: memory that grew with the input.
checked AS (${
    lenientMarked
      ? `
  -- strict JSON by the engine's own check alone: the intake replaced every line that holds JSON's
  -- lenient extras outside its strings (a comma before ] or }, NaN or Inf) with the one byte 0x03,
  -- which no JSON reader accepts, at the line's own position (lib/locate/log-intake.ts)`
      : ''
  }
  SELECT object_key, line, line_no, ${d.isJson('line', lenientMarked)} AS ok FROM raw
),
scalars AS (
  SELECT object_key, line, line_no, ok, CASE WHEN ok THEN ${d.jsonScalars('line', linePaths)} END AS sv FROM checked
),
${sysCte}
classified AS (
  SELECT *,
    -- A record without an event id or a usable time is of the wrong shape whatever its channel:
    -- rejected before the scope checks, so that no malformed record hides among the skipped ones.
    CASE
      WHEN NOT ok THEN 'rejected'
      WHEN event_id IS NULL THEN 'rejected'
      WHEN time_text IS NULL OR NOT ${hasZone('time_text')} OR try(from_iso8601_timestamp(${d.isoTimeText('time_text')})) IS NULL THEN 'rejected'
      WHEN channel_lc IS NULL OR channel_lc <> 'security' THEN 'skipped'
      WHEN CAST(event_id AS VARCHAR) NOT IN (${WINDOWS_EVENT_IDS.map(literal).join(', ')}) THEN 'skipped'
      WHEN host IS NULL OR host = '' THEN 'rejected'
      ELSE 'event' END AS status,
    CASE
      WHEN NOT ok THEN 'malformed_json'
      WHEN event_id IS NULL THEN 'missing_event_id'
      WHEN time_text IS NULL THEN CASE WHEN zoneless_time THEN 'no_time_with_zone' ELSE 'missing_time' END
      WHEN NOT ${hasZone('time_text')} OR try(from_iso8601_timestamp(${d.isoTimeText('time_text')})) IS NULL THEN 'bad_time'
      WHEN channel_lc IS NULL OR channel_lc <> 'security' THEN 'other_channel'
      WHEN CAST(event_id AS VARCHAR) NOT IN (${WINDOWS_EVENT_IDS.map(literal).join(', ')}) THEN 'other_event_id'
      WHEN host IS NULL OR host = '' THEN 'missing_host'
      END AS reason
  FROM sys
),
fields AS (
  SELECT status, reason, object_key, host, record_no, event_code, time_text, time_field, local_time_as_utc, line_no,
    -- Sysmon's own UTC time minus the time the record is read at (a record whose time was usable:
    -- not rejected), in milliseconds: 0 give or take a few ms when that time is UTC
    CASE WHEN status <> 'rejected' AND own_utc_time IS NOT NULL
      THEN try(${d.epochMillis('own_utc_time')}) - ${d.epochMillis(d.isoTimeText('time_text'))} END AS own_utc_minus_time_ms,
    -- the digest of a record without a record number, which names it (line_identity, raw_ref):
    -- computed once, and the raw line goes no further than this step
    -- (a rejected record's too, so that the pack can point at it: rejected records are few)
    -- (a Hive text table reads a line \\N as NULL: its digest is the empty line's)
    CASE WHEN status IN ('event', 'rejected') AND record_no IS NULL THEN ${d.sha256Hex("coalesce(line, '')")} END AS line_sha,
    -- the event's data fields stay one list (NULL on the other lines) through the identity window
    -- below and are spread into columns after it: the window holds every line of the statement's
    -- input, and one NULL list costs it less than a column per field (Trino's per-node memory)
    ev
  FROM (
    SELECT status, reason, object_key, host, record_no, CAST(event_id AS VARCHAR) AS event_code, time_text, CASE WHEN ok THEN time_field END AS time_field, local_time_as_utc, own_utc_time, line, line_no,
      -- NULL, not a list of NULLs, on the lines that are no event (Trino builds its list from one
      -- call per field, which a NULL document does not make NULL): the window below holds them all
      CASE WHEN ed IS NOT NULL THEN ${d.jsonScalars(
        'ed',
        ED_FIELDS.map((f) => [f]),
      )} END AS ev
    FROM (SELECT *, CASE WHEN status = 'event' THEN ${edRoot} END AS ed FROM classified)
  )
),
identified AS (
  SELECT status, reason, object_key, host, record_no, event_code, time_text, time_field, local_time_as_utc, own_utc_minus_time_ms, line_no, line_sha, ev,
    -- A layout without a record number (the newer flat export): the record is its line of its
    -- file. Its uid is the file, the line's content and which of the file's identical lines it is
    -- (the same set of uids in any line order), so that distinct lines never collapse, even
    -- identical ones; its reference is the file and line (#line=N), or on engines that do not
    -- number lines the line's digest. Identical lines have the same status, so numbering the
    -- events among them (by the line's digest) numbers them as among all lines; the window sees
    -- normalised columns only, never the raw line.
    CASE WHEN line_sha IS NOT NULL THEN ${literal(LINE_IDENTITY_PREFIX)} || concat_ws(':', object_key, line_sha,
      CAST(row_number() OVER (PARTITION BY object_key, line_sha ORDER BY line_no) AS VARCHAR)) END AS line_identity,
    -- collector time minus the local EventTime read as UTC: the host's UTC offset (a whole number
    -- of quarter hours, the granularity of real zones) plus the collector's lag
    -- (events only: a rejected record's time may be no real date, which the engines refuse to read)
    CASE WHEN status = 'event' AND local_time_as_utc IS NOT NULL
      THEN ${d.epochMillis(d.isoTimeText('time_text'))} - try(${d.epochMillis('local_time_as_utc')}) END AS receipt_minus_local_ms
  FROM fields
),
spread AS (
  SELECT *, ${ED_FIELDS.map((f, i) => `${clean(`ev[${i + 1}]`)} AS ed_${f}`).join(',\n    ')}
  FROM identified
),
luids AS (
  SELECT *, ${luidCols.map((f) => `${canonicalLogonIdSql(`ed_${f}`)} AS luid_${f}`).join(', ')}
  FROM spread
),
events AS (
  SELECT
  ${eventOrProblemRow(
    {
      status: `'event'`,
      source: literal(WINDOWS_SOURCE),
      host: 'host',
      record_no: 'record_no',
      record_uid: `concat_ws('|', host, 'security', coalesce(CAST(record_no AS VARCHAR), line_identity), event_code)`,
      event_code: 'event_code',
      kind: byEvent((m) => literal(m.kind)),
      time_ms: d.epochMillis(d.isoTimeText('time_text')),
      time_field: 'time_field',
      session_uid: byEvent((m) =>
        m.session === undefined
          ? undefined
          : m.session === 'ProcessOwner'
            ? `CASE WHEN ${ownerIsTarget} THEN luid_TargetLogonId ELSE luid_SubjectLogonId END`
            : `luid_${m.session}`,
      ),
      linked_session_uid: byEvent((m) => (m.linked ? `nullif(luid_${m.linked}, '0x0')` : undefined)),
      // S-1-0-0 (NULL SID) names no account: real 4688 v2 records write it as the target of every
      // process whose owner the log does not resolve (MS-4688), so it is no identity.
      user_uid: `nullif(${identityPart('uid')}, ${literal(NULL_SID)})`,
      user_name: identityPart('name'),
      user_domain: identityPart('domain'),
      logon_type_id: byEvent((m) => (m.logonType ? d.tryInteger(ed(m.logonType), 'INTEGER') : undefined)),
      is_elevated: byEvent((m) =>
        m.elevated === 'ElevatedToken'
          ? `CASE WHEN ed_ElevatedToken IN ('%%1842', 'Yes') THEN true WHEN ed_ElevatedToken IN ('%%1843', 'No') THEN false END`
          : m.elevated === 'TokenElevationType'
            ? // %%1937 = elevated (Run as administrator), %%1938 = limited; %%1936 (default) says nothing.
              `CASE WHEN ed_TokenElevationType = '%%1937' THEN true WHEN ed_TokenElevationType = '%%1938' THEN false END`
            : undefined,
      ),
      privileges: byEvent((m) => (m.privileges ? d.replaceAll(ed(m.privileges), '\\s+', ' ') : undefined)),
      src_ip: byEvent((m) => (m.srcIp ? ed(m.srcIp) : undefined)),
      src_host: byEvent((m) => (m.srcHost ? ed(m.srcHost) : undefined)),
      process: byEvent((m) => (m.process ? ed(m.process) : undefined)),
      parent_process: byEvent((m) => (m.parent ? ed(m.parent) : undefined)),
      command_line: byEvent((m) => (m.commandLine ? ed(m.commandLine) : undefined)),
      action: byEvent((m) => literal(m.action)),
      target: byEvent((m) => m.target),
      logon_process: byEvent((m) => (m.logonProcess ? ed(m.logonProcess) : undefined)),
      auth_package: byEvent((m) => (m.authPackage ? ed(m.authPackage) : undefined)),
      // Windows logs its logoffs, so no end hint (end_hint_ms, end_hint stay NULL).
      // A NewCredentials logon (type 9) keeps the caller's identity locally and uses the outbound
      // account (TargetOutbound*, 4624 v2) on the network; SubjectLogonId is the logon that made it
      // (MS-4624). Both are what a reader needs to follow it.
      details: `CASE WHEN event_code = '4624' AND ${d.tryInteger('ed_LogonType', 'INTEGER')} = ${NEW_CREDENTIALS_LOGON_TYPE} THEN ${d.jsonObjectText(
        [
          [
            'outbound_account',
            `nullif(concat_ws('\\', ed_TargetOutboundDomainName, ed_TargetOutboundUserName), '')`,
          ],
          ['created_by_logon', "nullif(luid_SubjectLogonId, '0x0')"],
        ],
      )}
        WHEN receipt_minus_local_ms IS NOT NULL THEN ${d.jsonObjectText([
          ['collector_lag_ms', `receipt_minus_local_ms - ${QUARTER_HOURS_SQL}`],
          ['event_time_utc_offset_min', `CAST(-(${QUARTER_HOURS_SQL}) / 60000 AS BIGINT)`],
        ])} END`,
      // A record without its record number (EventRecordID not exported) is named by its file and
      // line, or by its line's digest where the engine does not number lines (Hive text tables).
      raw_ref: `object_key || coalesce('#record=' || CAST(record_no AS VARCHAR), '#line=' || CAST(line_no AS VARCHAR),
        '#sha256=' || substr(line_sha, 1, 16))`,
      object_key: 'object_key',
    },
    {
      status: 'status',
      reason: 'reason',
      source: literal(WINDOWS_SOURCE),
      host: 'host',
      record_no: 'record_no',
      event_code: 'event_code',
      time_field: 'time_field',
      // what the pack measures of the time the skipped Sysmon records were read at (utc_time_checks)
      details: `CASE WHEN own_utc_minus_time_ms IS NOT NULL THEN ${d.jsonObjectText([[UTC_CHECK_DETAIL, 'own_utc_minus_time_ms']])} END`,
      // A rejected record is named by its record number, else by its line's digest on every engine
      // (the pack's coverage is the same bytes on DuckDB and Trino, which numbers no lines); a
      // skipped one by its record number alone, as hashing every skipped line would cost.
      raw_ref: `object_key || CASE WHEN record_no IS NOT NULL THEN '#record=' || CAST(record_no AS VARCHAR)
        WHEN status = 'rejected' THEN '#sha256=' || substr(line_sha, 1, 16)
        ELSE '' END`,
      object_key: 'object_key',
    },
  )}
  FROM luids
)
SELECT * FROM events
`;
  return p.finish('normalise-windows', sql);
}
