/**
 * Linux auth.log / secure source: maps syslog text lines (sshd, PAM, sudo, su, account tools) to
 * normalised session events, in one query (domain notes §2.4).
 *
 * Message forms → events:
 * - sshd `Accepted <method> for <user> from <ip> port <n>` is the **logon** of session
 *   `sshd:<pid>`; `pam_unix(sshd:session): session opened` is its activity and `… session closed`
 *   its **logoff** (same sshd PID, FB-AUTH). `Failed …` / `Invalid user …` are failed logons.
 * - `pam_unix(<svc>:session)` of login, cron, atd and display managers: opened = logon and closed =
 *   logoff of session `<program>:<pid>`.
 * - sudo (`user : TTY=… ; PWD=… ; USER=… ; COMMAND=…`) is activity (`sudo_command`, or `sudo_denied`
 *   with an error); `pam_unix(sudo:session)` / `pam_unix(su:session)` opened is a **privilege** row
 *   (`is_elevated` when the target is root); su's own lines (`(to root) alice on pts/0`, `Successful
 *   su for root by alice`, `+ pts/0 alice:root`) are activity. These lines carry no session id: each
 *   is attributed to the one login session of the same host and invoking user open at that time
 *   (domain notes §2.4, design note); when none or several are open, to the marker session
 *   `tty:<TTY>` (or `unattributed` without a TTY), which no logon has, so the reconstruction reports
 *   it as orphan activity. A su/sudo `session closed` line follows its `opened` line of the same PID.
 * - useradd / usermod / userdel / groupadd / groupdel / gpasswd / passwd / chpasswd lines are
 *   activity, attributed to the session of the sudo command that ran that program on the host in the
 *   minute before, else `unattributed`.
 * - systemd-logind `System is rebooting / powering down / halting` is a shutdown.
 * Other lines are skipped (`other_message`, `other_pam_service`); lines without a syslog header are
 * rejected (`malformed_line`), as are times that cannot be read (`no_year`, `bad_time`).
 *
 * Time: a classic stamp (`Mar  5 14:02:11`) has no year and no zone: the year is the one of the
 * `dt=YYYY-MM-DD` folder the file is in, moved by one when the month is more than six months away
 * (December lines in a January folder belong to the year before); the zone is
 * `linux.syslog_timezone` (IANA, default UTC). Files outside a `dt=` folder have no year: their
 * classic lines are rejected (`no_year`). RFC 3339 stamps (rsyslog high precision) are taken with
 * their offset; without one, in the configured zone. The rule used is each record's `time_field`.
 *
 * Identity: `record_uid` = `host|time|sha256(line)`: syslog has no record number, so a record is
 * its whole content (host, time, program[pid] and message: the line). Identical lines of one host
 * and second are one record delivered twice (at-least-once shipping, a rotated file read with its
 * successor) and collapse, here before the session logic and in the reconstruction; two records
 * can never conflict, as any difference makes another identity. (sshd and sudo lines carry the
 * PID and the message, so two genuine events that print the same line in the same second are
 * ones the log itself cannot tell apart.) Hosts are upper-cased like the other sources. `user_uid` is the uid the
 * line prints (`(uid=1000)`), on a logon the one of its `session opened` line.
 */
import { SessiontrailError } from '../errors.ts';
import { type Dialect, type RawInput, regexpGroup } from '../query/dialects/dialect.ts';
import { classifiedRow, problemRow } from '../query/session-events.ts';
import { literal, ParamList, type SqlQuery } from '../query/sql.ts';

export const LINUX_AUTH_SOURCE = 'linux_auth';

/** The marker session of sudo/su/account lines that no single login session explains. */
export const UNATTRIBUTED_SESSION = 'unattributed';

/** Default zone of classic syslog stamps when the configuration names none. */
export const DEFAULT_SYSLOG_TIMEZONE = 'UTC';

/** How this source reads times. */
export interface LinuxAuthOptions {
  /**
   * IANA zone of zone-less syslog stamps (`linux.syslog_timezone`).
   * @default 'UTC'
   */
  readonly syslogTimezone?: string;
}

/** PAM services whose session is a login (the logon of a session). */
export const LOGIN_PAM_SERVICES = [
  'login',
  'cron',
  'atd',
  'gdm-password',
  'gdm-autologin',
  'lightdm',
  'sddm',
] as const;
/** PAM services whose session is an elevation inside the caller's session. */
export const ELEVATING_PAM_SERVICES = ['sudo', 'sudo-i', 'su', 'su-l', 'runuser', 'runuser-l'] as const;
/** Account tools whose lines are admin activity. */
export const ACCOUNT_PROGRAMS = [
  'useradd',
  'usermod',
  'userdel',
  'groupadd',
  'groupmod',
  'groupdel',
  'gpasswd',
  'passwd',
  'chpasswd',
  'chage',
] as const;

