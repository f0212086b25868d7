/**
 * Session reconstruction, in SQL (Trino dialect, DuckDB through shims): pure builders that return
 * `{ sql, params }` over the normalised events table that a source's normalising query produced.
 *
 * The steps, each a working table or a result:
 * 1. `session_events`: in-range, in-scope events, duplicates collapsed on `record_uid` and content
 *    (versions that differ all kept, as conflicts), each with the
 *    boot epoch of its host (`boot_ms`: time of the latest 4608 at or before it, `-1` before the
 *    first boot in the data).
 * 2. `attributed`: every event that names a session, tied to its session half: the logon of the
 *    same (host, boot epoch, logon id) that began last at or before it. A logon id reused within
 *    one epoch (a reboot the data does not show) thus starts a new session. Windows writes the 4672
 *    a moment before its 4624, so privilege events may precede their logon by up to
 *    {@link PRIVILEGE_LEAD_MS}.
 * 3. `session_halves`: one row per logon (a half), with end, privilege, UAC partner, suppression,
 *    and whether the session it belongs to is in the pack.
 * Then results: the pack's halves, their activity, orphan activity, integrity events, suppression
 * counts and coverage.
 */

import { type Config, globToRegex, type MatchSpec, type SuppressionRule } from '../config/config.ts';
import type { Dialect } from './dialects/dialect.ts';
import { foldCase, foldSql, foldTableFor } from './fold-case.ts';
import { CLASSIFIED_COLUMNS, LINE_IDENTITY_PREFIX } from './session-events.ts';
import { literal, ParamList, type SqlQuery } from './sql.ts';

/** How many hops of a role chain a user scope follows (credentials assumed from credentials). */
export const CREDENTIAL_CHAIN_HOPS = 4;
/** How long before its 4624 a 4672 may be written and still belong to it. */
export const PRIVILEGE_LEAD_MS = 5000;
/** UAC partners are logged together; a linked logon further apart than this is not the partner. */
export const UAC_PAIR_MAX_GAP_MS = 60_000;
/**
 * The bound for pairing UAC split-token logons that name no partner (4624 versions 0 and 1, before
 * `TargetLinkedLogonId` and `ElevatedToken` existed): Windows writes both halves within
 * milliseconds (MS-UAC, domain notes §1.8), but records timed by a collector's receipt time
 * (`@timestamp`) may each lag by a few seconds, so the bound allows for that lag.
 */
export const UAC_INFERRED_PAIR_MAX_GAP_MS = 5000;
/** Coverage shows at most this many example references per (source, status, reason). */
export const COVERAGE_EXAMPLES = 5;

export interface ReconstructionPlan {
  readonly fromMs: number;
  readonly toMs: number;
  readonly dataFromMs: number;
  readonly users: readonly string[];
  readonly hosts: readonly string[];
  readonly includeUnprivileged: boolean;
  readonly config: Config;
  /** Rules whose expiry is before the window end do not apply (conservative: show, don't hide). */
  readonly activeRules: readonly SuppressionRule[];
  /**
   * Sources whose logons come as UAC split-token pairs (Windows): only there are two logons without
   * a link id paired by inference. Absent: none.
   */
  readonly splitTokenSources?: readonly string[];
  /**
   * Sources whose `linked_session_uid` names the credentials a session was assumed from (CloudTrail):
   * a user scope there follows the user's role chains. Absent: none.
   */
  readonly credentialChainSources?: readonly string[];
  /**
   * A host that logs nothing for longer than this has a coverage gap; a session still open when its
   * host's data stops more than this before the window end ends there (`data_ends`).
   */
  readonly coverageGapMs: number;
}

const ACTIVITY_KINDS = `('activity', 'integrity', 'reconnect', 'disconnect')`;
// A logoff whose logon is not in the data (the session began before it) ends that logon's orphan
// group: it is evidence of the session, so it is shown, not dropped.
const ORPHAN_KINDS = `('activity', 'integrity', 'reconnect', 'disconnect', 'privilege', 'logoff')`;

/** SQL that is true when the event's or logon's account matches a {@link MatchSpec}. */
export function matchSql(spec: MatchSpec, p: ParamList, logonType: string | null): string {
  const parts: string[] = [];
  if (spec.sids?.length) {
    const sids = spec.sids.map(foldCase);
    parts.push(`${foldSql("coalesce(user_uid, '')", foldTableFor(sids), p)} IN (${p.addAll(sids)})`);
  }
  if (spec.sid_patterns?.length)
    parts.push(
      `(${spec.sid_patterns.map((g) => `regexp_like(lower(coalesce(user_uid, '')), ${p.add(globToRegex(g))})`).join(' OR ')})`,
    );
  if (spec.names?.length) {
    const folded = spec.names.map(foldCase);
    const fold = (x: string) => foldSql(x, foldTableFor(folded), p);
    const names = p.addAll(folded);
    parts.push(
      `(${fold("coalesce(user_name, '')")} IN (${names}) OR ${fold("concat_ws('\\', user_domain, user_name)")} IN (${names}))`,
    );
  }
  if (spec.name_patterns?.length)
    parts.push(
      `(${spec.name_patterns.map((g) => `regexp_like(lower(coalesce(user_name, '')), ${p.add(globToRegex(g))})`).join(' OR ')})`,
    );
  if (spec.logon_types?.length)
    parts.push(
      logonType === null ? 'false' : `coalesce(${logonType}, -1) IN (${spec.logon_types.join(', ')})`,
    );
  return parts.length === 0 ? 'false' : `(${parts.join(' AND ')})`;
}

/** SQL giving the id of the first rule that matches the account, else NULL. */
export function suppressionSql(
  rules: readonly SuppressionRule[],
  p: ParamList,
  logonType: string | null,
): string {
  if (rules.length === 0) return 'CAST(NULL AS VARCHAR)';
  return `CASE ${rules.map((r) => `WHEN ${matchSql(r.match, p, logonType)} THEN ${p.add(r.id)}`).join(' ')} END`;
}

/**
 * Requested users match any form the logs name an account by, case-insensitively ({@link foldCase}:
 * the same folding on every engine): the name, `DOMAIN\name`, the SID / uid / ARN, and for IAM
 * users the bare name of `user/<name>` (CloudTrail names a user by its ARN's resource part).
 */
