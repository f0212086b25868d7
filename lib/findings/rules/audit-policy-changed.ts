import { CLOUDTRAIL_TAMPERING_CALLS } from '../../sources/cloudtrail.ts';
import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

const NARROWING_CALLS = Object.entries(CLOUDTRAIL_TAMPERING_CALLS)
  .filter(([, kind]) => kind === 'audit_policy_changed')
  .map(([code]) => code)
  .sort();

/**
 * What is audited was changed: Windows system or per-user audit policy (4719, 4912) or
 * CrashOnAuditFail (4906), auditd rules changed by a logged-in user (rules loaded at boot, with an
 * unset auid, are routine), a trail's or event data store's settings or selectors (denied too).
 */
export const auditPolicyChanged: FindingRule = {
  id: 'audit-policy-changed',
  category: 'log_tampering',
  severity: 'high',
  sources: ['windows', 'linux_auditd', 'cloudtrail'],
  rationale:
    'Changing what is audited can silently stop the events a review relies on; it must be explained by a change record.',
  references: [
    'Microsoft, 4719(S): System audit policy was changed; 4912(S): Per User Audit Policy was changed; 4906(S): The CrashOnAuditFail value has changed',
    'auditd: CONFIG_CHANGE (auditctl(8))',
    'AWS CloudTrail API Reference: UpdateTrail, PutEventSelectors, PutInsightSelectors, UpdateEventDataStore',
    'MITRE ATT&CK T1562.002, T1562.012, T1562.008 (Impair Defenses)',
  ],
  sql: ({ events, p, d }) => {
    const who = accountSql('e.user_domain', 'e.user_name', 'e.user_uid');
    const err = `nullif(${d.regexpExtract('e.action', ' failed: (.*)$', 1)}, '')`;
    return `SELECT ${singleRecordColumns(`CASE
    WHEN e.source = 'cloudtrail' THEN concat_ws(' ', ${who}, CASE WHEN ${err} IS NULL THEN 'changed audit logging in account' ELSE 'tried to change audit logging in account' END,
      e.host, 'with', split_part(e.event_code, ':', 2), '(failed: ' || ${err} || ')')
    ELSE concat_ws(' ', ${who}, CASE WHEN e.action = 'audit_rule_removed' THEN 'removed an audit rule on' ELSE 'changed the audit policy on' END,
      e.host, '(' || e.event_code || coalesce(': ' || e.target, '') || ')') END`)}
FROM ${events} e
WHERE e.kind = 'integrity' AND (
  (e.source = 'windows' AND e.action = 'audit_policy_changed')
  OR (e.source = 'linux_auditd' AND e.action IN ('audit_policy_changed', 'audit_rule_removed') AND e.user_uid IS NOT NULL)
  OR (e.source = 'cloudtrail' AND e.event_code IN (${p.addAll(NARROWING_CALLS)})))`;
  },
};
