import { accountSql, type FindingRule, singleRecordColumns } from '../finding-rule.ts';

/**
 * An IAM user or the root user signed in to the AWS console without MFA (`additionalEventData.MFAUsed`
 * "No"). Federated and Identity Center sign-ins are not flagged: their MFA happens at the identity
 * provider, which CloudTrail does not see.
 */
export const consoleLoginWithoutMfa: FindingRule = {
  id: 'console-login-without-mfa',
  category: 'credential_use',
  severity: 'high',
  sources: ['cloudtrail'],
  rationale:
    'A console password without MFA is one phished or guessed secret away from the account; a new user signing in without MFA right after creation is a typical takeover.',
  references: [
    'AWS CloudTrail User Guide: CloudTrail log file examples for sign-in events (additionalEventData.MFAUsed)',
    'AWS Security Hub control IAM.5: MFA should be enabled for all IAM users that have a console password',
    'MITRE ATT&CK T1078.004 Valid Accounts: Cloud Accounts',
  ],
  sql: ({ events }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')}, 'signed in to the AWS console without MFA in account', e.host, coalesce('from ' || e.src_ip, ''))`,
  )}
FROM ${events} e
WHERE e.source = 'cloudtrail' AND e.kind = 'logon' AND e.event_code = 'signin.amazonaws.com:ConsoleLogin'
  AND json_extract_scalar(e.details, '$.mfa') = 'No'
  AND regexp_like(coalesce(e.user_uid, ''), '^arn:aws[a-z-]*:iam::[0-9]+:(root|user/.+)$')`,
};
