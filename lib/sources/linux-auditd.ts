/**
 * Linux auditd source: maps raw `audit.log` lines (RAW or ENRICHED format, old and new PAM message
 * syntax) to normalised session events, in one query.
 *
 * Record → event (domain notes §2.1–2.3):
 * - `LOGIN` (auid and `ses` assigned by pam_loginuid) is the **logon** of session `ses`; it is
 *   enriched with the entry point's `USER_START` (same host, `ses` and pid, within a minute: program,
 *   `acct`, remote address) and `USER_LOGIN` (same `ses`: the TTY). A logon as `auid=0` is a direct
 *   root login (`is_elevated`).
 * - `USER_START` / `USER_END` of an elevating program (sudo, su, runuser, pkexec, doas) are a nested
 *   sub-session: the start is a **privilege** row (`is_elevated` when the target `acct` is root), the
 *   end is activity. The entry point's own `USER_START` is activity; its `USER_END` and `USER_LOGOUT`
 *   are the **logoff**.
 * - `USER_CMD` (sudo's command, hex `cmd` decoded), `SYSCALL` joined by `(host, time, serial)` with
 *   its `EXECVE` (arguments a0..aN, hex decoded), `PROCTITLE` and `CWD`, and account changes
 *   (`ADD_USER`, `USER_MGMT`, `ADD_GROUP`, `GRP_MGMT`, …) are **activity**; `CRED_*`, `USER_AUTH`,
 *   `USER_ACCT` and a successful `USER_LOGIN` are activity of their session when it is set;
 *   failures (`res=failed`) are failed logons.
 * - `SYSTEM_BOOT` and `DAEMON_START` begin a boot epoch (`ses` restarts after a reboot, K-AUDITSC;
 *   a bare auditd restart also starts an epoch: the reconstruction cannot tell it from a reboot);
 *   `SYSTEM_SHUTDOWN` is a shutdown; `DAEMON_END` / `DAEMON_ABORT` are `audit_service_stopped`.
 * - `CONFIG_CHANGE` (auditctl / augenrules changed rules or settings) is an **integrity** event of
 *   its session: `audit_disabled` for `audit_enabled=0`, `audit_rule_removed` for a removal, else
 *   `audit_policy_changed` (LA-MSGS: CONFIG_CHANGE "audit system configuration change").
 * - Auxiliary records (`EXECVE`, `PATH`, `CWD`, `PROCTITLE`, `SOCKADDR`, …) are skipped and counted:
 *   joined into their `SYSCALL`, or `auxiliary_without_syscall` when it is not in the data.
 *
 * Sessions: `session_uid` is `ses` as a decimal string, `user_uid` is `auid` (the human, which sudo
 * and su do not change), `user_name` the ENRICHED `AUID` name, else the `acct` of the entry point's
 * PAM records, else the name any entry-point record of the host gave that auid.
 *
 * Records with an unset `auid`/`ses` (4294967295: daemons, `su` from a service, SSM shells, and
 * sshd / crond before pam_loginuid assigns `ses`) are kept as orphan activity under a marker
 * session that no logon ever has (domain notes §2.2):
 * - user-space records (PAM `USER_AUTH`, `USER_ACCT`, `CRED_*`, `USER_START`/`USER_END`, account
 *   changes) under `unset:<program>[<pid>]`: one group per process, so a su started by a service is
 *   one group from its authentication to its `CRED_DISP`;
 * - a `SYSCALL` whose process is such a su / sudo (same pid), its child (ppid) or its child's child
 *   (the commands of its shell), while the su lives (first record to its `USER_END`), under that
 *   su's marker: the su is followed into what it ran;
 * - other processes under the bare marker `unset`.
 * Their user is the acting process's `uid` (LA-FIELDS), named by the record's ENRICHED `UID=`, else
 * by the name the host's logs give that id elsewhere (ENRICHED `UID=`/`AUID=`, an entry point's
 * `acct` for its auid), else left unnamed; the PAM `acct` (the account acted on) goes to `target`.
 * Failed logons and `CONFIG_CHANGE` without a session stay without one (they are reported as failed
 * logons and integrity events).
 *
 * Host: the `node=` prefix when present (name_format set); else a `host=<name>` folder in the
 * object key; else the file name without `.log[.gz]` up to the first `_` (`web01.corp.log`,
 * `web01_audit.log`). Upper-cased, as the Windows source does, so that host scopes match alike.
 *
 * Time: `msg=audit(<epoch>.<millis>:<serial>)`, UTC by definition. Identity: `record_uid` is
 * `host|epoch.millis|serial|type`, the event id the kernel gives every record of one event (auparse(3))
 * with the record's type, so re-shipped copies collapse (here before the session facts, and in the
 * reconstruction); two different lines under one identity are versions that disagree: both are
 * kept, and the reconstruction reports the conflict.
 */