export function userScopeSql(users: readonly string[], p: ParamList, q = '', tiedIn?: string): string {
  if (users.length === 0) return 'true';
  const folded = users.map(foldCase);
  const iam = users.map((u) => foldCase(`user/${u}`));
  const table = foldTableFor([...folded, ...iam]);
  const fold = (x: string) => foldSql(x, table, p);
  const list = p.addAll(folded);
  const iamUsers = p.addAll(iam);
  const direct = `(${fold(`coalesce(${q}user_name, '')`)} IN (${list}) OR ${fold(`concat_ws('\\', ${q}user_domain, ${q}user_name)`)} IN (${list}) OR ${fold(`coalesce(${q}user_uid, '')`)} IN (${list}) OR ${fold(`coalesce(${q}user_name, '')`)} IN (${iamUsers}))`;
  if (tiedIn === undefined) return direct;
  return `(${direct} OR upper(${q}user_uid) IN (${tiedSidsSql(users, p, tiedIn)}))`;
}

/**
 * The SIDs that events of `table` naming one of `users` directly carry: an account's NetBIOS and DNS
 * domain forms (`CORP\adm.alice`, `CORP.EXAMPLE\adm.alice`) are one account where the logs give
 * them one SID (a SID identifies one security principal, MS-DTYP 2.4.2). The NULL SID (S-1-0-0) ties
 * nothing: Windows writes it for "no account" (a 4688's target, MS-4688).
 */
function tiedSidsSql(users: readonly string[], p: ParamList, table: string): string {
  return `SELECT upper(t.user_uid) FROM ${table} t WHERE ${userScopeSql(users, p, 't.')}
    AND upper(t.user_uid) LIKE 'S-1-%' AND upper(t.user_uid) <> 'S-1-0-0'`;
}

/**
 * The account forms each requested user was joined with through a SID ({@link userScopeSql} with a
 * tie table): one row per (requested user, SID, domain, name) that the scope took in only through
 * the SID, i.e. forms a direct match would have missed; `n` is their number of events.
 */
export function buildScopeTiesQuery(d: Dialect, plan: ReconstructionPlan): SqlQuery {
  const p = new ParamList();
  const ev = d.workTable('session_events');
  const arms = plan.users.map(
    (u, i) => `SELECT ${i} AS idx, upper(e.user_uid) AS sid, e.user_domain, e.user_name, count(*) AS n
FROM ${ev} e WHERE upper(e.user_uid) IN (${tiedSidsSql([u], p, ev)}) AND NOT ${userScopeSql([u], p, 'e.')}
GROUP BY upper(e.user_uid), e.user_domain, e.user_name`,
  );
  const sql =
    arms.length === 0
      ? `SELECT 0 AS idx, '' AS sid, '' AS user_domain, '' AS user_name, 0 AS n WHERE false`
      : arms.join('\nUNION ALL\n');
  return p.finish('scope-ties', `${sql}\nORDER BY idx, sid, user_domain, user_name`);
}

/**
 * Requested hosts match the full name or its first label (`WS01` matches `ws01.corp.example`), in
 * any case ({@link foldCase}): sources spell host names as their producers do (Windows upper, Linux lower).
 */
function hostScopeSql(hosts: readonly string[], p: ParamList): string {
  if (hosts.length === 0) return 'true';
  const folded = hosts.map(foldCase);
  const table = foldTableFor(folded);
  const list = p.addAll(folded);
  return `(${foldSql('host', table, p)} IN (${list}) OR ${foldSql("split_part(host, '.', 1)", table, p)} IN (${list}))`;
}

/**
 * The normalised columns that reconstruction reads from a source's classified lines: the contract's
 * columns less the classification itself (status, reason) and the object key.
 */
const EVENT_COLUMNS = CLASSIFIED_COLUMNS.map((c) => c.name).filter(
  (name) => !['status', 'reason', 'object_key'].includes(name),
);

/**
 * What a record says, as opposed to where it was read and how: every normalised column but its
 * identity (`source`, `host`, `record_uid`), its place (`raw_ref`) and which field gave its time
 * (`time_field`: two layouts of one record name the field differently, the time is the same).
 */
const CONTENT_COLUMNS = EVENT_COLUMNS.filter(
  (name) => !['source', 'host', 'record_uid', 'raw_ref', 'time_field'].includes(name),
);

/**
 * SQL giving a fingerprint of what a record says ({@link CONTENT_COLUMNS}), the same text on every
 * engine: copies of a record with the same `record_uid` and the same fingerprint are duplicates
 * (one is kept); the same `record_uid` with different fingerprints are versions of one record that
 * disagree (a conflict: all are kept and reported). `q` is a table alias with its dot, or ''.
 */
export function recordContentSql(d: Dialect, q = ''): string {
  // '=' before a value and '-' for NULL: NULL and '' differ; U+001F separates the columns.
  const parts = CONTENT_COLUMNS.map((c) => `coalesce('=' || CAST(${q}${c} AS VARCHAR), '-')`);
  return d.sha256Hex(`concat_ws(chr(31), ${parts.join(', ')})`);
}

/** The columns of `session_events`, in order (then `boot_ms`). */
const SESSION_EVENT_COLUMNS = [...EVENT_COLUMNS, 'host_as_logged', 'record_identity'];

