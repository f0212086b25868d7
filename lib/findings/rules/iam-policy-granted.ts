import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/** IAM calls that attach a managed policy or put an inline one on a user, group or role. */
const CALLS = ['User', 'Group', 'Role'].flatMap((t) => [`Attach${t}Policy`, `Put${t}Policy`]).sort();

/** A permissions policy was attached to or written into an IAM user, group or role (successful). */
export const iamPolicyGranted: FindingRule = {
  id: 'iam-policy-granted',
  category: 'account_change',
  severity: 'medium',
  sources: ['cloudtrail'],
  rationale:
    'Attaching or writing a policy grants permissions directly, outside group membership; AdministratorAccess on a new user is a classic persistence step.',
  references: [
    'AWS IAM API Reference: AttachUserPolicy, AttachGroupPolicy, AttachRolePolicy, PutUserPolicy, PutGroupPolicy, PutRolePolicy',
    'MITRE ATT&CK T1098.003 Account Manipulation: Additional Cloud Roles',
  ],
  sql: ({ events, p }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, split_part(e.event_code, ':', 2), coalesce(e.target, ''), 'in account', e.host)`,
  )}
FROM ${events} e
WHERE e.source = 'cloudtrail' AND e.event_code IN (${p.addAll(CALLS.map((c) => `iam.amazonaws.com:${c}`))})
  AND e.action IN (${p.addAll(CALLS)})`,
};
