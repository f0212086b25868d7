import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/** SID history was added to an account (4765): it then holds the rights of the SIDs added. */
export const sidHistoryAdded: FindingRule = {
  id: 'sid-history-added',
  category: 'account_change',
  severity: 'high',
  sources: ['windows'],
  rationale:
    'Outside a domain migration, SID history gives an account the rights of another (often a domain admin) without any group change.',
  references: [
    'Microsoft, 4765(S): SID History was added to an account',
    'MITRE ATT&CK T1134.005 Access Token Manipulation: SID-History Injection',
  ],
  sql: ({ events }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, 'added SID history to', coalesce(e.target, 'an account'), 'on', e.host)`,
  )}
FROM ${events} e WHERE e.source = 'windows' AND e.event_code = '4765'`,
};