/** Step 1: `session_events`. */
export function buildSessionEventsQuery(d: Dialect, plan: ReconstructionPlan, linesTable: string): SqlQuery {
  const p = new ParamList();
  const t = d.workTable(linesTable);
  // One identity per host: a host logged by its short name (`WORKSTATION5`) is the host of the data
  // whose full name has that first label (`WORKSTATION5.THESHIRE.LOCAL`), when exactly one has it;
  // scope, counts, lanes and sentences then all speak of one host. `host_as_logged` keeps the spelling.
  // Copies of one record collapse to the one read first in (file, position) order; versions of one
  // record that say different things are all kept, each with `#version=<fingerprint>` after its
  // uid and its raw_ref (two versions may sit at one reference: one file, one record number), so
  // that what the pack shows never depends on the order of the lines (`record_identity` keeps the
  // source's uid, which the conflicting-record-versions finding groups on).
  const sql = `
SELECT ${SESSION_EVENT_COLUMNS.join(', ')},
  coalesce(max(CASE WHEN kind = 'boot' THEN time_ms END) OVER (
    PARTITION BY host ORDER BY time_ms, record_no, record_uid ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), -1) AS boot_ms
FROM (
  SELECT ${SESSION_EVENT_COLUMNS.filter((c) => !['record_uid', 'raw_ref', 'record_identity'].includes(c)).join(', ')},
    CASE WHEN versions > 1 THEN record_uid || '#version=' || substr(content_sha, 1, 16) ELSE record_uid END AS record_uid,
    CASE WHEN versions > 1 THEN raw_ref || '#version=' || substr(content_sha, 1, 16) ELSE raw_ref END AS raw_ref,
    record_uid AS record_identity
  FROM (
    SELECT *, max(version_no) OVER (PARTITION BY record_uid) AS versions
    FROM (
    SELECT *,
      row_number() OVER (PARTITION BY record_uid, content_sha ORDER BY raw_ref) AS copy_no,
      dense_rank() OVER (PARTITION BY record_uid ORDER BY content_sha) AS version_no
    FROM (
      SELECT canonical.*, ${recordContentSql(d, 'canonical.')} AS content_sha
      FROM (
        SELECT ${EVENT_COLUMNS.map((c) => `l.${c}`).join(', ')}, l.host AS host_as_logged
        FROM (SELECT * FROM ${t} WHERE status = 'event' AND strpos(host, '.') > 0) l
        UNION ALL
        SELECT ${EVENT_COLUMNS.map((c) => (c === 'host' ? 'CASE WHEN fq.n = 1 THEN fq.fqdn ELSE l.host END' : `l.${c}`)).join(', ')}, l.host
        FROM (SELECT * FROM ${t} WHERE status = 'event' AND (host IS NULL OR strpos(host, '.') = 0)) l
        LEFT JOIN (
          SELECT upper(split_part(host, '.', 1)) AS short, min(host) AS fqdn, count(DISTINCT host) AS n
          FROM ${t} WHERE status = 'event' AND strpos(host, '.') > 0 GROUP BY upper(split_part(host, '.', 1))
        ) fq ON fq.short = upper(l.host)
      ) canonical
      WHERE time_ms >= ${p.add(plan.dataFromMs)} AND time_ms < ${p.add(plan.toMs)}
        AND ${hostScopeSql(plan.hosts, p)}
    ) fingerprinted
    ) ranked
  ) copies
  WHERE copy_no = 1
) deduped`;
  return p.finish('session-events', sql);
}

/** Step 2: `attributed`. */
export function buildAttributionQuery(d: Dialect, plan: ReconstructionPlan): SqlQuery {
  const p = new ParamList();
  const ev = d.workTable('session_events');
  // Each event takes the logon of its key that comes last before it in (time, record) order. A
  // window over logons and events together finds it in one sorted pass: a range join would pair
  // every event with every logon of the key, and SYSTEM (0x3e7) logs a logon per service start.
  const sql = `
WITH candidates AS (
  SELECT *,
    time_ms + CASE WHEN kind = 'privilege' THEN ${PRIVILEGE_LEAD_MS} ELSE 0 END AS eff_ms,
    -- A privilege event sorts after every logon of its (shifted) millisecond: k_last before k_rec.
    CASE WHEN kind = 'privilege' THEN 1 ELSE 0 END AS eff_last,
    CASE WHEN kind = 'privilege' THEN 0 ELSE coalesce(record_no, 0) END AS eff_rec
  FROM ${ev}
  WHERE kind NOT IN ('logon', 'boot', 'shutdown', 'failed_logon') AND session_uid IS NOT NULL
),
merged AS (
  SELECT host, boot_ms, session_uid, time_ms AS k_ms, 0 AS k_last, coalesce(record_no, 0) AS k_rec, 0 AS k_kind,
    record_uid AS instance_uid, CAST(NULL AS VARCHAR) AS event_uid
  FROM ${ev} WHERE kind = 'logon' AND session_uid IS NOT NULL
  UNION ALL
  SELECT host, boot_ms, session_uid, eff_ms, eff_last, eff_rec, 1, CAST(NULL AS VARCHAR), record_uid FROM candidates
),
ordered AS (
  SELECT *,
    row_number() OVER (PARTITION BY host, boot_ms, session_uid ORDER BY k_ms, k_last, k_rec, k_kind, instance_uid, event_uid) AS ord
  FROM merged
),
marked AS (
  SELECT *,
    max(CASE WHEN k_kind = 0 THEN ord END) OVER (
      PARTITION BY host, boot_ms, session_uid ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS logon_ord
  FROM ordered
),
picked AS (
  SELECT m.event_uid, l.instance_uid
  FROM marked m
  LEFT JOIN ordered l
    ON l.host = m.host AND l.boot_ms = m.boot_ms AND l.session_uid = m.session_uid AND l.ord = m.logon_ord
  WHERE m.k_kind = 1
)
SELECT e.source, e.host, e.record_no, e.record_uid, e.event_code, e.kind, e.time_ms, e.time_field, e.session_uid,
  e.user_uid, e.user_name, e.user_domain, e.is_elevated, e.privileges, e.src_ip, e.src_host, e.process,
  e.parent_process, e.command_line, e.action, e.target, e.raw_ref, e.boot_ms, k.instance_uid,
  ${suppressionSql(plan.activeRules, p, null)} AS suppressed_by
FROM candidates e JOIN picked k ON k.event_uid = e.record_uid`;
  return p.finish('attribute-activity', sql);
}

