import { CLOUDTRAIL_TAMPERING_CALLS } from '../../sources/cloudtrail.ts';
import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

const STOPPING_CALLS = Object.entries(CLOUDTRAIL_TAMPERING_CALLS)
  .filter(([, kind]) => kind === 'logging_stopped')
  .map(([code]) => code)
  .sort();

/**
 * Audit logging stopped while the host stayed up, or switched off, or a cloud trail stopped or
 * deleted (denied attempts too). A stop that the host's next record shows to be a shutdown or a
 * reboot (the next record is a boot or shutdown) is routine and not flagged; a stop that no later
 * record of the host follows stays in the integrity list only, since the data cannot tell.
 */
export const auditLoggingStopped: FindingRule = {
  id: 'audit-logging-stopped',
  category: 'log_tampering',
  severity: 'high',
  sources: ['windows', 'linux_auditd', 'cloudtrail'],
  rationale:
    'While audit logging is stopped nothing is recorded: a stop outside a shutdown, or an attempt to stop a trail, is how an intruder blinds the review.',
  references: [
    'Microsoft, 1100(S): The event logging service has shut down',
    'auditd: DAEMON_END, CONFIG_CHANGE audit_enabled=0 (linux-audit, audit-userspace lib/msg_typetab.h; auditctl(8) -e)',
    'AWS CloudTrail API Reference: StopLogging, DeleteTrail, DeleteEventDataStore; AWS Config StopConfigurationRecorder; Security Lake DeleteDataLake',
    'MITRE ATT&CK T1562.002 Disable Windows Event Logging, T1562.012 Disable or Modify Linux Audit System, T1562.008 Disable or Modify Cloud Logs',
  ],
  sql: ({ events, p, d }) => {
    const who = accountSql('e.user_domain', 'e.user_name', 'e.user_uid');
    const err = `nullif(${d.regexpExtract('e.action', ' failed: (.*)$', 1)}, '')`;
    return `SELECT ${singleRecordColumns(`CASE
    WHEN e.source = 'cloudtrail' THEN concat_ws(' ', ${who}, CASE WHEN ${err} IS NULL THEN 'stopped audit logging in account' ELSE 'tried to stop audit logging in account' END,
      e.host, 'with', split_part(e.event_code, ':', 2), '(failed: ' || ${err} || ')')
    WHEN e.action = 'audit_disabled' THEN concat_ws(' ', ${who}, 'switched auditing off on', e.host)
    ELSE concat_ws(' ', 'Audit logging stopped on', e.host, 'while the host stayed up') END`)}
FROM (
  SELECT *, lead(kind) OVER (PARTITION BY host ORDER BY time_ms, record_no, record_uid) AS next_kind
  FROM ${events}
) e
WHERE e.kind = 'integrity' AND (
  (e.action = 'audit_service_stopped' AND e.next_kind IS NOT NULL AND e.next_kind NOT IN ('boot', 'shutdown'))
  OR e.action = 'audit_disabled'
  OR (e.source = 'cloudtrail' AND e.event_code IN (${p.addAll(STOPPING_CALLS)})))`;
  },
};