import { type Dialect, type ExpressionShims, type RawInput, regexpGroup } from '../query/dialects/dialect.ts';
import { classifiedRow, problemRow } from '../query/session-events.ts';
import { literal, ParamList, type SqlQuery } from '../query/sql.ts';

export const LINUX_AUDITD_SOURCE = 'linux_auditd';

/** The marker session of process activity without a login session (`auid`/`ses` unset). */
export const UNSET_SESSION = 'unset';

/** Programs whose PAM session is a nested elevation inside the caller's session. */
export const ELEVATING_PROGRAMS = ['sudo', 'sudoedit', 'su', 'runuser', 'pkexec', 'doas', 'ksu'] as const;

/** Record types that become events. */
export const AUDITD_EVENT_TYPES = [
  'LOGIN',
  'USER_LOGIN',
  'USER_LOGOUT',
  'USER_START',
  'USER_END',
  'CRED_ACQ',
  'CRED_DISP',
  'CRED_REFR',
  'USER_AUTH',
  'USER_ACCT',
  'USER_ERR',
  'USER_CMD',
  'SYSCALL',
  'ADD_USER',
  'DEL_USER',
  'USER_MGMT',
  'USER_CHAUTHTOK',
  'ADD_GROUP',
  'DEL_GROUP',
  'GRP_MGMT',
  'SYSTEM_BOOT',
  'SYSTEM_SHUTDOWN',
  'DAEMON_START',
  'DAEMON_END',
  'DAEMON_ABORT',
  'CONFIG_CHANGE',
] as const;

/** Records that belong to a `SYSCALL` of the same serial (LA-MSGS) and are read through it. */
export const AUDITD_AUXILIARY_TYPES = [
  'EXECVE',
  'PROCTITLE',
  'CWD',
  'PATH',
  'SOCKADDR',
  'SOCKETCALL',
  'BPRM_FCAPS',
  'OBJ_PID',
  'MMAP',
  'FD_PAIR',
  'IPC',
  'IPC_SET_PERM',
  'CAPSET',
  'KERN_MODULE',
  'MQ_OPEN',
  'MQ_SENDRECV',
  'MQ_NOTIFY',
  'MQ_GETSETATTR',
  'OPENAT2',
  'TIME_ADJNTPVAL',
  'TIME_INJOFFSET',
] as const;

const ACCOUNT_ACTIONS: Readonly<Record<string, string>> = {
  ADD_USER: 'user_created',
  DEL_USER: 'user_deleted',
  USER_MGMT: 'user_changed',
  USER_CHAUTHTOK: 'password_changed',
  ADD_GROUP: 'group_created',
  DEL_GROUP: 'group_deleted',
  GRP_MGMT: 'group_changed',
};

/** Which population fields an event code defines (see the Windows source's `definedFields`). */
export function definedFields(eventCode: string): readonly string[] {
  switch (eventCode) {
    case 'LOGIN':
      return ['session_uid', 'user_uid', 'logon_type_id', 'is_elevated'];
    case 'USER_START':
      return ['session_uid', 'user_uid', 'is_elevated'];
    case 'SYSCALL':
      return ['session_uid', 'user_uid', 'is_elevated'];
    case 'SYSTEM_BOOT':
    case 'SYSTEM_SHUTDOWN':
    case 'DAEMON_START':
    case 'DAEMON_END':
    case 'DAEMON_ABORT':
      return [];
    default:
      return (AUDITD_EVENT_TYPES as readonly string[]).includes(eventCode) ? ['session_uid', 'user_uid'] : [];
  }
}

/** A `name=value` field of an audit record body (outer fields and the nested `msg='…'` alike). */
function fieldRegex(name: string): string {
  // The boundary keeps `auid=` from matching inside `old-auid=` and `uid=` inside `auid=`.
  return `(?:^|[\\s'(,])${name}=("[^"]*"|\\(null\\)|\\(none\\)|[^\\s',)]*)`;
}

/** Which field gave an auditd record's time (the pack counts records by it). */
const AUDITD_TIME_FIELD = 'msg=audit(epoch) (event time, UTC)';

/** SQL for the value of one field: NULL when absent, `?` or `(null)`; quotes removed; hex kept. */
function rawField(d: ExpressionShims, src: string, name: string): string {
  const v = d.regexpExtract(src, fieldRegex(name), 1);
  return `nullif(nullif(nullif(nullif(${v}, ''), '?'), '(null)'), '(none)')`;
}