/** Step 3: `session_halves`, one row per logon with everything the pack says about it. */
export function buildSessionHalvesQuery(d: Dialect, plan: ReconstructionPlan): SqlQuery {
  const p = new ParamList();
  const ev = d.workTable('session_events');
  const at = d.workTable('attributed');
  const privPattern = `(^| )(${plan.config.privileged.privileges.join('|')})( |$)`;
  const toMs = p.add(plan.toMs);
  // Privileged actions (configured globs over `source:event_code`, e.g. `cloudtrail:iam.amazonaws.com:create*`).
  const actions = plan.config.privileged.actions;
  const splitSources = p.addAll(plan.splitTokenSources ?? []);
  // without a user scope every session is in scope already: no chain to follow
  const chainSources = p.addAll(plan.users.length === 0 ? [] : (plan.credentialChainSources ?? []));
  const chainCtes = Array.from({ length: CREDENTIAL_CHAIN_HOPS }, (_, i) => {
    const hop = i + 1;
    return `chain_keys${hop} AS (
  SELECT host, session_uid FROM chain_keys${i}
  UNION
  SELECT c.host, c.session_uid FROM classified c JOIN chain_keys${i} k ON c.host = k.host AND c.linked_session_uid = k.session_uid
  WHERE c.source IN (${chainSources})
),`;
  }).join('\n');
  const chainCtesAll = `chain_keys0 AS (
  SELECT DISTINCT host, session_uid FROM classified WHERE user_in_scope AND source IN (${chainSources})
),
${chainCtes}`;
  const actionsSql =
    actions.length === 0
      ? 'false'
      : `(${actions.map((g) => `regexp_like(lower(concat(source, ':', event_code)), ${p.add(globToRegex(g))})`).join(' OR ')})`;
  const sql = `
WITH halves AS (
  SELECT record_uid AS instance_uid, source, host, boot_ms, session_uid, linked_session_uid, time_ms AS start_ms,
    coalesce(record_no, 0) AS start_rec, user_uid, user_name, user_domain, logon_type_id, is_elevated, src_ip, src_host,
    logon_process, auth_package, end_hint_ms, end_hint, details, raw_ref AS logon_ref, action AS logon_action,
    time_field AS logon_time_field,
    lead(time_ms) OVER (PARTITION BY host, boot_ms, session_uid ORDER BY time_ms, record_no, record_uid) AS reused_ms
  FROM ${ev} WHERE kind = 'logon' AND session_uid IS NOT NULL
),
firsts AS (
  SELECT instance_uid, kind, event_code, action, time_ms, raw_ref, privileges,
    row_number() OVER (PARTITION BY instance_uid, kind ORDER BY time_ms, record_no, record_uid) AS rn
  FROM ${at} WHERE instance_uid IS NOT NULL AND kind IN ('logoff', 'privilege')
),
counts AS (
  SELECT instance_uid,
    count(CASE WHEN kind IN ${ACTIVITY_KINDS} THEN 1 END) AS activity_count,
    -- A privilege event with an elevated token (sudo/su to root), or activity that ran elevated
    -- (a process run as administrator, a root command), makes the session privileged.
    max(CASE WHEN (kind = 'privilege' OR kind IN ${ACTIVITY_KINDS}) AND is_elevated THEN 1 ELSE 0 END) AS elevated_by_privilege_event,
    max(CASE WHEN kind IN ${ACTIVITY_KINDS} AND ${actionsSql} THEN 1 ELSE 0 END) AS privileged_action
  FROM ${at} WHERE instance_uid IS NOT NULL GROUP BY instance_uid
),
boots AS (
  SELECT host, time_ms AS boot_ms,
    lead(time_ms) OVER (PARTITION BY host ORDER BY time_ms, record_no, record_uid) AS next_boot_ms
  FROM ${ev} WHERE kind = 'boot'
  UNION ALL
  SELECT host, -1 AS boot_ms, min(time_ms) AS next_boot_ms FROM ${ev} WHERE kind = 'boot' GROUP BY host
),
shutdowns AS (
  SELECT h.instance_uid,
    min(CASE WHEN s.kind = 'shutdown' THEN s.time_ms END) AS shutdown_ms,
    min(CASE WHEN s.action = 'audit_service_stopped' THEN s.time_ms END) AS service_stop_ms
  FROM halves h JOIN ${ev} s ON s.host = h.host AND s.boot_ms = h.boot_ms AND s.time_ms >= h.start_ms
   AND (s.kind = 'shutdown' OR s.action = 'audit_service_stopped')
  GROUP BY h.instance_uid
),
clears AS (
  SELECT h.instance_uid, min(c.time_ms) AS cleared_ms
  FROM halves h JOIN ${ev} c ON c.host = h.host AND c.action = 'log_cleared' AND c.time_ms >= h.start_ms
  GROUP BY h.instance_uid
),
host_logoffs AS (
  SELECT host, count(CASE WHEN kind = 'logoff' THEN 1 END) AS logoffs, min(time_ms) AS first_ms, max(time_ms) AS last_ms
  FROM ${ev} GROUP BY host
),
ended AS (
  SELECT h.*,
    lo.time_ms AS logoff_ms, lo.action AS logoff_action, lo.raw_ref AS logoff_ref,
    pr.privileges, pr.raw_ref AS privilege_ref, coalesce(c.activity_count, 0) AS activity_count,
    coalesce(c.elevated_by_privilege_event, 0) = 1 AS elevated_by_privilege_event, coalesce(c.privileged_action, 0) = 1 AS privileged_action,
    b.next_boot_ms, s.shutdown_ms, s.service_stop_ms, cl.cleared_ms, hl.logoffs AS host_logoffs,
    -- The host's data stops well before the window end: a session still open then is open only
    -- because nothing after it was read (domain notes §5.11), so it ends with the data.
    CASE WHEN hl.last_ms < ${toMs} - ${p.add(plan.coverageGapMs)} THEN hl.last_ms END AS data_end_ms
  FROM halves h
  LEFT JOIN firsts lo ON lo.instance_uid = h.instance_uid AND lo.kind = 'logoff' AND lo.rn = 1
  LEFT JOIN firsts pr ON pr.instance_uid = h.instance_uid AND pr.kind = 'privilege' AND pr.rn = 1
  LEFT JOIN counts c ON c.instance_uid = h.instance_uid
  LEFT JOIN boots b ON b.host = h.host AND b.boot_ms = h.boot_ms
  LEFT JOIN shutdowns s ON s.instance_uid = h.instance_uid
  LEFT JOIN clears cl ON cl.instance_uid = h.instance_uid
  LEFT JOIN host_logoffs hl ON hl.host = h.host
),
classified AS (
  SELECT *,
    CASE
      WHEN logoff_ms IS NOT NULL THEN logoff_ms
      WHEN shutdown_ms IS NOT NULL THEN shutdown_ms
      WHEN next_boot_ms IS NOT NULL THEN coalesce(service_stop_ms, next_boot_ms)
      WHEN end_hint_ms IS NOT NULL AND end_hint_ms < ${toMs} THEN end_hint_ms
      WHEN reused_ms IS NULL AND data_end_ms IS NOT NULL THEN data_end_ms
      END AS end_ms,
    CASE
      WHEN logoff_ms IS NOT NULL THEN CASE WHEN logoff_action = 'user_logoff' THEN 'user_logoff' ELSE 'logoff' END
      WHEN shutdown_ms IS NOT NULL THEN 'shutdown'
      WHEN next_boot_ms IS NOT NULL THEN CASE WHEN service_stop_ms IS NOT NULL THEN 'shutdown' ELSE 'reboot' END
      WHEN end_hint_ms IS NOT NULL AND end_hint_ms < ${toMs} THEN end_hint
      WHEN reused_ms IS NOT NULL THEN 'id_reused'
      WHEN data_end_ms IS NOT NULL THEN 'data_ends'
      ELSE 'open_at_window_end' END AS end_reason,
    coalesce(regexp_like(privileges, ${p.add(privPattern)}), false) AS priv_by_privilege,
    (coalesce(is_elevated, false) OR elevated_by_privilege_event) AS priv_by_elevation,
    privileged_action AS priv_by_action,
    ${matchSql(plan.config.privileged.accounts, p, 'logon_type_id')} AS priv_by_account,
    ${suppressionSql(plan.activeRules, p, 'logon_type_id')} AS suppressed_by,
    ${userScopeSql(plan.users, p, '', ev)} AS user_in_scope
  FROM ended
),
linked_partners AS (
  SELECT h.instance_uid, q.instance_uid AS partner_uid, q.is_elevated AS partner_elevated, q.privileges AS partner_privileges,
    'linked_logon_id' AS pair_method, abs(q.start_ms - h.start_ms) AS pair_gap_ms,
    row_number() OVER (PARTITION BY h.instance_uid ORDER BY abs(q.start_ms - h.start_ms), q.instance_uid) AS rn
  FROM classified h JOIN classified q
    ON q.host = h.host AND q.boot_ms = h.boot_ms AND q.session_uid = h.linked_session_uid
   AND q.linked_session_uid = h.session_uid AND q.instance_uid <> h.instance_uid
   AND abs(q.start_ms - h.start_ms) <= ${UAC_PAIR_MAX_GAP_MS}
),
-- Logons that name no partner and carry no elevation flag (4624 v0/v1): a UAC pair shows as two
-- logons of one SID and logon type on one host and boot, logged together, exactly one of which
-- received the special-privileges event (MS-UAC: only the full token is privileged). Only an
-- unambiguous twin is paired: no other such logon lies within the bound before or after the two.
-- (Neighbours by window, not a self-join: Trino inlines each reference to a WITH query.)
uac_candidates AS (
  SELECT instance_uid, start_ms, is_elevated, privileges, privilege_ref IS NOT NULL AS has_priv,
    lag(start_ms) OVER (PARTITION BY host, boot_ms, user_uid, logon_type_id ORDER BY start_ms, instance_uid) AS prev_ms,
    lead(start_ms) OVER (PARTITION BY host, boot_ms, user_uid, logon_type_id ORDER BY start_ms, instance_uid) AS next_ms,
    lead(start_ms, 2) OVER (PARTITION BY host, boot_ms, user_uid, logon_type_id ORDER BY start_ms, instance_uid) AS next2_ms,
    lead(instance_uid) OVER (PARTITION BY host, boot_ms, user_uid, logon_type_id ORDER BY start_ms, instance_uid) AS next_uid,
    lead(privilege_ref IS NOT NULL) OVER (PARTITION BY host, boot_ms, user_uid, logon_type_id ORDER BY start_ms, instance_uid) AS next_has_priv,
    lead(is_elevated) OVER (PARTITION BY host, boot_ms, user_uid, logon_type_id ORDER BY start_ms, instance_uid) AS next_elevated,
    lead(privileges) OVER (PARTITION BY host, boot_ms, user_uid, logon_type_id ORDER BY start_ms, instance_uid) AS next_privileges
  FROM classified
  WHERE source IN (${splitSources}) AND linked_session_uid IS NULL AND is_elevated IS NULL
    AND user_uid IS NOT NULL AND logon_type_id IS NOT NULL
),
inferred_pairs AS (
  SELECT * FROM uac_candidates
  WHERE next_uid IS NOT NULL AND has_priv <> next_has_priv AND next_ms - start_ms <= ${UAC_INFERRED_PAIR_MAX_GAP_MS}
    AND (prev_ms IS NULL OR start_ms - prev_ms > ${UAC_INFERRED_PAIR_MAX_GAP_MS})
    AND (next2_ms IS NULL OR next2_ms - next_ms > ${UAC_INFERRED_PAIR_MAX_GAP_MS})
),
partners AS (
  SELECT instance_uid, partner_uid, partner_elevated, partner_privileges, pair_method, pair_gap_ms, rn FROM linked_partners
  UNION ALL
  SELECT CASE WHEN side = 0 THEN instance_uid ELSE next_uid END,
    CASE WHEN side = 0 THEN next_uid ELSE instance_uid END,
    CASE WHEN side = 0 THEN next_elevated ELSE is_elevated END,
    CASE WHEN side = 0 THEN next_privileges ELSE privileges END,
    'inferred', next_ms - start_ms, 1
  FROM inferred_pairs CROSS JOIN (VALUES (0), (1)) AS sides (side)
),
-- A user scope follows the user's role chains: a session assumed with credentials of a session in
-- scope (its linked_session_uid is that session's key, domain notes §3.3) is in scope, hop by hop,
-- up to ${CREDENTIAL_CHAIN_HOPS} hops (the depth of the chains AWS role chaining makes in practice).
${chainCtesAll}
grouped AS (
  SELECT c.*, pa.partner_uid, pa.pair_method, pa.pair_gap_ms,
    (NOT c.user_in_scope AND ck.session_uid IS NOT NULL) AS in_scope_by_chain,
    CASE
      WHEN pa.partner_uid IS NULL THEN c.instance_uid
      WHEN coalesce(c.is_elevated, false) AND NOT coalesce(pa.partner_elevated, false) THEN c.instance_uid
      WHEN coalesce(pa.partner_elevated, false) AND NOT coalesce(c.is_elevated, false) THEN pa.partner_uid
      WHEN c.privileges IS NOT NULL AND pa.partner_privileges IS NULL THEN c.instance_uid
      WHEN pa.partner_privileges IS NOT NULL AND c.privileges IS NULL THEN pa.partner_uid
      WHEN c.instance_uid < pa.partner_uid THEN c.instance_uid
      ELSE pa.partner_uid END AS group_uid
  FROM classified c LEFT JOIN partners pa ON pa.instance_uid = c.instance_uid AND pa.rn = 1
  LEFT JOIN (SELECT DISTINCT host, session_uid FROM chain_keys${CREDENTIAL_CHAIN_HOPS}) ck
    ON ck.host = c.host AND ck.session_uid = c.session_uid AND c.source IN (${chainSources})
),
judged AS (
  SELECT *,
    (priv_by_privilege OR priv_by_elevation OR priv_by_account OR priv_by_action) AS half_privileged,
    max(CASE WHEN priv_by_privilege OR priv_by_elevation OR priv_by_account OR priv_by_action THEN 1 ELSE 0 END) OVER (PARTITION BY group_uid) = 1 AS privileged,
    min(start_ms) OVER (PARTITION BY group_uid) AS group_start_ms,
    -- NULL while any half is still open: the group ends when its last half does.
    CASE WHEN count(end_ms) OVER (PARTITION BY group_uid) = count(*) OVER (PARTITION BY group_uid)
      THEN max(end_ms) OVER (PARTITION BY group_uid) END AS group_end_ms,
    max(CASE WHEN user_in_scope OR in_scope_by_chain THEN 1 ELSE 0 END) OVER (PARTITION BY group_uid) = 1 AS group_in_scope,
    min(suppressed_by) OVER (PARTITION BY group_uid) AS group_suppressed_by
  FROM grouped
)
SELECT *,
  (group_start_ms < ${p.add(plan.toMs)} AND (group_end_ms IS NULL OR group_end_ms >= ${p.add(plan.fromMs)}) AND group_in_scope
   AND (privileged OR ${plan.includeUnprivileged ? 'true' : 'false'})) AS candidate,
  (group_start_ms < ${p.add(plan.toMs)} AND (group_end_ms IS NULL OR group_end_ms >= ${p.add(plan.fromMs)}) AND group_in_scope
   AND (privileged OR ${plan.includeUnprivileged ? 'true' : 'false'}) AND group_suppressed_by IS NULL) AS in_pack
FROM judged`;
  return p.finish('session-halves', sql);
}