/** The event codes this source writes (one per message form). */
export const AUTH_EVENT_CODES = [
  'sshd_accepted',
  'sshd_failed',
  'sshd_invalid_user',
  'sshd_session_opened',
  'sshd_session_closed',
  'pam_session_opened',
  'pam_session_closed',
  'elevated_session_opened',
  'elevated_session_closed',
  'sudo_command',
  'su',
  'account_change',
  'system_shutdown',
] as const;

/**
 * The event codes a repeated-message line (rsyslog's \`message repeated N times: [ … ]\`) is read
 * as, N records: failed logons, which one sshd process logs once per attempt of its connection
 * (OpenSSH_2k.log: \`Failed password … ssh2\` then \`message repeated 5 times\`, then sshd's own
 * \`PAM 5 more authentication failures\`). rsyslog repeats only a line of the same PID, and one
 * process opens one session and sudo runs one command per PID: a repeated session, sudo, su or
 * account line is no form of N distinct events we know, so it is skipped, counted and referenced
 * (\`repeated_message_not_failure\`), never read as one event standing for N.
 */
export const REPEATED_EVENT_CODES = ['sshd_failed', 'sshd_invalid_user'] as const;

/**
 * SQL predicate over this source's classified rows for the copies 2…N of a repeated-message line:
 * the line is one record read (copy 1), its other copies are derived from it, so that the records
 * read of a file still add up to its lines (see {@link SourceDefinition.derivedRows}).
 */
export const LINUX_AUTH_DERIVED_ROWS = `record_uid LIKE '%#repeat=%' AND record_uid NOT LIKE '%#repeat=1'`;

/** Which population fields an event code defines. */
export function definedFields(eventCode: string): readonly string[] {
  switch (eventCode) {
    case 'sshd_accepted':
    case 'pam_session_opened':
      return ['session_uid', 'logon_type_id', 'is_elevated'];
    case 'elevated_session_opened':
      return ['session_uid', 'is_elevated'];
    case 'sshd_failed':
    case 'sshd_invalid_user':
    case 'system_shutdown':
      return [];
    default:
      return (AUTH_EVENT_CODES as readonly string[]).includes(eventCode) ? ['session_uid'] : [];
  }
}

/**
 * Checks an IANA zone name.
 * @throws SessiontrailError `BAD_CONFIG` when the runtime does not know the zone.
 */
export function checkTimezone(zone: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch (cause) {
    throw new SessiontrailError(
      'BAD_CONFIG',
      `linux.syslog_timezone must be an IANA time zone such as UTC or Europe/Paris, received ${JSON.stringify(zone)}`,
      { cause },
    );
  }
  return zone;
}

const inList = (items: readonly string[]) => items.map(literal).join(', ');
const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';
const CLASSIC = '[A-Z][a-z]{2} +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}';
const RFC3339 =
  '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?';
/** The program field of pam_unix before Linux-PAM 0.99: `<service>(pam_unix)`. */
const OLD_PAM_PROG = '^([^(]+)\\(pam_unix\\)$';
/**
 * rsyslog's repeated-message line; at most 7 digits, so that the copies stay below 10^7 (a longer
 * count is rejected, \`repeat_count_too_large\`).
 */
const REPEAT_RE = '^message repeated ([0-9]{1,7}) times: \\[(.*)\\]\\s*$';
/** rsyslog's repeated-message line with a count of 8 digits or more. */
const REPEAT_TOO_LARGE_RE = '^message repeated [0-9]{8,} times: \\[';
const HEADER = `^(${CLASSIC}|${RFC3339}) (\\S+) ([^\\[:\\s]+)(?:\\[([0-9]+)\\])?: ?(.*)$`;

/**
 * The normalising query (same columns, in the same order, as the Windows source).
 * @throws SessiontrailError `BAD_CONFIG` for an unknown zone.
 */
