import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/** A NewCredentials logon (type 9, `runas /netonly`): local identity unchanged, another one on the network. */
export const newCredentialsLogon: FindingRule = {
  id: 'newcredentials-logon',
  category: 'credential_use',
  severity: 'medium',
  sources: ['windows'],
  rationale:
    'A type 9 logon keeps the local identity but authenticates to other hosts as its outbound account: network activity of the session is done under a name the session does not show.',
  references: [
    'Microsoft, 4624(S): An account was successfully logged on (Logon Type 9 NewCredentials; Network Account Name)',
    'MITRE ATT&CK T1134.001 Token Impersonation/Theft; T1550.002 Pass the Hash',
  ],
  sql: ({ events }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, 'began a NewCredentials logon (type 9) on', e.host,
      'acting on the network as', coalesce(e.target, 'an account the log does not name'))`,
  )}
FROM ${events} e WHERE e.kind = 'logon' AND e.logon_type_id = 9`,
};
