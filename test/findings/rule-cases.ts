/**
 * Hand-written cases of the findings rule catalogue: for each rule, events that raise its finding
 * (non-compliant) and events that must not (compliant). Shared by the DuckDB tests and the Trino
 * conformance test.
 */
import { type Config, parseConfig } from '../../lib/config/config.ts';
import type { Ev } from './rule-harness.ts';

let n = 0;
const uid = () => `r${++n}`;
const admin = {
  user_uid: 'S-1-5-21-1-2-3-1105',
  user_name: 'adm.jdoe',
  user_domain: 'CORP',
  session_uid: '0x10',
};
export const win = (event_code: string, kind: string, action: string, extra: Partial<Ev> = {}): Ev => ({
  record_uid: uid(),
  event_code,
  kind,
  action,
  time: 1,
  ...admin,
  ...extra,
});
export const logon = (extra: Partial<Ev> = {}): Ev =>
  win('4624', 'logon', 'logon', { time: 0, logon_type_id: 10, is_elevated: true, ...extra });
export const process = (command_line: string, extra: Partial<Ev> = {}): Ev =>
  win('4688', 'activity', 'process_created', {
    command_line,
    process: 'C:\\Windows\\System32\\net.exe',
    ...extra,
  });
const ct = (event_code: string, kind: string, action: string, extra: Partial<Ev> = {}): Ev => ({
  record_uid: uid(),
  source: 'cloudtrail',
  host: '111122223333',
  event_code,
  kind,
  action,
  time: 1,
  user_uid: 'arn:aws:iam::111122223333:user/bert-jan',
  user_name: 'user/bert-jan',
  user_domain: '111122223333',
  session_uid: 'AKIAEXAMPLE',
  src_ip: '198.51.100.7',
  ...extra,
});
export const failed = (time: number, user_name: string, src_ip = '10.0.0.9'): Ev =>
  win('4625', 'failed_logon', 'logon_failed', {
    time,
    user_name,
    user_uid: undefined,
    session_uid: undefined,
    src_ip,
  });
const console = (mfa: 'Yes' | 'No', user = 'user/alice'): Ev =>
  ct('signin.amazonaws.com:ConsoleLogin', 'logon', 'ConsoleLogin', {
    user_uid: `arn:aws:iam::111122223333:${user}`,
    user_name: user,
    session_uid: `arn:aws:iam::111122223333:${user}@2024-03-05T10:00:01Z`,
    details: JSON.stringify({ how: 'console ConsoleLogin', mfa }),
  });

const breakGlass = parseConfig({ findings: { break_glass: { names: ['breakglass'] } } });

