/**
 * What each event code printed in the PDF means, so that a reader who does not know Windows event
 * ids or auditd record types can read the tables. Texts follow the titles of the Microsoft event
 * documentation and of the auditd record types (linux-audit `msg_typetab.h`, auditd docs).
 */
const MEANINGS: Readonly<Record<string, string>> = {
  '1100': 'Windows: the event logging service shut down',
  '1102': 'Windows: the Security audit log was cleared',
  '4608': 'Windows: Windows is starting up (a boot)',
  '4609': 'Windows: Windows is shutting down',
  '4616': 'Windows: the system time was changed',
  '4624': 'Windows: an account successfully logged on',
  '4625': 'Windows: an account failed to log on',
  '4634': 'Windows: an account was logged off',
  '4647': 'Windows: user initiated logoff',
  '4648': 'Windows: a logon was attempted using explicit credentials',
  '4663': 'Windows: an attempt was made to access an object',
  '4672': 'Windows: special privileges assigned to new logon',
  '4673': 'Windows: a privileged service was called',
  '4674': 'Windows: an operation was attempted on a privileged object',
  '4688': 'Windows: a new process has been created',
  '4697': 'Windows: a service was installed in the system',
  '4698': 'Windows: a scheduled task was created',
  '4719': 'Windows: system audit policy was changed',
  '4720': 'Windows: a user account was created',
  '4722': 'Windows: a user account was enabled',
  '4723': 'Windows: an attempt was made to change an account password',
  '4724': "Windows: an attempt was made to reset an account's password",
  '4725': 'Windows: a user account was disabled',
  '4726': 'Windows: a user account was deleted',
  '4728': 'Windows: a member was added to a security-enabled global group',
  '4729': 'Windows: a member was removed from a security-enabled global group',
  '4732': 'Windows: a member was added to a security-enabled local group',
  '4733': 'Windows: a member was removed from a security-enabled local group',
  '4738': 'Windows: a user account was changed',
  '4742': 'Windows: a computer account was changed',
  '4740': 'Windows: a user account was locked out',
  '4756': 'Windows: a member was added to a security-enabled universal group',
  '4757': 'Windows: a member was removed from a security-enabled universal group',
  '4765': 'Windows: SID History was added to an account',
  '4767': 'Windows: a user account was unlocked',
  '4778': 'Windows: a session was reconnected to a Window Station (RDP)',
  '4779': 'Windows: a session was disconnected from a Window Station (RDP)',
  '4781': 'Windows: the name of an account was changed',
  '4794': 'Windows: an attempt was made to set the Directory Services Restore Mode administrator password',
  '4906': 'Windows: the CrashOnAuditFail value has changed',
  '4912': 'Windows: per-user audit policy was changed',
  LOGIN: 'auditd: login session id and login uid assigned (a logon)',
  USER_LOGIN: 'auditd: a user logged in (or failed to)',
  USER_LOGOUT: 'auditd: a user logged out',
  USER_START: 'auditd: a PAM session was opened',
  USER_END: 'auditd: a PAM session was closed',
  USER_AUTH: 'auditd: a user authenticated (or failed to)',
  USER_ACCT: 'auditd: a user account was checked for access',
  USER_ERR: 'auditd: a user account state error',
  USER_CMD: 'auditd: a command run through sudo',
  CRED_ACQ: 'auditd: credentials acquired',
  CRED_DISP: 'auditd: credentials disposed',
  CRED_REFR: 'auditd: credentials refreshed',
  SYSCALL: 'auditd: a system call (with its command line when a program was executed)',
  ADD_USER: 'auditd: a user account was added',
  DEL_USER: 'auditd: a user account was deleted',
  USER_MGMT: 'auditd: a user account was changed',
  USER_CHAUTHTOK: "auditd: a user's password was changed",
  ADD_GROUP: 'auditd: a group was added',
  DEL_GROUP: 'auditd: a group was deleted',
  GRP_MGMT: 'auditd: a group was changed',
  SYSTEM_BOOT: 'auditd: the system booted',
  SYSTEM_SHUTDOWN: 'auditd: the system shut down',
  DAEMON_START: 'auditd: the audit daemon started',
  DAEMON_END: 'auditd: the audit daemon stopped',
  DAEMON_ABORT: 'auditd: the audit daemon aborted',
  CONFIG_CHANGE: 'auditd: the audit configuration (rules or settings) was changed',
};

/** The meaning of an event code as the legend prints it. */
export function eventMeaning(code: string): string {
  const known = MEANINGS[code];
  if (known !== undefined) return known;
  const api = /^([a-z0-9-]+)\.amazonaws\.com:(.+)$/.exec(code);
  if (api) return `AWS CloudTrail: the ${api[2]} API of ${api[1]} was called`;
  return 'as the source names it (no description on file)';
}
