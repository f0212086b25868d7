/** The findings rule catalogue: one line per rule, in the order the pack lists rules. */
import type { FindingRule } from '../finding-rule.ts';
import { accountChanged } from './account-changed.ts';
import { accountCreated } from './account-created.ts';
import { auditLogCleared } from './audit-log-cleared.ts';
import { auditLoggingStopped } from './audit-logging-stopped.ts';
import { auditPolicyChanged } from './audit-policy-changed.ts';
import { bruteForce } from './brute-force.ts';
import { conflictingRecordVersions } from './conflicting-record-versions.ts';
import { consoleLoginWithoutMfa } from './console-login-without-mfa.ts';
import { dsrmPasswordSet } from './dsrm-password-set.ts';
import { explicitCredentials } from './explicit-credentials.ts';
import { failedLogons } from './failed-logons.ts';
import { groupMembershipChanged } from './group-membership-changed.ts';
import { iamPolicyGranted } from './iam-policy-granted.ts';
import { newCredentialsLogon } from './newcredentials-logon.ts';
import { passwordSpray } from './password-spray.ts';
import { privilegedAccountUse } from './privileged-account-use.ts';
import { secretOnCommandLine } from './secret-on-command-line.ts';
import { sidHistoryAdded } from './sid-history-added.ts';
import { systemTimeChanged } from './system-time-changed.ts';

export const FINDING_RULES: readonly FindingRule[] = [
  auditLogCleared,
  auditLoggingStopped,
  auditPolicyChanged,
  systemTimeChanged,
  conflictingRecordVersions,
  accountCreated,
  accountChanged,
  groupMembershipChanged,
  iamPolicyGranted,
  sidHistoryAdded,
  dsrmPasswordSet,
  passwordSpray,
  bruteForce,
  failedLogons,
  explicitCredentials,
  newCredentialsLogon,
  privilegedAccountUse,
  consoleLoginWithoutMfa,
  secretOnCommandLine,
];