/** [rule, case, events, findings expected, text the statement holds, configuration]. */
export const CASES: readonly (readonly [string, string, readonly Ev[], number, string?, Config?])[] = [
  [
    'audit-log-cleared',
    'a 1102',
    [win('1102', 'integrity', 'log_cleared')],
    1,
    'Security log cleared on WS01 by CORP\\adm.jdoe',
  ],
  ['audit-log-cleared', 'a boot only', [win('4608', 'boot', 'system_start', { session_uid: undefined })], 0],
  [
    'audit-logging-stopped',
    'a 1100 the host outlives',
    [
      win('1100', 'integrity', 'audit_service_stopped', { session_uid: undefined }),
      process('whoami', { time: 5 }),
    ],
    1,
    'Audit logging stopped on WS01 while the host stayed up',
  ],
  [
    'audit-logging-stopped',
    'a 1100 followed by a boot',
    [
      win('1100', 'integrity', 'audit_service_stopped', { session_uid: undefined }),
      win('4608', 'boot', 'system_start', { time: 60, session_uid: undefined }),
    ],
    0,
  ],
  [
    'audit-logging-stopped',
    'a denied StopLogging',
    [ct('cloudtrail.amazonaws.com:StopLogging', 'integrity', 'StopLogging failed: AccessDenied')],
    1,
    'user/bert-jan tried to stop audit logging in account 111122223333 with StopLogging (failed: AccessDenied)',
  ],
  [
    'audit-logging-stopped',
    'a DeleteTrail',
    [ct('cloudtrail.amazonaws.com:DeleteTrail', 'integrity', 'DeleteTrail')],
    1,
    'stopped audit logging in account 111122223333 with DeleteTrail',
  ],
  [
    'audit-logging-stopped',
    'auditctl -e 0',
    [
      win('CONFIG_CHANGE', 'integrity', 'audit_disabled', {
        source: 'linux_auditd',
        user_uid: '1000',
        user_name: 'bob',
        user_domain: undefined,
        session_uid: '3',
      }),
    ],
    1,
    'bob switched auditing off on WS01',
  ],
  [
    'audit-policy-changed',
    'a 4719',
    [win('4719', 'integrity', 'audit_policy_changed', { target: '%%12290 %%8449' })],
    1,
    'changed the audit policy on WS01 (4719: %%12290 %%8449)',
  ],
  [
    'audit-policy-changed',
    'a PutEventSelectors',
    [ct('cloudtrail.amazonaws.com:PutEventSelectors', 'integrity', 'PutEventSelectors')],
    1,
    'changed audit logging in account 111122223333 with PutEventSelectors',
  ],
  [
    'audit-policy-changed',
    'auditd rules loaded at boot (auid unset)',
    [
      win('CONFIG_CHANGE', 'integrity', 'audit_policy_changed', {
        source: 'linux_auditd',
        user_uid: undefined,
        user_name: undefined,
        user_domain: undefined,
        session_uid: undefined,
      }),
    ],
    0,
  ],
  [
    'system-time-changed',
    'a 4616 from cmd',
    [win('4616', 'integrity', 'system_time_changed', { process: 'C:\\Windows\\System32\\cmd.exe' })],
    1,
    'changed the system time on WS01',
  ],
  [
    'system-time-changed',
    'the Windows Time service',
    [
      win('4616', 'integrity', 'system_time_changed', {
        user_uid: 'S-1-5-19',
        user_name: 'LOCAL SERVICE',
        process: 'C:\\Windows\\System32\\svchost.exe',
      }),
    ],
    0,
  ],
  [
    'account-created',
    'a 4720 by SYSTEM',
    [
      win('4720', 'activity', 'user_created', {
        user_uid: 'S-1-5-18',
        user_name: 'WS01$',
        user_domain: 'CORP',
        session_uid: '0x3e7',
        target: 'WS01\\backdoor S-1-5-21-1-2-3-1107',
      }),
    ],
    1,
    'CORP\\WS01$ created account WS01\\backdoor S-1-5-21-1-2-3-1107 on WS01',
  ],
  ['account-created', 'a process', [process('whoami')], 0],
  [
    'account-changed',
    'a 4738',
    [win('4738', 'activity', 'user_changed', { target: 'CORP\\bob' })],
    1,
    'CORP\\adm.jdoe user changed CORP\\bob on WS01 (4738)',
  ],
  [
    'account-changed',
    'a CreateLoginProfile',
    [ct('iam.amazonaws.com:CreateLoginProfile', 'activity', 'CreateLoginProfile', { target: 'newuser' })],
    1,
    'CreateLoginProfile newuser on 111122223333',
  ],
  [
    'account-changed',
    'a denied CreateLoginProfile',
    [ct('iam.amazonaws.com:CreateLoginProfile', 'activity', 'CreateLoginProfile failed: AccessDenied')],
    0,
  ],
  [
    'group-membership-changed',
    'a 4732',
    [
      win('4732', 'activity', 'group_member_added', {
        target: 'S-1-5-21-1-2-3-1107 -> Builtin\\Administrators',
      }),
    ],
    1,
    'group member added S-1-5-21-1-2-3-1107 -> Builtin\\Administrators',
  ],
  [
    'group-membership-changed',
    'a 4729 removal',
    [win('4729', 'activity', 'group_member_removed')],
    1,
    'group member removed',
  ],
  ['group-membership-changed', 'a process', [process('whoami')], 0],
  [
    'iam-policy-granted',
    'an AttachUserPolicy',
    [ct('iam.amazonaws.com:AttachUserPolicy', 'activity', 'AttachUserPolicy', { target: 'newuser' })],
    1,
    'AttachUserPolicy newuser in account 111122223333',
  ],
  [
    'iam-policy-granted',
    'a denied AttachUserPolicy',
    [ct('iam.amazonaws.com:AttachUserPolicy', 'activity', 'AttachUserPolicy failed: AccessDenied')],
    0,
  ],
  [
    'sid-history-added',
    'a 4765',
    [win('4765', 'activity', 'sid_history_added', { target: 'CORP\\bob' })],
    1,
    'added SID history to CORP\\bob',
  ],
  ['sid-history-added', 'a 4738', [win('4738', 'activity', 'user_changed')], 0],
  [
    'dsrm-password-set',
    'a 4794',
    [win('4794', 'activity', 'dsrm_password_set')],
    1,
    'set the DSRM administrator password on WS01',
  ],
  ['dsrm-password-set', 'a 4738', [win('4738', 'activity', 'user_changed')], 0],
  [
    'password-spray',
    'three accounts within two seconds',
    [failed(1, 'alice'), failed(2, 'bob'), failed(3, 'carol')],
    1,
    '3 failed logons for 3 accounts from 10.0.0.9 on WS01 at most 60 s apart',
  ],
  [
    'password-spray',
    'three accounts five minutes apart',
    [failed(1, 'alice'), failed(301, 'bob'), failed(601, 'carol')],
    0,
  ],
  [
    'password-spray',
    'three accounts from three places',
    [failed(1, 'alice', 'a'), failed(2, 'bob', 'b'), failed(3, 'carol', 'c')],
    0,
  ],
  [
    'brute-force',
    'ten attempts on one account',
    Array.from({ length: 10 }, (_, i) => failed(i + 1, 'alice')),
    1,
    '10 failed logons for alice from 10.0.0.9 on WS01',
  ],
  ['brute-force', 'nine attempts', Array.from({ length: 9 }, (_, i) => failed(i + 1, 'alice')), 0],
  [
    'failed-logons',
    'two attempts on one account',
    [failed(1, 'alice'), failed(400, 'alice')],
    1,
    '2 failed logons of CORP\\alice on WS01',
  ],
  ['failed-logons', 'a logon', [logon()], 0],
  [
    'explicit-credentials',
    'a 4648 for another account',
    [win('4648', 'activity', 'explicit_credentials', { target: 'CORP\\pgustavo on HR001' })],
    1,
    'used explicit credentials of CORP\\pgustavo on HR001',
  ],
  [
    'explicit-credentials',
    'a 4648 for its own account',
    [win('4648', 'activity', 'explicit_credentials', { target: 'CORP.EXAMPLE\\adm.jdoe on HR001' })],
    0,
  ],
  [
    'newcredentials-logon',
    'a type 9 logon',
    [logon({ logon_type_id: 9, target: 'CORP\\svc-sql' })],
    1,
    'acting on the network as CORP\\svc-sql',
  ],
  ['newcredentials-logon', 'a type 10 logon', [logon()], 0],
  [
    'privileged-account-use',
    'the AWS root user signs in',
    [
      ct('signin.amazonaws.com:ConsoleLogin', 'logon', 'ConsoleLogin', {
        user_uid: 'arn:aws:iam::111122223333:root',
        user_name: 'root',
        session_uid: 'root@x',
      }),
    ],
    1,
    '(root or built-in administrator) began a session on 111122223333 from 198.51.100.7',
  ],
  ['privileged-account-use', 'an IAM user signs in', [console('Yes')], 0],
  [
    'privileged-account-use',
    'a direct root login over ssh',
    [
      logon({
        source: 'linux_auditd',
        event_code: 'LOGIN',
        user_uid: '0',
        user_name: 'root',
        user_domain: undefined,
        session_uid: '7',
      }),
    ],
    1,
    'root (root or built-in administrator) began a session on WS01',
  ],
  [
    'privileged-account-use',
    "root's cron job (batch logon)",
    [
      logon({
        source: 'linux_auditd',
        event_code: 'LOGIN',
        user_uid: '0',
        user_name: 'root',
        user_domain: undefined,
        session_uid: '8',
        logon_type_id: 4,
      }),
    ],
    0,
  ],
  [
    'privileged-account-use',
    'a configured break-glass account',
    [logon({ user_name: 'breakglass' })],
    1,
    '(break-glass account)',
    breakGlass,
  ],
  [
    'console-login-without-mfa',
    'MFAUsed No',
    [console('No')],
    1,
    'user/alice signed in to the AWS console without MFA in account 111122223333',
  ],
  ['console-login-without-mfa', 'MFAUsed Yes', [console('Yes')], 0],
  [
    'console-login-without-mfa',
    'a federated role (MFA at the identity provider)',
    [console('No', 'assumed-role/Admin/alice')],
    0,
  ],
  [
    'conflicting-record-versions',
    'two 4624 under one RecordNumber naming different accounts',
    [
      logon({ record_uid: 'WS01|security|4711|4624', record_no: 4711 }),
      logon({
        record_uid: 'WS01|security|4711|4624',
        record_no: 4711,
        user_uid: 'S-1-5-21-1-2-3-500',
        user_name: 'Administrator',
      }),
    ],
    1,
    '2 different records on WS01 share the identity of one windows record (WS01|security|4711|4624)',
  ],
  [
    'conflicting-record-versions',
    'one 4624 delivered twice, and two records of their own',
    [
      logon({ record_uid: 'WS01|security|4711|4624', record_no: 4711 }),
      logon({ record_uid: 'WS01|security|4711|4624', record_no: 4711 }),
      logon({ record_uid: 'WS01|security|4712|4624', record_no: 4712, user_name: 'Administrator' }),
    ],
    0,
  ],
  [
    'secret-on-command-line',
    'net user /add with a password',
    [process('net user /add backdoor paw0rd1')],
    1,
    'CORP\\adm.jdoe put a password on a command line on WS01 (net.exe)',
  ],
  [
    'secret-on-command-line',
    'net user /add without one, and svchost -p',
    [
      process('net user backdoor /add'),
      process('net user bob * /add'),
      process('svchost.exe -k netsvcs -p -s wuauserv'),
    ],
    0,
  ],
];