/**
 * SQL decoding an auditd string value: `"quoted"` as is, unquoted even-length hex decoded (auditd
 * hex-encodes values with spaces, quotes or control characters), anything else as is. NUL bytes
 * (proctitle separates arguments with them) become spaces.
 */
export function auditValueSql(d: Dialect, v: string): string {
  return `CASE
      WHEN ${v} IS NULL THEN NULL
      WHEN substr(${v}, 1, 1) = '"' THEN substr(${v}, 2, length(${v}) - 2)
      WHEN regexp_like(${v}, '^([0-9A-Fa-f]{2})+$') THEN coalesce(replace(${d.hexToText(v)}, chr(0), ' '), ${v})
      ELSE ${v} END`;
}

/** An auditd id field: NULL when unset (4294967295 or -1) or absent. */
function idSql(v: string): string {
  return `CASE WHEN ${v} IN ('4294967295', '-1', '"-1"') THEN NULL ELSE ${v} END`;
}

const inList = (items: readonly string[]) => items.map(literal).join(', ');

/**
 * SQL for the host of a record given no `node=`: a `host=<name>` folder of the object key, else the
 * file name without `.log[.gz]` up to the first `_`.
 */
export function hostFromKeySql(d: ExpressionShims, key: string): string {
  const folder = regexpGroup(d, key, '(?:^|/)host=([^/]+)/', 1);
  const base = `split_part(${d.regexpExtract(key, '([^/]+?)(?:\\.log)?(?:\\.gz)?$', 1)}, '_', 1)`;
  return `coalesce(${folder}, nullif(${base}, ''))`;
}

/**
 * The normalising query: every raw line classified as `event`, `skipped` (other or auxiliary record
 * types, blank lines) or `rejected` (not an audit record, no `msg=audit(…)` stamp, no host), with the
 * normalised columns filled for events. Same columns, in the same order, as the Windows source.
 */
