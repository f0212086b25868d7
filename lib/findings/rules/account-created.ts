import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/** A user account was created: Windows 4720, auditd ADD_USER, IAM CreateUser (successful). */
export const accountCreated: FindingRule = {
  id: 'account-created',
  category: 'account_change',
  severity: 'medium',
  sources: ['windows', 'linux_auditd', 'cloudtrail'],
  rationale:
    'A new account is a new way in; each one must match an approved request. Attackers create local, domain or cloud accounts for persistence, often as SYSTEM or under a computer-like name.',
  references: [
    'Microsoft, 4720(S): A user account was created',
    'auditd: ADD_USER (useradd via libaudit audit_log_acct_message)',
    'AWS IAM API Reference: CreateUser',
    'MITRE ATT&CK T1136 Create Account',
  ],
  sql: ({ events }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, 'created account', coalesce(e.target, 'unknown'), 'on', e.host)`,
  )}
FROM ${events} e
WHERE (e.source = 'windows' AND e.event_code = '4720')
  OR (e.source = 'linux_auditd' AND e.event_code = 'ADD_USER')
  OR (e.source = 'cloudtrail' AND e.event_code = 'iam.amazonaws.com:CreateUser' AND e.action = 'CreateUser')`,
};
