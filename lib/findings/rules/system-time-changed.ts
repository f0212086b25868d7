import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/**
 * The system time was changed by someone other than the Windows Time service (svchost.exe as LOCAL
 * SERVICE or SYSTEM, which Microsoft calls normal).
 */
export const systemTimeChanged: FindingRule = {
  id: 'system-time-changed',
  category: 'log_tampering',
  severity: 'medium',
  sources: ['windows'],
  rationale:
    'A changed clock makes every later event time unreliable and can place activity outside a reviewed window.',
  references: [
    'Microsoft, 4616(S): The system time was changed ("It is normal for the Windows Time Service… to change the system time")',
    'MITRE ATT&CK T1070.006 Indicator Removal: Timestomp',
  ],
  sql: ({ events }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, 'changed the system time on', e.host, coalesce('(' || e.target || ')', ''))`,
  )}
FROM ${events} e
WHERE e.kind = 'integrity' AND e.action = 'system_time_changed'
  AND NOT (upper(coalesce(e.user_uid, '')) IN ('S-1-5-19', 'S-1-5-18') AND regexp_like(lower(coalesce(e.process, '')), '(^|\\\\)svchost\\.exe$'))`,
};
