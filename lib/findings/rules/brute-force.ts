import type { FindingRule } from '../finding-rule.ts';
import { failedLogonBurstsSql } from './failed-logon-burst.ts';

/** One origin failed `brute_force_attempts` times or more in one burst on fewer accounts than a spray. */
export const bruteForce: FindingRule = {
  id: 'brute-force',
  category: 'failed_logon',
  severity: 'high',
  sources: ['windows', 'linux_auditd', 'linux_auth', 'cloudtrail', 'ocsf'],
  rationale:
    'Repeated failed logons from one place within seconds is password guessing against the accounts tried.',
  references: [
    'Microsoft, 4625(F): An account failed to log on',
    'auditd: USER_AUTH / USER_LOGIN res=failed; AWS CloudTrail ConsoleLogin Failure',
    'MITRE ATT&CK T1110.001 Brute Force: Password Guessing; DC0088 Logon Session Creation',
  ],
  sql: (
    ctx,
  ) => `SELECT concat_ws('|', 'brute', b.host, b.origin, CAST(b.burst AS VARCHAR)) AS finding_key, b.record_uid,
  concat_ws(' ', CAST(b.attempts AS VARCHAR), 'failed logons for', CASE WHEN b.accounts = 1 THEN b.user_name ELSE CAST(b.accounts AS VARCHAR) || ' accounts' END,
    'from', b.origin, 'on', b.host, 'at most', CAST(${ctx.p.add(ctx.settings.burst_gap_seconds)} AS VARCHAR), 's apart') AS statement,
  CASE WHEN b.accounts = 1 THEN b.user_uid END AS subject_uid, CASE WHEN b.accounts = 1 THEN b.user_name END AS subject_name,
  CASE WHEN b.accounts = 1 THEN b.user_domain END AS subject_domain, CAST(NULL AS VARCHAR) AS secret
FROM (${failedLogonBurstsSql(ctx)}) b
WHERE b.attempts >= ${ctx.p.add(ctx.settings.brute_force_attempts)} AND b.accounts < ${ctx.p.add(ctx.settings.spray_accounts)}`,
};
