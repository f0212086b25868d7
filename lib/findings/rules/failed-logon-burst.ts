import type { FindingRuleContext } from '../finding-rule.ts';

/**
 * Failed logons grouped into bursts: per host and origin (source address, else source host, else
 * the host itself), consecutive attempts at most `burst_gap_seconds` apart. Shared by the spray and
 * brute-force rules, so both read the same bursts.
 */
export function failedLogonBurstsSql({ events, p, settings }: FindingRuleContext): string {
  return `WITH failed AS (
  SELECT record_uid, record_no, host, time_ms, user_uid, user_name, user_domain,
    coalesce(src_ip, src_host, host) AS origin,
    upper(coalesce(user_name, user_uid, '?')) AS tried
  FROM ${events} WHERE kind = 'failed_logon'
),
gaps AS (
  SELECT *, CASE WHEN time_ms - lag(time_ms) OVER (PARTITION BY host, origin ORDER BY time_ms, record_no, record_uid)
      <= ${p.add(settings.burst_gap_seconds * 1000)} THEN 0 ELSE 1 END AS starts
  FROM failed
),
numbered AS (
  SELECT *, sum(starts) OVER (PARTITION BY host, origin ORDER BY time_ms, record_no, record_uid ROWS UNBOUNDED PRECEDING) AS burst
  FROM gaps
),
bursts AS (
  SELECT host, origin, burst, count(*) AS attempts, count(DISTINCT tried) AS accounts, min(tried) AS one_account
  FROM numbered GROUP BY host, origin, burst
)
SELECT n.*, b.attempts, b.accounts, b.one_account FROM numbered n
JOIN bursts b ON b.host = n.host AND b.origin = n.origin AND b.burst = n.burst`;
}