/** The halves of the sessions in the pack. */
export function buildPackHalvesQuery(d: Dialect): SqlQuery {
  return new ParamList().finish(
    'pack-sessions',
    `SELECT * FROM ${d.workTable('session_halves')} WHERE in_pack ORDER BY group_uid, instance_uid`,
  );
}

/** Activity of the sessions in the pack, in time order. */
export function buildPackActivityQuery(d: Dialect): SqlQuery {
  return new ParamList().finish(
    'pack-activity',
    `SELECT a.*, h.group_uid FROM ${d.workTable('attributed')} a
JOIN ${d.workTable('session_halves')} h ON h.instance_uid = a.instance_uid
WHERE h.in_pack AND a.kind IN ${ACTIVITY_KINDS}
ORDER BY h.group_uid, a.time_ms, a.record_no, a.record_uid`,
  );
}

/**
 * Activity in the window that no logon in the data explains, not suppressed, in scope. A user scope
 * takes the whole group of a matching event (same host, boot epoch and logon id): one event may
 * name the account by SID and another only by name (a 4688 whose target SID is the NULL SID).
 */
export function buildOrphanQuery(d: Dialect, plan: ReconstructionPlan): SqlQuery {
  const p = new ParamList();
  const ev = d.workTable('session_events');
  const at = d.workTable('attributed');
  const scope =
    plan.users.length === 0
      ? 'true'
      : `EXISTS (SELECT 1 FROM ${at} o WHERE o.instance_uid IS NULL AND o.host = a.host AND o.boot_ms = a.boot_ms
      AND o.session_uid = a.session_uid AND ${userScopeSql(plan.users, p, 'o.', ev)})`;
  const sql = `SELECT * FROM ${at} a
WHERE instance_uid IS NULL AND kind IN ${ORPHAN_KINDS}
  AND time_ms >= ${p.add(plan.fromMs)} AND time_ms < ${p.add(plan.toMs)}
  AND suppressed_by IS NULL AND (${userScopeSql(plan.users, p, 'a.', ev)} OR ${scope})
ORDER BY host, boot_ms, session_uid, time_ms, record_no, record_uid`;
  return p.finish('orphan-activity', sql);
}

