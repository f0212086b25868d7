import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/**
 * A process used another account's credentials explicitly (4648: runas, a scheduled task, PsExec
 * with -u, a script's credential object). Using one's own account again (same name, whatever the
 * domain's spelling) is not flagged.
 */
export const explicitCredentials: FindingRule = {
  id: 'explicit-credentials',
  category: 'credential_use',
  severity: 'medium',
  sources: ['windows'],
  rationale:
    "Explicit credentials let a session act as another account: the activity that follows belongs to that account's rights, not the session's.",
  references: [
    'Microsoft, 4648(S): A logon was attempted using explicit credentials',
    'MITRE ATT&CK T1078 Valid Accounts; T1021 Remote Services',
  ],
  sql: ({ events }) => {
    const who = accountSql('e.user_domain', 'e.user_name', 'e.user_uid');
    return `SELECT ${singleRecordColumns(
      `concat_ws(' ', ${who}, 'used explicit credentials of', coalesce(e.target, 'another account'), 'on', e.host, coalesce('(' || e.process || ')', ''))`,
    )}
FROM (
  -- The account part of the target (\`DOMAIN\\name on server\`), without its domain: NetBIOS and DNS
  -- spellings of one domain differ (CORP vs CORP.EXAMPLE), the name does not.
  SELECT *, split_part(split_part(coalesce(target, ''), ' on ', 1), '\\', CASE WHEN strpos(split_part(coalesce(target, ''), ' on ', 1), '\\') > 0 THEN 2 ELSE 1 END) AS target_account
  FROM ${events}
) e
WHERE e.source = 'windows' AND e.event_code = '4648'
  AND lower(coalesce(e.target_account, '')) <> lower(coalesce(e.user_name, ''))`;
  },
};
