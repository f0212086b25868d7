import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/** The Directory Services Restore Mode administrator password was set (4794). */
export const dsrmPasswordSet: FindingRule = {
  id: 'dsrm-password-set',
  category: 'account_change',
  severity: 'high',
  sources: ['windows'],
  rationale:
    'The DSRM account is a local administrator of a domain controller; setting its password outside a documented procedure can create a backdoor.',
  references: [
    'Microsoft, 4794(S, F): An attempt was made to set the Directory Services Restore Mode administrator password',
    'MITRE ATT&CK T1098 Account Manipulation',
  ],
  sql: ({ events }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, 'set the DSRM administrator password on', e.host, coalesce('(' || e.target || ')', ''))`,
  )}
FROM ${events} e WHERE e.source = 'windows' AND e.event_code = '4794'`,
};
