import type { FindingRule } from '../finding-rule.ts';
import { failedLogonBurstsSql } from './failed-logon-burst.ts';

/** One origin failed to log on to `spray_accounts` or more accounts in one burst. */
export const passwordSpray: FindingRule = {
  id: 'password-spray',
  category: 'failed_logon',
  severity: 'high',
  sources: ['windows', 'linux_auditd', 'linux_auth', 'cloudtrail', 'ocsf'],
  rationale:
    'Many accounts tried from one place within seconds is a password spray: one common password against every account, below each lockout threshold.',
  references: [
    'Microsoft, 4625(F): An account failed to log on',
    'auditd: USER_AUTH / USER_LOGIN res=failed; AWS CloudTrail ConsoleLogin Failure',
    'MITRE ATT&CK T1110.003 Brute Force: Password Spraying; DC0088 Logon Session Creation',
  ],
  sql: (
    ctx,
  ) => `SELECT concat_ws('|', 'spray', b.host, b.origin, CAST(b.burst AS VARCHAR)) AS finding_key, b.record_uid,
  concat_ws(' ', CAST(b.attempts AS VARCHAR), 'failed logons for', CAST(b.accounts AS VARCHAR), 'accounts from', b.origin, 'on', b.host,
    'at most', CAST(${ctx.p.add(ctx.settings.burst_gap_seconds)} AS VARCHAR), 's apart') AS statement,
  CAST(NULL AS VARCHAR) AS subject_uid, CAST(NULL AS VARCHAR) AS subject_name, CAST(NULL AS VARCHAR) AS subject_domain,
  CAST(NULL AS VARCHAR) AS secret
FROM (${failedLogonBurstsSql(ctx)}) b
WHERE b.accounts >= ${ctx.p.add(ctx.settings.spray_accounts)}`,
};