/** Log clears, audit service stops, time changes, boots and shutdowns in the window. */
export function buildIntegrityQuery(d: Dialect, plan: ReconstructionPlan): SqlQuery {
  const p = new ParamList();
  const sql = `SELECT time_ms, host, event_code, kind, action, user_name, session_uid, target, raw_ref
FROM ${d.workTable('session_events')}
WHERE kind IN ('integrity', 'boot', 'shutdown') AND time_ms >= ${p.add(plan.fromMs)} AND time_ms < ${p.add(plan.toMs)}
ORDER BY time_ms, host, record_no, record_uid`;
  return p.finish('integrity-events', sql);
}

/** What each suppression rule kept out of the pack. */
export function buildSuppressionCountsQuery(d: Dialect, plan: ReconstructionPlan): SqlQuery {
  const p = new ParamList();
  const sql = `SELECT 'session' AS what, group_suppressed_by AS rule_id, count(DISTINCT group_uid) AS n
FROM ${d.workTable('session_halves')} WHERE candidate AND group_suppressed_by IS NOT NULL GROUP BY group_suppressed_by
UNION ALL
SELECT 'orphan_event', suppressed_by, count(*) FROM ${d.workTable('attributed')}
WHERE instance_uid IS NULL AND kind IN ${ORPHAN_KINDS} AND suppressed_by IS NOT NULL
  AND time_ms >= ${p.add(plan.fromMs)} AND time_ms < ${p.add(plan.toMs)} AND ${userScopeSql(plan.users, p, '', d.workTable('session_events'))}
GROUP BY suppressed_by
ORDER BY what, rule_id`;
  return p.finish('suppression-counts', sql);
}

