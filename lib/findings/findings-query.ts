/**
 * The findings query: every rule of the catalogue over the reconstruction's working tables
 * (`session_events`, `attributed`, `session_halves` of `lib/query/reconstruct.ts`), in one SQL
 * statement that runs alike on DuckDB, Trino and Athena. One row per (finding, record it rests on),
 * with the session half or orphan activity the record belongs to and the suppression rule that
 * matches the finding's subject or session, if any: a finding is never dropped for it.
 */
import { findingsSettings } from '../config/config.ts';
import type { Dialect } from '../query/dialects/dialect.ts';
import { type ReconstructionPlan, suppressionSql, userScopeSql } from '../query/reconstruct.ts';
import { literal, ParamList, type SqlQuery } from '../query/sql.ts';
import type { FindingRule, FindingRuleContext } from './finding-rule.ts';
import { FINDING_RULES } from './rules/index.ts';

/** Builds the findings query of a pack (the rules default to the whole catalogue). */
export function buildFindingsQuery(
  d: Dialect,
  plan: ReconstructionPlan,
  rules: readonly FindingRule[] = FINDING_RULES,
): SqlQuery {
  const p = new ParamList();
  const ctx: FindingRuleContext = { d, p, events: 'scoped', settings: findingsSettings(plan.config) };
  const flagged =
    rules.length === 0
      ? `SELECT CAST(NULL AS VARCHAR) AS rule_id, CAST(NULL AS VARCHAR) AS finding_key, CAST(NULL AS VARCHAR) AS record_uid,
  CAST(NULL AS VARCHAR) AS statement, CAST(NULL AS VARCHAR) AS user_uid, CAST(NULL AS VARCHAR) AS user_name,
  CAST(NULL AS VARCHAR) AS user_domain, CAST(NULL AS VARCHAR) AS secret WHERE false`
      : rules
          .map(
            (r, i) => `SELECT ${literal(r.id)} AS rule_id, finding_key, record_uid, statement,
  subject_uid AS user_uid, subject_name AS user_name, subject_domain AS user_domain, secret
FROM (${r.sql(ctx)}) r${i}`,
          )
          .join('\nUNION ALL\n');
  const sql = `
WITH scoped AS (
  SELECT * FROM ${d.workTable('session_events')}
  WHERE time_ms >= ${p.add(plan.fromMs)} AND time_ms < ${p.add(plan.toMs)}
),
flagged AS (
${flagged}
),
marked AS (
  SELECT flagged.*,
    ${suppressionSql(plan.activeRules, p, null)} AS subject_rule,
    (${userScopeSql(plan.users, p, '', d.workTable('session_events'))} OR (user_uid IS NULL AND user_name IS NULL)) AS subject_in_scope
  FROM flagged
)
SELECT f.rule_id, f.finding_key, f.record_uid, f.statement, f.user_uid AS subject_uid, f.user_name AS subject_name,
  f.user_domain AS subject_domain, f.secret,
  e.source, e.host, e.time_ms, e.record_no, e.event_code, e.kind, e.raw_ref, e.session_uid, e.boot_ms,
  h.instance_uid, h.group_uid, coalesce(h.in_pack, false) AS in_pack,
  coalesce(h.group_suppressed_by, a.suppressed_by, f.subject_rule) AS suppressed_by
FROM marked f
JOIN scoped e ON e.record_uid = f.record_uid
LEFT JOIN ${d.workTable('attributed')} a ON a.record_uid = f.record_uid
LEFT JOIN ${d.workTable('session_halves')} h
  ON h.instance_uid = coalesce(a.instance_uid, CASE WHEN e.kind = 'logon' THEN e.record_uid END)
WHERE f.subject_in_scope OR coalesce(h.group_in_scope, false)
ORDER BY f.rule_id, f.finding_key, e.time_ms, e.record_no, f.record_uid`;
  return p.finish('findings', sql);
}
