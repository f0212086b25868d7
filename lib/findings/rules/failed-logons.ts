import { accountSql, type FindingRule } from '../finding-rule.ts';

/** Every failed logon, one finding per host and account tried, with each attempt as its evidence. */
export const failedLogons: FindingRule = {
  id: 'failed-logons',
  category: 'failed_logon',
  severity: 'low',
  sources: ['windows', 'linux_auditd', 'linux_auth', 'cloudtrail', 'ocsf'],
  rationale:
    'Failed logons to reviewed hosts and accounts show attempts that never became sessions; the review must see them to judge whether access was tried.',
  references: [
    'Microsoft, 4625(F): An account failed to log on',
    'auditd: USER_LOGIN, USER_AUTH, USER_ACCT res=failed; AWS CloudTrail ConsoleLogin Failure',
    'MITRE ATT&CK DC0088 Logon Session Creation',
  ],
  sql: ({
    events,
  }) => `SELECT concat_ws('|', 'failed', e.host, upper(coalesce(e.user_name, e.user_uid, '?'))) AS finding_key, e.record_uid,
  concat_ws(' ', CAST(count(*) OVER (PARTITION BY e.host, upper(coalesce(e.user_name, e.user_uid, '?'))) AS VARCHAR),
    'failed logons of', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, 'on', e.host) AS statement,
  e.user_uid AS subject_uid, e.user_name AS subject_name, e.user_domain AS subject_domain, CAST(NULL AS VARCHAR) AS secret
FROM ${events} e WHERE e.kind = 'failed_logon'`,
};