export function buildLinuxAuthNormaliseQuery(
  d: Dialect,
  input: RawInput,
  options: LinuxAuthOptions = {},
): SqlQuery {
  const zone = checkTimezone(options.syslogTimezone ?? DEFAULT_SYSLOG_TIMEZONE);
  const p = new ParamList();
  const sourceLit = literal(LINUX_AUTH_SOURCE);
  const zoneParam = () => p.add(zone);
  const rx = (src: string, re: string, group = 1) => regexpGroup(d, src, re, group);
  const pamRe =
    '^pam_unix\\(([^:]+):session\\): session (opened|closed) for user ([^ (]+)(?:\\(uid=([0-9]+)\\))?';
  const pamByRe = ' by ([^ (]*)\\(uid=([0-9]+)\\)';
  const sudoRe =
    '^\\s*(\\S+) : (.*?)TTY=(\\S+) ; PWD=(.*?) ; USER=(\\S+) ; (?:GROUP=\\S+ ; )?(?:TSID=\\S+ ; )?(?:ENV=.*? ; )?COMMAND=(.*)$';
  const classicLocal = `concat(CAST(year_no AS VARCHAR), '-', lpad(CAST(month_no AS VARCHAR), 2, '0'), '-', lpad(day_txt, 2, '0'), ' ', hms)`;
  const rfcLocal = `replace(${d.regexpExtract('stamp', '^([0-9-]+T[0-9:]+(?:\\.[0-9]{1,3})?)', 1)}, 'T', ' ')`;

  // the record's identity within its host and second: the line's digest, and which copy of a
  // repeated-message line it is (its reference: \`#sha256=<digest>#repeat=<k>\`)
  const lineRef = `substr(o.line_sha, 1, 16) || CASE WHEN o.repeat_n IS NOT NULL THEN '#repeat=' || CAST(1000 * rh.hi + rl.lo + 1 AS VARCHAR) ELSE '' END`;
  const sql = `
WITH raw AS (
  SELECT object_key, line FROM ${d.rawLines(input, p)}
),
hdr AS (
  SELECT object_key, line,
    ${rx('line', HEADER, 1)} AS stamp,
    ${rx('line', HEADER, 2)} AS host_raw,
    lower(${rx('line', HEADER, 3)}) AS prog_raw,
    ${rx('line', HEADER, 4)} AS pid,
    trim(${d.regexpExtract('line', HEADER, 5)}) AS body,
    try_cast(${rx('object_key', '(?:^|/)dt=([0-9]{4})-[0-9]{2}-[0-9]{2}(?:/|$)')} AS INTEGER) AS dt_year,
    try_cast(${rx('object_key', '(?:^|/)dt=[0-9]{4}-([0-9]{2})-[0-9]{2}(?:/|$)')} AS INTEGER) AS dt_month
  FROM raw
),
unrepeated AS (
  -- rsyslog's repeated-message reduction writes \`message repeated N times: [ <message>]\` for N
  -- more copies of the line before (same message, host, PID and program: rsyslog,
  -- $RepeatedMsgReduction, https://www.rsyslog.com/doc/configuration/action/rsconf1_repeatedmsgreduction.html):
  -- the bracketed message is read as the message of the line, which stands for N records
  SELECT *,
    ${d.tryInteger(rx('body', REPEAT_RE, 1), 'BIGINT')} AS repeat_n,
    coalesce(trim(${rx('body', REPEAT_RE, 2)}), body) AS msg
  FROM hdr
),
timed AS (
  SELECT *,
    CASE WHEN prog_raw = 'sshd-session' THEN 'sshd'
      WHEN regexp_like(prog_raw, ${literal(OLD_PAM_PROG)}) THEN ${d.regexpExtract('prog_raw', OLD_PAM_PROG, 1)}
      ELSE prog_raw END AS prog,
    -- pam_unix before Linux-PAM 0.99 (RHEL 4, Fedora Core) names itself in the program field,
    -- \`login(pam_unix)[2421]: session opened for user root by LOGIN(uid=0)\`: written in the later
    -- form, \`pam_unix(login:session): …\`, so that one pattern reads both (loghub Linux_2k.log)
    CASE WHEN regexp_like(prog_raw, ${literal(OLD_PAM_PROG)})
      THEN 'pam_unix(' || ${d.regexpExtract('prog_raw', OLD_PAM_PROG, 1)} || ':session): ' || msg ELSE msg END AS pam_text,
    upper(host_raw) AS host,
    regexp_like(coalesce(stamp, ''), '^[0-9]{4}-') AS is_rfc,
    regexp_like(coalesce(stamp, ''), '(Z|[+-][0-9]{2}:[0-9]{2})$') AS has_zone,
    CASE WHEN strpos('${MONTHS}', substr(stamp, 1, 3)) > 0
      THEN CAST((strpos('${MONTHS}', substr(stamp, 1, 3)) + 2) / 3 AS INTEGER) END AS month_no,
    ${d.regexpExtract("coalesce(stamp, '')", '^[A-Z][a-z]{2} +([0-9]{1,2}) ', 1)} AS day_txt,
    ${d.regexpExtract("coalesce(stamp, '')", ' ([0-9]{2}:[0-9]{2}:[0-9]{2})$', 1)} AS hms
  FROM unrepeated
),
dated AS (
  SELECT *,
    -- a stamp more than six months from its day folder belongs to the neighbouring year (Dec → Jan)
    dt_year + CASE WHEN month_no - dt_month > 6 THEN -1 WHEN dt_month - month_no > 6 THEN 1 ELSE 0 END AS year_no
  FROM timed
),
clocked AS (
  SELECT *,
    CASE
      WHEN stamp IS NULL THEN NULL
      WHEN is_rfc AND has_zone THEN try(${d.epochMillis('stamp')})
      WHEN is_rfc THEN ${d.localTimeEpochMillis(rfcLocal, zoneParam())}
      WHEN year_no IS NULL OR month_no < 1 THEN NULL
      ELSE ${d.localTimeEpochMillis(classicLocal, zoneParam())} END AS time_ms,
    CASE
      WHEN is_rfc AND has_zone THEN 'RFC 3339 time with offset'
      WHEN is_rfc THEN 'RFC 3339 time without offset: zone ' || ${zoneParam()} || ' (linux.syslog_timezone)'
      ELSE 'syslog time without year or zone: year from the dt= folder, zone ' || ${zoneParam()} || ' (linux.syslog_timezone)' END AS time_field
  FROM dated
),
parsed AS (
  SELECT *,
    ${rx('pam_text', pamRe, 1)} AS pam_service,
    ${rx('pam_text', pamRe, 2)} AS pam_state,
    ${rx('pam_text', pamRe, 3)} AS pam_user,
    ${rx('pam_text', pamRe, 4)} AS pam_uid,
    ${rx('msg', pamByRe, 1)} AS pam_by,
    ${rx('msg', pamByRe, 2)} AS pam_by_uid,
    ${rx('msg', '^Accepted (\\S+) for (\\S+) from (\\S+) port ([0-9]+)', 1)} AS acc_method,
    ${rx('msg', '^Accepted (\\S+) for (\\S+) from (\\S+) port ([0-9]+)', 2)} AS acc_user,
    ${rx('msg', '^Accepted (\\S+) for (\\S+) from (\\S+) port ([0-9]+)', 3)} AS acc_ip,
    ${rx('msg', '^Accepted (\\S+) for (\\S+) from (\\S+) port ([0-9]+)', 4)} AS acc_port,
    ${rx('msg', '^Accepted \\S+ for \\S+ from \\S+ port [0-9]+ \\S+: (.+)$', 1)} AS acc_key,
    ${rx('msg', '^Failed (\\S+) for (?:invalid user )?(\\S+) from (\\S+) port', 2)} AS fail_user,
    ${rx('msg', '^Failed (\\S+) for (?:invalid user )?(\\S+) from (\\S+) port', 3)} AS fail_ip,
    ${rx('msg', '^Invalid user (\\S*) from (\\S+)', 1)} AS inv_user,
    ${rx('msg', '^Invalid user (\\S*) from (\\S+)', 2)} AS inv_ip,
    ${rx('msg', sudoRe, 1)} AS sudo_user,
    ${rx('msg', sudoRe, 2)} AS sudo_error,
    ${rx('msg', sudoRe, 3)} AS sudo_tty,
    ${rx('msg', sudoRe, 4)} AS sudo_pwd,
    ${rx('msg', sudoRe, 5)} AS sudo_runas,
    ${rx('msg', sudoRe, 6)} AS sudo_command,
    coalesce(${rx('msg', '^(?:FAILED SU )?\\(to (\\S+)\\) (\\S+) on (\\S+)', 1)}, ${rx('msg', '^Successful su for (\\S+) by (\\S+)', 1)}, ${rx('msg', '^[+-] (\\S+) (\\S+):(\\S+)$', 3)}) AS su_to,
    coalesce(${rx('msg', '^(?:FAILED SU )?\\(to (\\S+)\\) (\\S+) on (\\S+)', 2)}, ${rx('msg', '^Successful su for (\\S+) by (\\S+)', 2)}, ${rx('msg', '^[+-] (\\S+) (\\S+):(\\S+)$', 2)}) AS su_by,
    coalesce(${rx('msg', '^(?:FAILED SU )?\\(to (\\S+)\\) (\\S+) on (\\S+)', 3)}, ${rx('msg', '^[+-] (\\S+) (\\S+):(\\S+)$', 1)}) AS su_tty,
    regexp_like(msg, '^(FAILED SU|- )') AS su_failed
  FROM clocked
),
classified AS (
  SELECT *,
    CASE
      WHEN stamp IS NULL THEN NULL
      WHEN prog = 'sshd' AND acc_user IS NOT NULL THEN 'sshd_accepted'
      WHEN prog = 'sshd' AND fail_user IS NOT NULL THEN 'sshd_failed'
      WHEN prog = 'sshd' AND inv_ip IS NOT NULL THEN 'sshd_invalid_user'
      WHEN pam_service = 'sshd' THEN CASE WHEN pam_state = 'opened' THEN 'sshd_session_opened' ELSE 'sshd_session_closed' END
      WHEN pam_service IN (${inList(LOGIN_PAM_SERVICES)}) THEN CASE WHEN pam_state = 'opened' THEN 'pam_session_opened' ELSE 'pam_session_closed' END
      WHEN pam_service IN (${inList(ELEVATING_PAM_SERVICES)}) THEN CASE WHEN pam_state = 'opened' THEN 'elevated_session_opened' ELSE 'elevated_session_closed' END
      WHEN prog = 'sudo' AND sudo_user IS NOT NULL THEN 'sudo_command'
      WHEN prog = 'su' AND su_to IS NOT NULL THEN 'su'
      WHEN prog IN (${inList(ACCOUNT_PROGRAMS)}) AND pam_service IS NULL THEN 'account_change'
      WHEN prog = 'systemd-logind' AND regexp_like(msg, '^System is (rebooting|powering down|halting)') THEN 'system_shutdown'
      END AS event_code,
    CASE
      WHEN stamp IS NULL THEN 'rejected'
      WHEN time_ms IS NULL THEN 'rejected'
      WHEN regexp_like(body, ${literal(REPEAT_TOO_LARGE_RE)}) THEN 'rejected'
      ELSE 'ok' END AS gate,
    CASE
      WHEN stamp IS NULL THEN CASE WHEN line IS NULL OR trim(line) = '' THEN 'blank_line' ELSE 'malformed_line' END
      WHEN NOT is_rfc AND year_no IS NULL THEN 'no_year'
      WHEN time_ms IS NULL THEN 'bad_time'
      WHEN regexp_like(body, ${literal(REPEAT_TOO_LARGE_RE)}) THEN 'repeat_count_too_large'
      END AS gate_reason
  FROM parsed
),
statused AS (
  SELECT *,
    CASE
      WHEN gate_reason = 'blank_line' THEN 'skipped'
      WHEN gate = 'rejected' THEN 'rejected'
      WHEN event_code IS NULL THEN 'skipped'
      WHEN repeat_n IS NOT NULL AND event_code NOT IN (${inList(REPEATED_EVENT_CODES)}) THEN 'skipped'
      ELSE 'event' END AS status,
    CASE
      WHEN gate = 'rejected' THEN gate_reason
      WHEN repeat_n IS NOT NULL AND event_code IS NOT NULL AND event_code NOT IN (${inList(REPEATED_EVENT_CODES)}) THEN 'repeated_message_not_failure'
      WHEN event_code IS NOT NULL THEN NULL
      WHEN pam_service IS NOT NULL THEN 'other_pam_service'
      ELSE 'other_message' END AS reason
  FROM classified
),
copies AS (
  SELECT *,
    CASE event_code
      WHEN 'sshd_accepted' THEN 'logon'
      WHEN 'pam_session_opened' THEN 'logon'
      WHEN 'sshd_session_closed' THEN 'logoff'
      WHEN 'pam_session_closed' THEN 'logoff'
      WHEN 'sshd_failed' THEN 'failed_logon'
      WHEN 'sshd_invalid_user' THEN 'failed_logon'
      WHEN 'elevated_session_opened' THEN 'privilege'
      WHEN 'system_shutdown' THEN 'shutdown'
      ELSE 'activity' END AS kind,
    CASE WHEN event_code IN ('sshd_accepted', 'sshd_session_opened', 'sshd_session_closed', 'pam_session_opened', 'pam_session_closed')
      THEN prog || ':' || coalesce(pid, '?') END AS own_session,
    -- the invoking user of an elevation, for attribution to a login session
    CASE event_code
      WHEN 'sudo_command' THEN sudo_user
      WHEN 'su' THEN su_by
      WHEN 'elevated_session_opened' THEN pam_by
      END AS by_user,
    CASE event_code WHEN 'sudo_command' THEN sudo_tty WHEN 'su' THEN su_tty END AS tty,
    ${d.sha256Hex("coalesce(line, '')")} AS line_sha
  FROM statused WHERE status = 'event'
),
base AS (
  -- One row per record (host, time, line: its identity): a line delivered twice must not read as
  -- two logons of one session or two candidate sessions of a sudo line. Every copy is still
  -- emitted below, for the reconstruction to count and collapse.
  SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY host, time_ms, line_sha ORDER BY object_key) AS copy_no FROM copies
  ) c WHERE copy_no = 1
),
logins AS (
  SELECT host, own_session, time_ms AS start_ms,
    coalesce(acc_user, pam_user) AS login_user,
    lead(time_ms) OVER (PARTITION BY host, own_session ORDER BY time_ms, line_sha) AS next_start_ms
  FROM base WHERE kind = 'logon'
),
login_spans AS (
  SELECT l.host, l.own_session, l.start_ms, l.login_user,
    min(c.time_ms) AS end_ms
  FROM logins l
  LEFT JOIN base c ON c.host = l.host AND c.own_session = l.own_session AND c.kind = 'logoff'
   AND c.time_ms >= l.start_ms AND (l.next_start_ms IS NULL OR c.time_ms < l.next_start_ms)
  GROUP BY l.host, l.own_session, l.start_ms, l.login_user
),
by_user AS (
  -- sudo / su lines: the one login session of this user open on the host at that time
  SELECT b.host, b.line_sha, b.time_ms, count(s.own_session) AS candidates, min(s.own_session) AS only_session
  FROM base b LEFT JOIN login_spans s
    ON s.host = b.host AND s.login_user = b.by_user AND s.start_ms <= b.time_ms AND (s.end_ms IS NULL OR s.end_ms >= b.time_ms)
  WHERE b.by_user IS NOT NULL
  GROUP BY b.host, b.line_sha, b.time_ms
),
attributed AS (
  SELECT b.*,
    CASE
      WHEN b.own_session IS NOT NULL THEN b.own_session
      WHEN b.kind = 'failed_logon' OR b.kind = 'shutdown' THEN NULL
      WHEN u.candidates = 1 THEN u.only_session
      WHEN b.event_code IN ('sudo_command', 'su', 'elevated_session_opened') THEN coalesce('tty:' || b.tty, ${literal(UNATTRIBUTED_SESSION)})
      END AS session0
  FROM base b LEFT JOIN by_user u ON u.host = b.host AND u.line_sha = b.line_sha AND u.time_ms = b.time_ms
),
followed AS (
  -- su/sudo "session closed": the session of the "opened" line of the same program and PID
  SELECT a.host, a.line_sha, a.time_ms, o.session0 AS opened_session,
    row_number() OVER (PARTITION BY a.host, a.line_sha, a.time_ms ORDER BY o.time_ms DESC, o.line_sha) AS rn
  FROM attributed a JOIN attributed o
    ON o.host = a.host AND o.prog = a.prog AND coalesce(o.pid, '') = coalesce(a.pid, '') AND o.pam_user = a.pam_user
   AND o.event_code = 'elevated_session_opened' AND o.time_ms <= a.time_ms
  WHERE a.event_code = 'elevated_session_closed'
),
tooled AS (
  -- account tools: the session of the sudo command that ran the tool on the host in the minute before
  SELECT a.host, a.line_sha, a.time_ms, s.session0 AS sudo_session,
    row_number() OVER (PARTITION BY a.host, a.line_sha, a.time_ms ORDER BY s.time_ms DESC, s.line_sha) AS rn
  FROM attributed a JOIN attributed s
    ON s.host = a.host AND s.event_code = 'sudo_command' AND s.sudo_error IS NULL
   AND ${d.regexpExtract("split_part(s.sudo_command, ' ', 1)", '([^/]+)$', 1)} = a.prog
   AND s.time_ms <= a.time_ms AND s.time_ms >= a.time_ms - 60000
  WHERE a.event_code = 'account_change'
),
sessions AS (
  SELECT a.*,
    CASE
      WHEN a.event_code = 'elevated_session_closed' THEN coalesce(f.opened_session, ${literal(UNATTRIBUTED_SESSION)})
      WHEN a.event_code = 'account_change' THEN coalesce(t.sudo_session, ${literal(UNATTRIBUTED_SESSION)})
      ELSE a.session0 END AS session_uid
  FROM attributed a
  LEFT JOIN followed f ON f.rn = 1 AND f.host = a.host AND f.line_sha = a.line_sha AND f.time_ms = a.time_ms
  LEFT JOIN tooled t ON t.rn = 1 AND t.host = a.host AND t.line_sha = a.line_sha AND t.time_ms = a.time_ms
),
owned AS (
  SELECT *,
    max(CASE WHEN kind = 'logon' THEN time_ms END) OVER (
      PARTITION BY host, session_uid ORDER BY time_ms, CASE WHEN kind = 'logon' THEN 0 ELSE 1 END, line_sha
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS logon_ms
  FROM sessions
),
facts AS (
  SELECT host, session_uid, logon_ms,
    min(CASE WHEN event_code = 'sshd_session_opened' OR event_code = 'pam_session_opened' THEN pam_uid END) AS uid,
    count(CASE WHEN event_code = 'sudo_command' AND sudo_error IS NULL THEN 1 END) AS sudo_commands,
    count(CASE WHEN event_code = 'sudo_command' AND sudo_error IS NOT NULL THEN 1 END) AS sudo_denied,
    min(CASE WHEN event_code = 'elevated_session_opened' AND pam_user = 'root' THEN regexp_replace(pam_service, '-(i|l)$', '') END) AS elevated_via,
    min(tty) AS tty
  FROM owned WHERE logon_ms IS NOT NULL AND session_uid IS NOT NULL
  GROUP BY host, session_uid, logon_ms
),
events AS (
  SELECT ${classifiedRow({
    status: `'event'`,
    source: sourceLit,
    host: 'o.host',
    record_uid: `concat_ws('|', o.host, CAST(o.time_ms AS VARCHAR), ${lineRef})`,
    event_code: 'o.event_code',
    kind: 'o.kind',
    time_ms: 'o.time_ms',
    time_field: 'o.time_field',
    session_uid: 'o.session_uid',
    user_uid: `CASE
      WHEN o.kind = 'logon' THEN coalesce(fa.uid, o.pam_uid)
      WHEN o.event_code IN ('sshd_session_opened', 'pam_session_opened') THEN o.pam_uid
      WHEN o.event_code = 'elevated_session_opened' THEN o.pam_by_uid
      END`,
    user_name: `CASE o.event_code
      WHEN 'sshd_accepted' THEN o.acc_user
      WHEN 'sshd_failed' THEN o.fail_user
      WHEN 'sshd_invalid_user' THEN o.inv_user
      WHEN 'elevated_session_opened' THEN o.pam_by
      WHEN 'elevated_session_closed' THEN NULL
      WHEN 'sudo_command' THEN o.sudo_user
      WHEN 'su' THEN o.su_by
      ELSE o.pam_user END`,
    logon_type_id: `CASE WHEN o.kind = 'logon' THEN
      CASE WHEN o.prog = 'sshd' THEN 10 WHEN o.pam_service IN ('cron', 'atd') THEN 4 ELSE 2 END END`,
    is_elevated: `CASE
      WHEN o.kind = 'logon' THEN coalesce(o.acc_user, o.pam_user) = 'root'
      WHEN o.kind = 'privilege' THEN o.pam_user = 'root'
      WHEN o.event_code = 'sudo_command' THEN o.sudo_error IS NULL AND o.sudo_runas = 'root'
      END`,
    src_ip: 'coalesce(o.acc_ip, o.fail_ip, o.inv_ip)',
    process: 'o.prog',
    command_line: `CASE o.event_code WHEN 'sudo_command' THEN o.sudo_command END`,
    action: `CASE o.event_code
      WHEN 'sshd_accepted' THEN 'login'
      WHEN 'sshd_failed' THEN 'login_failed'
      WHEN 'sshd_invalid_user' THEN 'login_failed'
      WHEN 'sshd_session_opened' THEN 'session_opened'
      WHEN 'sshd_session_closed' THEN 'session_closed'
      WHEN 'pam_session_opened' THEN 'login'
      WHEN 'pam_session_closed' THEN 'session_closed'
      WHEN 'elevated_session_opened' THEN 'elevated_session_opened'
      WHEN 'elevated_session_closed' THEN 'elevated_session_closed'
      WHEN 'sudo_command' THEN CASE WHEN o.sudo_error IS NULL THEN 'sudo_command' ELSE 'sudo_denied' END
      WHEN 'su' THEN CASE WHEN o.su_failed THEN 'su_failed' ELSE 'su' END
      WHEN 'system_shutdown' THEN 'system_shutdown'
      ELSE CASE
        WHEN regexp_like(o.msg, '^new user:') THEN 'user_created'
        WHEN regexp_like(o.msg, '^new group:') THEN 'group_created'
        WHEN regexp_like(o.msg, '^delete user') THEN 'user_deleted'
        WHEN regexp_like(o.msg, '^(removed group|group .* removed)') THEN 'group_deleted'
        WHEN regexp_like(o.msg, '^add .* to (shadow )?group') THEN 'group_member_added'
        WHEN regexp_like(o.msg, 'password changed') THEN 'password_changed'
        ELSE 'account_changed' END
      END`,
    target: `CASE o.event_code
      WHEN 'sudo_command' THEN concat_ws(' ', 'as ' || o.sudo_runas, 'on ' || o.sudo_tty, 'in ' || o.sudo_pwd, nullif(trim(regexp_replace(coalesce(o.sudo_error, ''), ' ; $', '')), ''))
      WHEN 'su' THEN concat_ws(' ', 'to ' || o.su_to, 'on ' || o.su_tty)
      WHEN 'elevated_session_opened' THEN 'to ' || o.pam_user
      WHEN 'elevated_session_closed' THEN 'to ' || o.pam_user
      WHEN 'account_change' THEN o.msg
      WHEN 'sshd_failed' THEN o.msg
      WHEN 'sshd_invalid_user' THEN o.msg
      END`,
    logon_process: `CASE WHEN o.kind = 'logon' THEN o.prog END`,
    auth_package: `CASE WHEN o.event_code = 'sshd_accepted' THEN o.acc_method END`,
    // the source logs its session ends ("session closed"), so no end hint (end_hint_ms, end_hint stay NULL)
    details: `CASE WHEN o.kind = 'logon' THEN ${d.jsonObjectText([
      ['tty', 'fa.tty'],
      ['ssh_auth_method', 'o.acc_method'],
      ['ssh_src_port', 'o.acc_port'],
      ['ssh_key', 'o.acc_key'],
      ['elevated_to_root_via', 'fa.elevated_via'],
      ['sudo_commands', 'CAST(fa.sudo_commands AS VARCHAR)'],
      ['sudo_denied', 'CAST(fa.sudo_denied AS VARCHAR)'],
      ['pid', 'o.pid'],
    ])} END`,
    raw_ref: `c.object_key || '#sha256=' || ${lineRef}`,
    object_key: 'c.object_key',
  })}
  FROM owned o
  JOIN copies c ON c.host = o.host AND c.time_ms = o.time_ms AND c.line_sha = o.line_sha
  LEFT JOIN facts fa ON o.kind = 'logon' AND fa.host = o.host AND fa.session_uid = o.session_uid AND fa.logon_ms = o.time_ms
  -- A repeated-message line is N records (REPEATED_EVENT_CODES), copy k of N at the line's time
  -- (rsyslog writes it when the repetition ends), expanded here at the output, once: each is a
  -- failed logon, which no session logic above reads twice. k = 1000 * hi + lo + 1, two series of
  -- at most 10^4 entries (Trino's limit per sequence). Every other line is one record.
  CROSS JOIN UNNEST(${d.integerSeries('0', 'CAST(floor((coalesce(o.repeat_n, 1) - 1) / 1000.0) AS BIGINT)')}) AS rh(hi)
  CROSS JOIN UNNEST(${d.integerSeries('0', 'least(coalesce(o.repeat_n, 1) - 1, 999)')}) AS rl(lo)
  WHERE 1000 * rh.hi + rl.lo < coalesce(o.repeat_n, 1)
)
SELECT * FROM events
UNION ALL
SELECT ${problemRow({
    status: 'status',
    reason: 'reason',
    source: sourceLit,
    host: 'host',
    time_ms: 'time_ms',
    time_field: 'time_field',
    raw_ref: `object_key || '#sha256=' || substr(${d.sha256Hex("coalesce(line, '')")}, 1, 16)`,
    object_key: 'object_key',
  })}
FROM statused WHERE status <> 'event'
`;
  return p.finish('normalise-linux-auth', sql);
}
