import { accountEventSql, type FindingRule } from '../finding-rule.ts';

const WINDOWS_IDS = ['4728', '4732', '4756', '4729', '4733', '4757'];
const AUDITD_TYPES = ['ADD_GROUP', 'GRP_MGMT', 'DEL_GROUP'];
const IAM_CALLS = ['AddUserToGroup', 'RemoveUserFromGroup'];

/** A member was added to or removed from a security group, or a group created or changed. */
export const groupMembershipChanged: FindingRule = {
  id: 'group-membership-changed',
  category: 'account_change',
  severity: 'medium',
  sources: ['windows', 'linux_auditd', 'cloudtrail'],
  rationale:
    'Group membership is how privilege is granted: an addition (and a removal that hides it again) must match an approved request.',
  references: [
    'Microsoft, 4728/4732/4756 (member added), 4729/4733/4757 (member removed) (Audit Security Group Management)',
    'auditd: ADD_GROUP, GRP_MGMT, DEL_GROUP',
    'AWS IAM API Reference: AddUserToGroup, RemoveUserFromGroup',
    'MITRE ATT&CK T1098.007 Account Manipulation: Additional Local or Domain Groups',
  ],
  sql: accountEventSql({ windowsIds: WINDOWS_IDS, auditdTypes: AUDITD_TYPES, iamCalls: IAM_CALLS }),
};
