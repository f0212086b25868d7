import { matchSql } from '../../query/reconstruct.ts';
import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/**
 * A session of a root or break-glass account began: the AWS account root user, a direct root login
 * (auditd LOGIN as auid 0; root's cron jobs, logon type 4, are routine and not flagged), the
 * built-in Windows Administrator (RID 500), or a configured
 * break-glass account (`findings.break_glass`).
 */
export const privilegedAccountUse: FindingRule = {
  id: 'privileged-account-use',
  category: 'privileged_account_use',
  severity: 'high',
  sources: ['windows', 'linux_auditd', 'cloudtrail'],
  rationale:
    'Root and break-glass accounts are shared and all-powerful; every use must be tied to an approved emergency or task.',
  references: [
    'AWS IAM User Guide: Tasks that require root user credentials ("we strongly recommend that you don\'t use the root user for your everyday tasks")',
    'Microsoft, 4624(S) with the built-in Administrator (SID ending -500)',
    'auditd: LOGIN auid=0 (pam_loginuid)',
    'MITRE ATT&CK T1078.003 Valid Accounts: Local Accounts, T1078.004 Cloud Accounts',
  ],
  sql: ({ events, p, settings }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')},
      CASE WHEN e.breakglass THEN '(break-glass account)' ELSE '(root or built-in administrator)' END,
      'began a session on', e.host, coalesce('from ' || e.src_ip, ''))`,
  )}
FROM (
  SELECT *, ${matchSql(settings.break_glass, p, 'logon_type_id')} AS breakglass FROM ${events}
) e
WHERE e.kind = 'logon' AND (
  e.breakglass
  OR (e.source = 'cloudtrail' AND regexp_like(coalesce(e.user_uid, ''), '^arn:aws[a-z-]*:iam::[0-9]+:root$'))
  OR (e.source = 'linux_auditd' AND e.user_uid = '0' AND coalesce(e.logon_type_id, -1) <> 4)
  OR (e.source = 'windows' AND regexp_like(upper(coalesce(e.user_uid, '')), '^S-1-5-21-[0-9-]+-500$')))`,
};