/**
 * Coverage: records per status and reason with up to {@link COVERAGE_EXAMPLES} example references. `derivedRows` is a
 * source's predicate for rows it derives from another record (a CloudTrail call that is also its
 * caller's activity, an inferred logon): they are not records read, so they are not counted.
 */
export function buildCoverageQuery(
  d: Dialect,
  linesTable: string,
  derivedRows?: string,
  window?: { readonly fromMs: number; readonly toMs: number },
): SqlQuery {
  const t = d.workTable(linesTable);
  const derived = derivedRows === undefined ? 'false' : `(status = 'event' AND (${derivedRows}))`;
  // The examples are the smallest references of each group, kept by the aggregate `min(x, n)` as
  // it reads (both engines), never by ordering every skipped line: a window over them held the
  // whole table, the export's peak at 10 M records (bench/RESULTS.md).
  // An event whose time lies outside the data window [data_from, to) is read but not used: counted
  // as outside_window, so that "used" means what the pack's timelines can hold. The bounds are
  // whole numbers computed from the validated request, written as integer literals (Athena takes
  // `?` in WHERE only).
  const ms = (v: number) => {
    if (!Number.isSafeInteger(v)) throw new RangeError(`coverage window bound ${v} is not a whole number`);
    return `CAST(${v} AS BIGINT)`;
  };
  const outside =
    window === undefined ? 'false' : `(time_ms < ${ms(window.fromMs)} OR time_ms >= ${ms(window.toMs)})`;
  return new ParamList().finish(
    'coverage-records',
    `WITH s AS (
  SELECT source, CASE WHEN status = 'event' AND ${outside} THEN 'outside_window' ELSE status END AS status,
    coalesce(reason, '') AS reason, object_key, raw_ref, ${derived} AS is_derived
  FROM ${t}
)
SELECT c.source, c.status, c.reason, c.n, c.files, x.raw_ref AS example
FROM (SELECT source, status, reason, sum(CASE WHEN is_derived THEN 0 ELSE 1 END) AS n,
        count(DISTINCT object_key) AS files,
        min(CASE WHEN status NOT IN ('event', 'outside_window') THEN raw_ref END, ${COVERAGE_EXAMPLES}) AS examples
      FROM s GROUP BY source, status, reason) c
LEFT JOIN UNNEST(c.examples) AS x(raw_ref) ON true
ORDER BY c.source, c.status, c.reason, x.raw_ref`,
  );
}

/**
 * Coverage: files, duplicates, conflicting versions, records identified by their line and the time
 * fields used, per source. Duplicates are the copies beyond the first of a record (same
 * `record_uid`, same content, {@link recordContentSql}); `conflicts` counts the versions of records
 * whose copies say different things (all kept); `by_line` the records without a record number of
 * their own ({@link LINE_IDENTITY_PREFIX}).
 */
export function buildSourceStatsQuery(d: Dialect, linesTable: string): SqlQuery {
  const t = d.workTable(linesTable);
  return new ParamList().finish(
    'coverage-sources',
    `WITH versions AS (
  SELECT source, record_uid, count(*) AS copies
  FROM (SELECT source, record_uid, ${recordContentSql(d)} AS content_sha FROM ${t} WHERE status = 'event') e
  GROUP BY source, record_uid, content_sha
),
identities AS (
  SELECT source, record_uid, count(*) AS versions, sum(copies) AS copies FROM versions GROUP BY source, record_uid
)
SELECT source, 'files' AS metric, '' AS label, count(DISTINCT object_key) AS n FROM ${t} GROUP BY source
UNION ALL
SELECT source, 'duplicates', '', sum(copies - versions) FROM identities GROUP BY source
UNION ALL
SELECT source, 'conflicts', '', sum(CASE WHEN versions > 1 THEN versions ELSE 0 END) FROM identities GROUP BY source
UNION ALL
SELECT source, 'by_line', '', count(*) FROM ${t}
WHERE status = 'event' AND strpos(record_uid, ${literal(`|${LINE_IDENTITY_PREFIX}`)}) > 0 GROUP BY source
UNION ALL
SELECT source, 'time_field', time_field, count(*) FROM ${t} WHERE status = 'event' GROUP BY source, time_field
ORDER BY source, metric, label`,
  );
}

/** Coverage: how many in-range events carry each field, per event code. */
export function buildFieldPopulationQuery(d: Dialect): SqlQuery {
  return new ParamList().finish(
    'coverage-fields',
    `SELECT source, event_code, count(*) AS total, count(session_uid) AS session_uid, count(user_uid) AS user_uid,
  count(logon_type_id) AS logon_type_id, count(linked_session_uid) AS linked_session_uid, count(is_elevated) AS is_elevated
FROM ${d.workTable('session_events')} GROUP BY source, event_code ORDER BY source, event_code`,
  );
}

/**
 * Coverage gaps: stretches of the window longer than {@link ReconstructionPlan.coverageGapMs} in
 * which a host logged nothing, counting the window's start and end as edges, so a host whose data
 * stops early shows a gap to the window end.
 */
export function buildCoverageGapsQuery(d: Dialect, plan: ReconstructionPlan): SqlQuery {
  const p = new ParamList();
  const ev = d.workTable('session_events');
  const sql = `
WITH edges AS (
  SELECT host, time_ms FROM ${ev}
  UNION ALL
  SELECT host, CAST(${p.add(plan.fromMs)} AS BIGINT) FROM ${ev} GROUP BY host
  UNION ALL
  SELECT host, CAST(${p.add(plan.toMs)} AS BIGINT) FROM ${ev} GROUP BY host
),
ordered AS (
  SELECT host, time_ms, lag(time_ms) OVER (PARTITION BY host ORDER BY time_ms) AS prev_ms FROM edges
)
SELECT host, prev_ms AS from_ms, time_ms AS to_ms FROM ordered
WHERE prev_ms IS NOT NULL AND time_ms - prev_ms > ${p.add(plan.coverageGapMs)}
  AND prev_ms >= ${p.add(plan.fromMs)} AND time_ms <= ${p.add(plan.toMs)}
ORDER BY host, from_ms`;
  return p.finish('coverage-gaps', sql);
}

