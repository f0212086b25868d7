import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/**
 * Patterns whose first group is a secret written on a command line (case-insensitive): `net user
 * <name> <password>` (any `/option` around them; `*` prompts and is not a secret), PowerShell's
 * `ConvertTo-SecureString '<text>' -AsPlainText`, `--password <x>` / `-password=<x>`, `password=<x>`
 * in connection strings, `sshpass -p <x>`. RE2 and Joni syntax alike (DuckDB, Trino).
 */
export const SECRET_PATTERNS: readonly string[] = [
  '(?i)\\bnet1?(?:\\.exe)?"?\\s+user\\s+(?:/\\S+\\s+)*[^\\s/]+\\s+(?:/\\S+\\s+)*([^\\s/*"][^\\s"]*)',
  '(?i)ConvertTo-SecureString\\s+(?:-String\\s+)?["\']([^"\']+)["\']\\s+-AsPlainText',
  '(?i)(?:^|\\s)--?pass(?:word|wd)?(?:=|\\s+)["\']?([^\\s"\'(]+)',
  '(?i)\\bpassword=([^\\s&;"\']+)',
  '(?i)\\bsshpass\\s+-p\\s*["\']?([^\\s"\']+)',
];

/** A secret written on a command line: flagged, and redacted from the pack unless configured otherwise. */
export const secretOnCommandLine: FindingRule = {
  id: 'secret-on-command-line',
  category: 'secret_exposure',
  severity: 'high',
  sources: ['windows', 'linux_auditd', 'linux_auth'],
  rationale:
    'A password on a command line is written to every log that records process creation, readable by anyone who reads those logs; the account must be treated as exposed.',
  references: [
    'Microsoft, 4688(S): A new process has been created (Process Command Line)',
    'auditd: EXECVE arguments; sudo USER_CMD',
    'MITRE ATT&CK T1552 Unsecured Credentials; T1136.001 Create Account: Local Account (net user /add)',
  ],
  sql: ({ events, d }) => {
    const secret = `coalesce(${SECRET_PATTERNS.map((re) => `nullif(${d.regexpExtract('e.command_line', re, 1)}, '')`).join(', ')})`;
    return `SELECT ${singleRecordColumns(
      `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, 'put a password on a command line on', e.host,
        coalesce('(' || nullif(${d.regexpExtract('e.process', '([^\\\\/]+)$', 1)}, '') || ')', ''))`,
      'e.secret',
    )}
FROM (SELECT *, ${secret.replaceAll('e.command_line', 'command_line')} AS secret FROM ${events} WHERE command_line IS NOT NULL) e
WHERE e.secret IS NOT NULL`;
  },
};