export function buildLinuxAuditdNormaliseQuery(d: Dialect, input: RawInput): SqlQuery {
  const p = new ParamList();
  const f = (name: string) => rawField(d, 'body', name);
  // the auid a record speaks for (LOGIN's `new auid=` form first)
  const auidRaw = `coalesce(${regexpGroup(d, 'body', '\\snew auid=([0-9]+)', 1)}, ${f('auid')})`;
  const val = (x: string) => auditValueSql(d, x);
  const elevating = `${d.regexpExtract("coalesce(exe, '')", '([^/]+)$', 1)} IN (${inList(ELEVATING_PROGRAMS)})`;
  const failed = `lower(coalesce(res, '')) IN ('failed', 'fail', 'no', '0')`;
  const sourceLit = literal(LINUX_AUDITD_SOURCE);
  // The program name of a logon's entry point (sshd, cron, login, …).
  const exeName = d.regexpExtract("coalesce(e.exe, '')", '([^/]+)$', 1);

  const sql = `
WITH raw AS (
  SELECT object_key, line FROM ${d.rawLines(input, p)}
),
hdr AS (
  SELECT object_key, line,
    split_part(line, chr(29), 1) AS body,
    nullif(split_part(line, chr(29), 2), '') AS enriched,
    ${regexpGroup(d, 'line', '^node=(\\S+) ', 1)} AS node,
    ${regexpGroup(d, 'line', '^(?:node=\\S+ )?type=(\\S+)', 1)} AS rtype,
    ${regexpGroup(d, 'line', '^(?:node=\\S+ )?type=\\S+ msg=audit\\(([0-9]+)\\.[0-9]+:[0-9]+\\)', 1)} AS sec,
    ${regexpGroup(d, 'line', '^(?:node=\\S+ )?type=\\S+ msg=audit\\([0-9]+\\.([0-9]+):[0-9]+\\)', 1)} AS frac,
    ${regexpGroup(d, 'line', '^(?:node=\\S+ )?type=\\S+ msg=audit\\([0-9]+\\.[0-9]+:([0-9]+)\\)', 1)} AS serial
  FROM raw
),
rec AS (
  SELECT *,
    upper(coalesce(node, ${hostFromKeySql(d, 'object_key')})) AS host,
    try_cast(sec AS BIGINT) * 1000 + try_cast(substr(frac || '000', 1, 3) AS BIGINT) AS time_ms,
    try_cast(serial AS BIGINT) AS serial_no,
    CASE
      WHEN line IS NULL OR trim(line) = '' THEN 'skipped'
      WHEN rtype IS NULL THEN 'rejected'
      WHEN sec IS NULL OR try_cast(sec AS BIGINT) IS NULL OR try_cast(serial AS BIGINT) IS NULL THEN 'rejected'
      WHEN coalesce(node, ${hostFromKeySql(d, 'object_key')}) IS NULL THEN 'rejected'
      WHEN rtype IN (${inList(AUDITD_EVENT_TYPES)}) THEN 'event'
      ELSE 'skipped' END AS status,
    CASE
      WHEN line IS NULL OR trim(line) = '' THEN 'blank_line'
      WHEN rtype IS NULL THEN 'not_audit_record'
      WHEN sec IS NULL OR try_cast(sec AS BIGINT) IS NULL OR try_cast(serial AS BIGINT) IS NULL THEN 'missing_time'
      WHEN coalesce(node, ${hostFromKeySql(d, 'object_key')}) IS NULL THEN 'missing_host'
      WHEN rtype IN (${inList(AUDITD_EVENT_TYPES)}) THEN NULL
      WHEN rtype = 'EOE' THEN 'end_of_event'
      WHEN rtype IN (${inList(AUDITD_AUXILIARY_TYPES)}) THEN 'auxiliary'
      ELSE 'other_record_type' END AS reason0
  FROM hdr
),
stamped AS (
  SELECT *,
    -- auxiliary records are read through their SYSCALL (same host, time and serial)
    max(CASE WHEN rtype = 'SYSCALL' THEN 1 ELSE 0 END) OVER (PARTITION BY host, time_ms, serial_no) AS has_syscall,
    max(CASE WHEN rtype = 'EXECVE' THEN body END) OVER (PARTITION BY host, time_ms, serial_no) AS execve_body,
    max(CASE WHEN rtype = 'PROCTITLE' THEN body END) OVER (PARTITION BY host, time_ms, serial_no) AS proctitle_body,
    max(CASE WHEN rtype = 'CWD' THEN body END) OVER (PARTITION BY host, time_ms, serial_no) AS cwd_body
  FROM rec
),
classified AS (
  SELECT *,
    CASE WHEN reason0 = 'auxiliary' THEN CASE WHEN has_syscall = 1 THEN 'auxiliary_record' ELSE 'auxiliary_without_syscall' END
      ELSE reason0 END AS reason
  FROM stamped
),
fields AS (
  SELECT object_key, line, host, rtype, time_ms, serial_no, sec, frac, serial, body, enriched,
    ${f('pid')} AS pid,
    ${f('ppid')} AS ppid,
    ${f('uid')} AS uid,
    ${auidRaw} AS auid_raw,
    coalesce(${regexpGroup(d, 'body', '\\snew ses=([0-9]+)', 1)}, ${f('ses')}) AS ses_raw,
    ${val(f('exe'))} AS exe,
    ${val(f('comm'))} AS comm,
    nullif(${val(f('acct'))}, '?') AS acct,
    ${f('terminal')} AS terminal,
    ${f('tty')} AS tty,
    ${f('addr')} AS addr,
    ${f('hostname')} AS rhost,
    ${f('res')} AS res,
    ${f('op')} AS op,
    ${f('audit_enabled')} AS audit_enabled,
    ${f('id')} AS acct_id,
    ${val(f('cmd'))} AS cmd,
    ${val(f('cwd'))} AS cwd,
    ${f('syscall')} AS syscall,
    ${f('success')} AS success,
    ${val(f('key'))} AS rule_key,
    -- ENRICHED names an unset auid "unset" (auparse's rendering of 4294967295): no account, so a
    -- failed sshd login before pam_loginuid is named by the acct it was for, not "unset"
    CASE WHEN ${idSql(auidRaw)} IS NOT NULL THEN ${regexpGroup(d, "coalesce(enriched, '')", '(?:^|\\s)AUID="([^"]*)"', 1)} END AS auid_name,
    ${regexpGroup(d, "coalesce(enriched, '')", '(?:^|\\s)UID="([^"]*)"', 1)} AS uid_name,
    CASE WHEN execve_body IS NOT NULL THEN ${d.joinTransformed(
      `regexp_extract_all(execve_body, '\\sa[0-9]+=("[^"]*"|\\S+)', 1)`,
      (x) => val(x),
      ' ',
    )} END AS execve_cmd,
    ${val(rawField(d, 'proctitle_body', 'proctitle'))} AS proctitle,
    ${val(rawField(d, 'cwd_body', 'cwd'))} AS syscall_cwd
  FROM classified WHERE status = 'event'
),
typed AS (
  -- One row per record: a line delivered twice (same identity, same text) must not count twice in
  -- a session's facts (sudo_commands, root_syscalls). Every copy is still emitted below, for the
  -- reconstruction to count and collapse; two different lines under one identity are both kept.
  SELECT *,
    ${idSql('auid_raw')} AS auid,
    ${idSql('ses_raw')} AS ses,
    ${idSql('uid')} AS acting_uid,
    ${regexpGroup(d, "coalesce(exe, comm, '')", '([^/]+)$', 1)} AS prog,
    ${elevating} AS is_elevating,
    ${failed} AS is_failed
  FROM (
    SELECT *, row_number() OVER (PARTITION BY host, sec, frac, serial, rtype, line ORDER BY object_key) AS copy_no
    FROM fields
  ) c WHERE copy_no = 1
),
kinds AS (
  SELECT *,
    CASE rtype
      -- a LOGIN without ses (kernels before session ids) is a logon the reconstruction cannot key
      WHEN 'LOGIN' THEN CASE WHEN res = '0' THEN 'failed_logon' ELSE 'logon' END
      WHEN 'USER_LOGIN' THEN CASE WHEN is_failed THEN 'failed_logon' ELSE 'activity' END
      WHEN 'USER_LOGOUT' THEN 'logoff'
      WHEN 'USER_START' THEN CASE WHEN is_elevating THEN 'privilege' ELSE 'activity' END
      WHEN 'USER_END' THEN CASE WHEN is_elevating THEN 'activity' ELSE 'logoff' END
      WHEN 'USER_AUTH' THEN CASE WHEN is_failed THEN 'failed_logon' ELSE 'activity' END
      WHEN 'USER_ACCT' THEN CASE WHEN is_failed THEN 'failed_logon' ELSE 'activity' END
      WHEN 'USER_ERR' THEN 'failed_logon'
      WHEN 'SYSTEM_BOOT' THEN 'boot'
      WHEN 'DAEMON_START' THEN 'boot'
      WHEN 'SYSTEM_SHUTDOWN' THEN 'shutdown'
      WHEN 'DAEMON_END' THEN 'integrity'
      WHEN 'DAEMON_ABORT' THEN 'integrity'
      -- audit rules or settings changed (auditctl, augenrules): what the log records from then on
      WHEN 'CONFIG_CHANGE' THEN 'integrity'
      ELSE 'activity' END AS kind,
    CASE rtype
      WHEN 'LOGIN' THEN 'login'
      WHEN 'USER_LOGIN' THEN CASE WHEN is_failed THEN 'login_failed' ELSE 'user_login' END
      WHEN 'USER_LOGOUT' THEN 'user_logout'
      WHEN 'USER_START' THEN CASE WHEN is_elevating THEN 'elevated_session_opened' ELSE 'session_opened' END
      WHEN 'USER_END' THEN CASE WHEN is_elevating THEN 'elevated_session_closed' ELSE 'session_closed' END
      WHEN 'CRED_ACQ' THEN 'credentials_acquired'
      WHEN 'CRED_DISP' THEN 'credentials_disposed'
      WHEN 'CRED_REFR' THEN 'credentials_refreshed'
      WHEN 'USER_AUTH' THEN CASE WHEN is_failed THEN 'authentication_failed' ELSE 'authenticated' END
      WHEN 'USER_ACCT' THEN CASE WHEN is_failed THEN 'authorization_failed' ELSE 'account_checked' END
      WHEN 'USER_ERR' THEN 'account_error'
      WHEN 'USER_CMD' THEN 'sudo_command'
      WHEN 'SYSCALL' THEN CASE WHEN execve_cmd IS NOT NULL THEN 'process_executed' ELSE 'syscall' END
      ${Object.entries(ACCOUNT_ACTIONS)
        .map(([t, a]) => `WHEN ${literal(t)} THEN ${literal(a)}`)
        .join('\n      ')}
      WHEN 'SYSTEM_BOOT' THEN 'system_boot'
      WHEN 'DAEMON_START' THEN 'audit_daemon_start'
      WHEN 'SYSTEM_SHUTDOWN' THEN 'system_shutdown'
      -- audit_enabled=0 switches auditing off (auditctl -e 0); op=remove_rule / delete drops rules
      WHEN 'CONFIG_CHANGE' THEN CASE
        WHEN audit_enabled = '0' THEN 'audit_disabled'
        WHEN regexp_like(lower(coalesce(op, '')), 'remove|del') THEN 'audit_rule_removed'
        ELSE 'audit_policy_changed' END
      ELSE 'audit_service_stopped' END AS action
  FROM typed
),
booted AS (
  SELECT *,
    -- boot epochs as the reconstruction derives them, to gather a session's facts onto its logon
    coalesce(max(CASE WHEN rtype IN ('SYSTEM_BOOT', 'DAEMON_START') THEN time_ms END) OVER (
      PARTITION BY host ORDER BY time_ms, serial_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), -1) AS boot_ms
  FROM kinds
),
unset_elevations AS (
  -- su / sudo started by a process without a login session (a service, an SSM shell): its PAM
  -- records share its pid; it lives from its first record to its USER_END (open when none)
  SELECT host, boot_ms, pid, min(prog) AS prog, min(time_ms) AS first_ms,
    max(CASE WHEN rtype = 'USER_END' THEN time_ms END) AS end_ms
  FROM booted WHERE ses IS NULL AND is_elevating AND pid IS NOT NULL AND rtype <> 'SYSCALL'
  GROUP BY host, boot_ms, pid
),
unset_tree AS (
  -- the elevating process and the processes it started (its shell): a command of that shell has
  -- one of these as its parent (SYSCALL ppid, LA-FIELDS)
  SELECT host, boot_ms, pid AS member_pid, pid AS root_pid, prog, first_ms, end_ms FROM unset_elevations
  UNION ALL
  SELECT c.host, c.boot_ms, c.pid, u.pid, u.prog, u.first_ms, u.end_ms
  FROM booted c JOIN unset_elevations u
    ON c.host = u.host AND c.boot_ms = u.boot_ms AND c.ppid = u.pid AND c.rtype = 'SYSCALL' AND c.ses IS NULL
   AND c.time_ms >= u.first_ms AND (u.end_ms IS NULL OR c.time_ms <= u.end_ms)
),
unset_owner AS (
  SELECT s.host, s.time_ms, s.serial_no, min(t.prog || '[' || t.root_pid || ']') AS owner
  FROM booted s JOIN unset_tree t
    ON t.host = s.host AND t.boot_ms = s.boot_ms AND t.member_pid IN (s.pid, s.ppid)
   AND s.time_ms >= t.first_ms AND (t.end_ms IS NULL OR s.time_ms <= t.end_ms)
  WHERE s.rtype = 'SYSCALL' AND s.ses IS NULL
  GROUP BY s.host, s.time_ms, s.serial_no
),
uid_names AS (
  -- the names the logs give a numeric id on a host: ENRICHED UID= / AUID= (auditd.conf(5)), and
  -- the account of an entry point's PAM session for its auid
  SELECT host, id, max(name) AS name FROM (
    SELECT host, acting_uid AS id, uid_name AS name FROM kinds
    UNION ALL
    SELECT host, auid, auid_name FROM kinds
    UNION ALL
    SELECT host, auid, acct FROM kinds WHERE rtype IN ('USER_START', 'USER_END') AND NOT is_elevating
  ) n
  WHERE id IS NOT NULL AND name IS NOT NULL AND name NOT IN ('unset', '?')
  GROUP BY host, id
),
sessions AS (
  SELECT b.*,
    CASE
      WHEN b.kind IN ('boot', 'shutdown') OR b.rtype IN ('DAEMON_END', 'DAEMON_ABORT') THEN NULL
      WHEN b.ses IS NOT NULL THEN b.ses
      -- records without a login session are kept as orphan activity under a marker that names
      -- their process: PAM and account records by their own program and pid, the commands of a
      -- su / sudo's shell by that su / sudo, other processes under the bare marker
      WHEN b.kind = 'failed_logon' OR b.rtype = 'CONFIG_CHANGE' THEN NULL
      WHEN uo.owner IS NOT NULL THEN ${literal(`${UNSET_SESSION}:`)} || uo.owner
      WHEN b.rtype <> 'SYSCALL' AND b.pid IS NOT NULL AND b.prog <> '' THEN ${literal(`${UNSET_SESSION}:`)} || b.prog || '[' || b.pid || ']'
      ELSE ${literal(UNSET_SESSION)}
      END AS session_uid,
    un.name AS acting_name,
    max(CASE WHEN b.rtype IN ('USER_START', 'USER_END') AND NOT b.is_elevating AND b.auid IS NOT NULL THEN b.acct END)
      OVER (PARTITION BY b.host, b.auid) AS name_by_auid
  FROM booted b
  LEFT JOIN unset_owner uo ON uo.host = b.host AND uo.time_ms = b.time_ms AND uo.serial_no = b.serial_no AND b.rtype = 'SYSCALL' AND b.ses IS NULL
  LEFT JOIN uid_names un ON un.host = b.host AND un.id = b.acting_uid
),
owned AS (
  SELECT *,
    max(CASE WHEN kind = 'logon' THEN time_ms END) OVER (
      PARTITION BY host, boot_ms, session_uid ORDER BY time_ms, serial_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS logon_ms
  FROM sessions
),
facts AS (
  SELECT host, boot_ms, session_uid, logon_ms,
    count(CASE WHEN rtype = 'USER_CMD' THEN 1 END) AS sudo_commands,
    min(CASE WHEN kind = 'privilege' AND lower(coalesce(acct, '')) = 'root' THEN ${d.regexpExtract('exe', '([^/]+)$', 1)} END) AS elevated_via,
    count(CASE WHEN rtype = 'SYSCALL' AND uid = '0' AND auid IS NOT NULL AND auid <> '0' THEN 1 END) AS root_syscalls,
    min(CASE WHEN rtype = 'USER_LOGIN' AND NOT is_failed THEN terminal END) AS login_terminal,
    min(CASE WHEN rtype = 'USER_CMD' THEN terminal END) AS sudo_terminal
  FROM owned WHERE logon_ms IS NOT NULL AND session_uid IS NOT NULL
  GROUP BY host, boot_ms, session_uid, logon_ms
),
entry AS (
  -- the entry point's USER_START for each LOGIN: same host, ses and pid, within a minute after it
  SELECT l.host, l.time_ms, l.serial_no, s.exe, s.acct, s.addr, s.rhost, s.terminal,
    row_number() OVER (PARTITION BY l.host, l.time_ms, l.serial_no ORDER BY s.time_ms, s.serial_no) AS rn
  FROM owned l JOIN owned s
    ON s.host = l.host AND s.ses = l.ses AND s.pid = l.pid AND s.rtype = 'USER_START' AND NOT s.is_elevating
   AND s.time_ms >= l.time_ms AND s.time_ms <= l.time_ms + 60000
  WHERE l.kind = 'logon'
),
events AS (
  SELECT ${classifiedRow({
    status: `'event'`,
    source: sourceLit,
    host: 'o.host',
    record_no: 'o.serial_no',
    record_uid: `concat_ws('|', o.host, o.sec || '.' || o.frac, o.serial, o.rtype)`,
    event_code: 'o.rtype',
    kind: 'o.kind',
    time_ms: 'o.time_ms',
    time_field: literal(AUDITD_TIME_FIELD),
    session_uid: 'o.session_uid',
    // without a login session the actor is the process's own uid (LA-FIELDS), named as the logs name it
    user_uid: `CASE WHEN o.session_uid LIKE ${literal(`${UNSET_SESSION}%`)} THEN o.acting_uid ELSE o.auid END`,
    user_name: `CASE
      WHEN o.session_uid LIKE ${literal(`${UNSET_SESSION}%`)} THEN coalesce(o.uid_name, o.acting_name)
      WHEN o.kind = 'logon' THEN coalesce(o.auid_name, e.acct, o.name_by_auid)
      WHEN o.rtype IN ('USER_START', 'USER_END', 'CRED_ACQ', 'CRED_DISP', 'CRED_REFR', 'USER_AUTH', 'USER_ACCT', 'USER_LOGIN', 'USER_ERR') AND NOT o.is_elevating
        THEN coalesce(o.auid_name, o.acct, o.name_by_auid)
      ELSE coalesce(o.auid_name, o.name_by_auid) END`,
    logon_type_id: `CASE WHEN o.kind = 'logon' THEN
      CASE
        WHEN ${exeName} IN ('sshd', 'sshd-session') OR e.terminal = 'ssh' THEN 10
        WHEN ${exeName} IN ('cron', 'crond', 'atd') OR e.terminal IN ('cron', 'atd') THEN 4
        WHEN ${exeName} IN ('login', 'gdm-session-worker', 'lightdm', 'sddm') THEN 2
        END END`,
    is_elevated: `CASE
      WHEN o.kind = 'logon' THEN o.auid = '0'
      WHEN o.kind = 'privilege' THEN lower(coalesce(o.acct, '')) = 'root'
      WHEN o.rtype = 'SYSCALL' THEN o.uid = '0' AND o.auid IS NOT NULL AND o.auid <> '0'
      END`,
    src_ip: `CASE WHEN o.kind = 'logon' THEN e.addr ELSE o.addr END`,
    src_host: `CASE WHEN o.kind = 'logon' THEN e.rhost ELSE o.rhost END`,
    process: `CASE WHEN o.kind = 'logon' THEN e.exe ELSE o.exe END`,
    command_line: `CASE
      WHEN o.rtype = 'USER_CMD' THEN o.cmd
      WHEN o.rtype = 'SYSCALL' THEN coalesce(o.execve_cmd, o.proctitle)
      END`,
    action: 'o.action',
    target: `CASE
      WHEN o.rtype IN ('USER_START', 'USER_END') AND o.is_elevating THEN concat_ws(' ', 'to ' || o.acct, 'on ' || o.terminal)
      WHEN o.rtype = 'USER_CMD' THEN concat_ws(' ', 'cwd ' || o.cwd, 'on ' || o.terminal)
      WHEN o.rtype = 'SYSCALL' THEN concat_ws(' ', 'syscall ' || o.syscall, CASE WHEN o.success = 'no' THEN 'failed' END, 'uid ' || o.uid, 'cwd ' || o.syscall_cwd, 'key ' || o.rule_key)
      WHEN o.rtype IN (${inList(Object.keys(ACCOUNT_ACTIONS))}) THEN concat_ws(' ', o.op, coalesce('acct ' || o.acct, 'id ' || o.acct_id), CASE WHEN o.is_failed THEN 'failed' END)
      WHEN o.kind = 'failed_logon' THEN concat_ws(' ', o.acct, o.op, 'from ' || o.addr)
      WHEN o.rtype = 'CONFIG_CHANGE' THEN concat_ws(' ', 'op ' || o.op, 'audit_enabled ' || o.audit_enabled, 'key ' || o.rule_key, CASE WHEN o.is_failed THEN 'failed' END)
      -- outside a login session the PAM account is not the actor: it is named as the target
      WHEN o.rtype IN ('USER_START', 'USER_END', 'USER_LOGIN', 'USER_LOGOUT', 'CRED_ACQ', 'CRED_DISP', 'CRED_REFR', 'USER_AUTH', 'USER_ACCT') AND o.session_uid LIKE ${literal(`${UNSET_SESSION}%`)}
        THEN concat_ws(' ', o.op, 'acct ' || o.acct, 'on ' || o.terminal)
      WHEN o.rtype IN ('USER_START', 'USER_END', 'USER_LOGIN', 'USER_LOGOUT', 'CRED_ACQ', 'CRED_DISP', 'CRED_REFR', 'USER_AUTH', 'USER_ACCT') THEN concat_ws(' ', o.op, 'on ' || o.terminal)
      END`,
    logon_process: `CASE WHEN o.kind = 'logon' THEN ${exeName} END`,
    // auditd logs its session ends (USER_END), so no end hint (end_hint_ms, end_hint stay NULL).
    details: `CASE WHEN o.kind = 'logon' THEN ${d.jsonObjectText([
      ['tty', `coalesce(fa.login_terminal, fa.sudo_terminal, nullif(o.tty, '(none)'))`],
      ['pam_terminal', 'e.terminal'],
      ['elevated_to_root_via', 'fa.elevated_via'],
      ['sudo_commands', `CAST(fa.sudo_commands AS VARCHAR)`],
      ['root_syscalls', `CAST(fa.root_syscalls AS VARCHAR)`],
      ['audit_session', 'o.ses'],
    ])} END`,
    raw_ref: `c.object_key || '#audit(' || o.sec || '.' || o.frac || ':' || o.serial || ')/' || o.rtype`,
    object_key: 'c.object_key',
  })}
  FROM owned o
  JOIN fields c ON c.host = o.host AND c.sec = o.sec AND c.frac = o.frac AND c.serial = o.serial AND c.rtype = o.rtype AND c.line = o.line
  LEFT JOIN entry e ON o.kind = 'logon' AND e.rn = 1 AND e.host = o.host AND e.time_ms = o.time_ms AND e.serial_no = o.serial_no
  LEFT JOIN facts fa ON o.kind = 'logon' AND fa.host = o.host AND fa.boot_ms = o.boot_ms AND fa.session_uid = o.session_uid AND fa.logon_ms = o.time_ms
)
SELECT * FROM events
UNION ALL
SELECT ${problemRow({
    status: 'status',
    reason: 'reason',
    source: sourceLit,
    host: 'host',
    record_no: 'serial_no',
    event_code: 'rtype',
    time_ms: 'time_ms',
    raw_ref: `CASE WHEN time_ms IS NULL THEN object_key || '#sha256=' || substr(${d.sha256Hex("coalesce(line, '')")}, 1, 16)
    ELSE object_key || '#audit(' || sec || '.' || frac || ':' || serial || ')/' || rtype END`,
    object_key: 'object_key',
  })}
FROM classified WHERE status <> 'event'
`;
  return p.finish('normalise-linux-auditd', sql);
}