/**
 * How many records of the data read each requested user and host matches (one row per value, in the
 * request's order: `kind`, `idx`, `n`), with the same matching the reconstruction uses.
 */
export function buildScopeMatchQuery(d: Dialect, plan: ReconstructionPlan, linesTable: string): SqlQuery {
  const p = new ParamList();
  const t = d.workTable(linesTable);
  const arms = [
    ...plan.users.map((u, i) => ['user', i, (pl: ParamList) => userScopeSql([u], pl)] as const),
    ...plan.hosts.map((h, i) => ['host', i, (pl: ParamList) => hostScopeSql([h], pl)] as const),
  ].map(
    ([kind, i, where]) =>
      `SELECT '${kind}' AS kind, ${i} AS idx, count(*) AS n FROM ${t} WHERE status = 'event' AND ${where(p)}`,
  );
  const sql =
    arms.length === 0 ? `SELECT 'none' AS kind, 0 AS idx, 0 AS n WHERE false` : arms.join('\nUNION ALL\n');
  return p.finish('scope-matches', `${sql}\nORDER BY kind, idx`);
}

/** The accounts and hosts of the data read, to name the nearest matches of a scope that matched nothing. */
export function buildScopeCandidatesQuery(d: Dialect, linesTable: string): SqlQuery {
  return new ParamList().finish(
    'scope-candidates',
    `SELECT DISTINCT host, user_name, user_domain, user_uid FROM ${d.workTable(linesTable)} WHERE status = 'event'
ORDER BY host, user_name, user_domain, user_uid`,
  );
}

/** Hosts logged by a short name and read as the one full name of the data with that first label. */
export function buildHostAliasesQuery(d: Dialect): SqlQuery {
  return new ParamList().finish(
    'host-aliases',
    `SELECT DISTINCT host_as_logged, host FROM ${d.workTable('session_events')}
WHERE host_as_logged <> host ORDER BY host, host_as_logged`,
  );
}

/**
 * The collector's lag where a record carries both its own (local, zone-less) time and the
 * collector's receipt time: the source's `collector_lag_ms` detail (Windows NXLog records), per
 * source, over the events of the data read: count, min, median, 95th percentile (nearest rank) and
 * max, in milliseconds.
 */
export function buildCollectorLagQuery(d: Dialect): SqlQuery {
  return new ParamList().finish(
    'collector-lag',
    `WITH l AS (
  SELECT source, CAST(json_extract_scalar(details, '$.collector_lag_ms') AS BIGINT) AS lag_ms
  FROM ${d.workTable('session_events')} WHERE details LIKE '%"collector_lag_ms"%'
),
x AS (
  SELECT source, lag_ms, row_number() OVER (PARTITION BY source ORDER BY lag_ms) AS rn,
    count(*) OVER (PARTITION BY source) AS n
  FROM l WHERE lag_ms IS NOT NULL
)
SELECT source, max(n) AS records, min(lag_ms) AS min_ms, min(CASE WHEN rn * 2 >= n THEN lag_ms END) AS median_ms,
  min(CASE WHEN rn * 100 >= n * 95 THEN lag_ms END) AS p95_ms, max(lag_ms) AS max_ms
FROM x GROUP BY source ORDER BY source`,
  );
}

/**
 * Where a skipped record carries the event's UTC time in a field of its own as well as the time it
 * is read at (the source's `detailKey` in `details`: Windows Sysmon records, `UtcTime`), that UTC
 * time minus the record's time, per source, host as logged and time field, over the data read: count, min,
 * median (nearest rank) and max, in milliseconds. Near 0 when the time is the UTC it says it is;
 * a whole number of hours when it is the host's local time written as UTC.
 */
export function buildUtcTimeCheckQuery(d: Dialect, linesTable: string, detailKey: string): SqlQuery {
  if (!/^[a-z_]+$/.test(detailKey)) throw new Error(`not a details key: ${detailKey}`);
  return new ParamList().finish(
    'utc-time-check',
    `WITH l AS (
  SELECT source, host, time_field, CAST(json_extract_scalar(details, '$.${detailKey}') AS BIGINT) AS diff_ms
  FROM ${d.workTable(linesTable)} WHERE status = 'skipped' AND details LIKE '%"${detailKey}"%'
),
x AS (
  SELECT source, host, time_field, diff_ms, row_number() OVER (PARTITION BY source, host, time_field ORDER BY diff_ms) AS rn,
    count(*) OVER (PARTITION BY source, host, time_field) AS n
  FROM l WHERE diff_ms IS NOT NULL
)
SELECT source, host, time_field, max(n) AS records, min(diff_ms) AS min_ms, min(CASE WHEN rn * 2 >= n THEN diff_ms END) AS median_ms,
  max(diff_ms) AS max_ms
FROM x GROUP BY source, host, time_field ORDER BY source, host, time_field`,
  );
}

/** Coverage: hosts in the data read. */
export function buildHostCoverageQuery(d: Dialect): SqlQuery {
  return new ParamList().finish(
    'coverage-hosts',
    `SELECT host, min(source) AS source, min(time_ms) AS first_ms, max(time_ms) AS last_ms, count(*) AS events,
  count(CASE WHEN kind = 'logoff' THEN 1 END) AS logoffs, count(CASE WHEN kind = 'logon' THEN 1 END) AS logons
FROM ${d.workTable('session_events')} GROUP BY host ORDER BY host`,
  );
}

/**
 * The objects a table input read, with the records each gave (every row of the lines table, event,
 * skipped or rejected, names its object): what the pack lists as read when the engine, not the
 * locator, listed the objects (Athena's `"$path"`).
 */
export function buildObjectsReadQuery(d: Dialect, linesTable: string): SqlQuery {
  return new ParamList().finish(
    'objects-read',
    `SELECT object_key, count(*) AS records FROM ${d.workTable(linesTable)} WHERE object_key IS NOT NULL GROUP BY object_key ORDER BY object_key`,
  );
}
