import { accountEventSql, type FindingRule } from '../finding-rule.ts';

/** Windows account-management events other than creation, with what each one did. */
const WINDOWS_IDS = ['4722', '4723', '4724', '4725', '4726', '4738', '4767', '4781'];
const AUDITD_TYPES = ['DEL_USER', 'USER_MGMT', 'USER_CHAUTHTOK'];
/** IAM calls that give a user a password or a key, or delete it (successful). */
const IAM_CALLS = ['CreateLoginProfile', 'UpdateLoginProfile', 'CreateAccessKey', 'DeleteUser', 'UpdateUser'];

/** An account was enabled, disabled, renamed, deleted, or given a password or a key. */
export const accountChanged: FindingRule = {
  id: 'account-changed',
  category: 'account_change',
  severity: 'medium',
  sources: ['windows', 'linux_auditd', 'cloudtrail'],
  rationale:
    'Enabling a dormant account, resetting its password or giving it console access or a key hands it to whoever did it; each change must match an approved request.',
  references: [
    'Microsoft, 4722, 4723, 4724, 4725, 4726, 4738, 4767, 4781 (Audit User Account Management)',
    'auditd: DEL_USER, USER_MGMT, USER_CHAUTHTOK',
    'AWS IAM API Reference: CreateLoginProfile, UpdateLoginProfile, CreateAccessKey, DeleteUser, UpdateUser',
    'MITRE ATT&CK T1098 Account Manipulation, T1098.001 Additional Cloud Credentials',
  ],
  sql: accountEventSql({ windowsIds: WINDOWS_IDS, auditdTypes: AUDITD_TYPES, iamCalls: IAM_CALLS }),
};
