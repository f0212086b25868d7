import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/** The Security log was cleared (1102): everything before it on that host is gone from the log. */
export const auditLogCleared: FindingRule = {
  id: 'audit-log-cleared',
  category: 'log_tampering',
  severity: 'high',
  sources: ['windows'],
  rationale:
    'Clearing the Security log destroys the evidence of what happened before it; attackers clear it to hide their tracks.',
  references: [
    'Microsoft, 1102(S): The audit log was cleared (learn.microsoft.com/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-1102)',
    'MITRE ATT&CK T1070.001 Indicator Removal: Clear Windows Event Logs',
  ],
  sql: ({ events }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', 'Security log cleared on', e.host, 'by', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')})`,
  )}
FROM ${events} e WHERE e.kind = 'integrity' AND e.action = 'log_cleared'`,
};
