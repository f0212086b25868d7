/**
 * The auditd source's normalising query, on real DuckDB: each record type, hex and ENRICHED forms,
 * old and new PAM syntax, and the real datasets counted independently in TypeScript.
 */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../lib/query/query-engine.ts';
import {
  AUDITD_AUXILIARY_TYPES,
  AUDITD_EVENT_TYPES,
  buildLinuxAuditdNormaliseQuery,
  UNSET_SESSION,
} from '../../lib/sources/linux-auditd.ts';
import { dataset } from '../helpers/datasets.ts';

let engine: DuckDbEngine;
let dir: string;

beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'st-auditd-'));
});
afterAll(async () => {
  await engine.close();
});

async function normaliseFiles(files: { path: string; key: string }[]): Promise<Row[]> {
  await engine.materialize('lines', buildLinuxAuditdNormaliseQuery(engine.dialect, { kind: 'files', files }));
  return (
    await engine.select({
      name: 't',
      sql: 'SELECT * FROM lines ORDER BY time_ms, record_no, event_code',
      params: [],
    })
  ).rows;
}

async function normalise(lines: string[], key = 'web01.log'): Promise<Row[]> {
  const path = join(dir, `f${Math.random().toString(36).slice(2)}.log`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return normaliseFiles([{ path, key }]);
}

const SSH = [
  `type=USER_AUTH msg=audit(1709647331.120:4410): pid=20811 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=203.0.113.9 addr=203.0.113.9 terminal=ssh res=success'`,
  `type=CRED_ACQ msg=audit(1709647331.131:4412): pid=20811 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:setcred grantors=pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=203.0.113.9 addr=203.0.113.9 terminal=ssh res=success'`,
  `type=LOGIN msg=audit(1709647331.133:4413): pid=20811 uid=0 old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=5 res=1`,
  `type=USER_START msg=audit(1709647331.140:4414): pid=20811 uid=0 auid=1000 ses=5 msg='op=PAM:session_open grantors=pam_loginuid,pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=203.0.113.9 addr=203.0.113.9 terminal=ssh res=success'`,
  `type=USER_LOGIN msg=audit(1709647331.152:4416): pid=20815 uid=0 auid=1000 ses=5 msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=203.0.113.9 addr=203.0.113.9 terminal=/dev/pts/0 res=success'`,
  `type=USER_CMD msg=audit(1709647420.010:4431): pid=20900 uid=1000 auid=1000 ses=5 msg='cwd="/home/alice" cmd=73797374656D63746C2072657374617274206E67696E78 exe="/usr/bin/sudo" terminal=pts/0 res=success'`,
  `type=USER_START msg=audit(1709647420.015:4433): pid=20900 uid=0 auid=1000 ses=5 msg='op=PAM:session_open grantors=pam_unix acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success'`,
  `type=SYSCALL msg=audit(1709647420.020:4434): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=20900 pid=20901 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=5 comm="systemctl" exe="/usr/bin/systemctl" key="priv_exec"`,
  `type=EXECVE msg=audit(1709647420.020:4434): argc=3 a0="systemctl" a1="restart" a2=6E67696E7820776562`,
  `type=CWD msg=audit(1709647420.020:4434): cwd="/home/alice"`,
  `type=PROCTITLE msg=audit(1709647420.020:4434): proctitle=73797374656D63746C00726573746172740061`,
  `type=EOE msg=audit(1709647420.020:4434): `,
  `type=USER_END msg=audit(1709647421.300:4440): pid=20900 uid=0 auid=1000 ses=5 msg='op=PAM:session_close grantors=pam_unix acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success'`,
  `type=USER_END msg=audit(1709648402.700:4502): pid=20811 uid=0 auid=1000 ses=5 msg='op=PAM:session_close grantors=pam_loginuid,pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=203.0.113.9 addr=203.0.113.9 terminal=ssh res=success'`,
];

describe('buildLinuxAuditdNormaliseQuery', () => {
  it('maps an ssh login, sudo and logout (domain notes §2.3) record by record', async () => {
    const rows = (await normalise(SSH)).filter((r) => r.status === 'event');
    expect(
      rows.map((r) => [r.event_code, r.kind, r.action, r.session_uid, r.user_uid, r.is_elevated]),
    ).toEqual([
      // before pam_loginuid assigns ses, sshd (uid 0) acts without a login session: kept, keyed by its pid
      ['USER_AUTH', 'activity', 'authenticated', 'unset:sshd[20811]', '0', null],
      ['CRED_ACQ', 'activity', 'credentials_acquired', 'unset:sshd[20811]', '0', null],
      ['LOGIN', 'logon', 'login', '5', '1000', false],
      ['USER_START', 'activity', 'session_opened', '5', '1000', null],
      ['USER_LOGIN', 'activity', 'user_login', '5', '1000', null],
      ['USER_CMD', 'activity', 'sudo_command', '5', '1000', null],
      ['USER_START', 'privilege', 'elevated_session_opened', '5', '1000', true],
      ['SYSCALL', 'activity', 'process_executed', '5', '1000', true],
      ['USER_END', 'activity', 'elevated_session_closed', '5', '1000', null],
      ['USER_END', 'logoff', 'session_closed', '5', '1000', null],
    ]);
    const login = rows.find((r) => r.event_code === 'LOGIN') as Row;
    expect(login).toMatchObject({
      host: 'WEB01',
      time_ms: 1709647331133,
      record_uid: 'WEB01|1709647331.133|4413|LOGIN',
      user_name: 'alice',
      logon_type_id: 10,
      src_ip: '203.0.113.9',
      process: '/usr/sbin/sshd',
      logon_process: 'sshd',
      raw_ref: 'web01.log#audit(1709647331.133:4413)/LOGIN',
    });
    expect(JSON.parse(String(login.details))).toMatchObject({
      tty: '/dev/pts/0',
      pam_terminal: 'ssh',
      elevated_to_root_via: 'sudo',
      sudo_commands: '1',
      root_syscalls: '1',
    });
    const sudo = rows.find((r) => r.event_code === 'USER_CMD') as Row;
    expect(sudo.command_line).toBe('systemctl restart nginx');
    const exec = rows.find((r) => r.event_code === 'SYSCALL') as Row;
    expect(exec).toMatchObject({
      process: '/usr/bin/systemctl',
      command_line: 'systemctl restart nginx web',
    });
  });

  it.each([
    [
      'old PAM syntax (RHEL 5): acct=root : exe=… (hostname=?, …)',
      `type=USER_START msg=audit(1170021601.344:297): user pid=13015 uid=0 auid=0 ses=7 subj=system_u:system_r:crond_t:s0-s0:c0.c1023 msg='PAM: session open acct=root : exe="/usr/sbin/crond" (hostname=?, addr=?, terminal=cron res=success)'`,
      {
        kind: 'activity',
        action: 'session_opened',
        session_uid: '7',
        user_name: 'root',
        process: '/usr/sbin/crond',
      },
    ],
    [
      'old LOGIN syntax: new auid / new ses',
      'type=LOGIN msg=audit(1170021601.343:296): login pid=13015 uid=0 old auid=4294967295 new auid=0 old ses=4294967295 new ses=7',
      { kind: 'logon', user_uid: '0', session_uid: '7', is_elevated: true },
    ],
    [
      'failed login with a hex acct',
      `type=USER_LOGIN msg=audit(1492896301.818:19955): pid=12635 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=28696E76616C6964207573657229 exe="/usr/sbin/sshd" hostname=? addr=179.38.151.221 terminal=sshd res=failed'`,
      { kind: 'failed_logon', user_name: '(invalid user)', src_ip: '179.38.151.221', session_uid: null },
    ],
    [
      'su from an unset auid: privilege row under the marker session of the su process',
      `type=USER_START msg=audit(1709650000.000:5000): pid=3001 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:session_open grantors=pam_unix acct="root" exe="/usr/bin/su" hostname=? addr=? terminal=none res=success'`,
      { kind: 'privilege', session_uid: `${UNSET_SESSION}:su[3001]`, user_uid: '0', is_elevated: true },
    ],
    [
      'ENRICHED format: names after the 0x1D separator',
      `node=db02 type=USER_CMD msg=audit(1709647420.010:4431): pid=20900 uid=1000 auid=1000 ses=5 msg='cwd="/" cmd="id" exe="/usr/bin/sudo" terminal=pts/1 res=success'\u001dUID="alice" AUID="alice"`,
      { host: 'DB02', user_name: 'alice', command_line: 'id' },
    ],
    [
      'account change (ADD_USER)',
      `type=ADD_USER msg=audit(1481076992.488:389): pid=1264 uid=0 auid=1000 ses=3 msg='op=add-user id=1001 exe="/usr/sbin/useradd" hostname=? addr=? terminal=pts/0 res=success'`,
      { kind: 'activity', action: 'user_created', session_uid: '3', target: 'add-user id 1001' },
    ],
    [
      'SYSTEM_BOOT begins a boot epoch',
      `type=SYSTEM_BOOT msg=audit(1481076983.876:7): pid=273 uid=0 auid=4294967295 ses=4294967295 msg=' comm="systemd-update-utmp" exe="/usr/lib/systemd/systemd-update-utmp" hostname=? addr=? terminal=? res=success'`,
      { kind: 'boot', session_uid: null },
    ],
    [
      'DAEMON_END is the audit service stopping',
      'type=DAEMON_END msg=audit(1481078697.892:7799): auditd normal halt, sending auid=? pid=? subj=? res=success',
      { kind: 'integrity', action: 'audit_service_stopped' },
    ],
    [
      'CONFIG_CHANGE audit_enabled=0 is auditing switched off, in its session',
      'type=CONFIG_CHANGE msg=audit(1481077300.100:480): audit_enabled=0 old=1 auid=1000 ses=3 subj=unconfined_u:unconfined_r:unconfined_t:s0 res=1',
      { kind: 'integrity', action: 'audit_disabled', session_uid: '3', user_uid: '1000' },
    ],
    [
      'CONFIG_CHANGE remove_rule is an audit rule removed',
      'type=CONFIG_CHANGE msg=audit(1481077231.371:478): auid=1000 ses=3 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 op="remove_rule" key="pam" list=4 res=1',
      { kind: 'integrity', action: 'audit_rule_removed', session_uid: '3' },
    ],
    [
      'CONFIG_CHANGE add_rule at boot (auid unset) is an audit policy change without a session',
      'type=CONFIG_CHANGE msg=audit(1492749467.018:1209): auid=4294967295 ses=4294967295 subj=system_u:system_r:unconfined_service_t:s0 op="add_rule" key="pam" list=4 res=1',
      { kind: 'integrity', action: 'audit_policy_changed', session_uid: null, user_uid: null },
    ],
  ])('maps %s', async (_name, line, expected) => {
    const [row] = await normalise([line]);
    expect(row).toMatchObject({ status: 'event', ...expected });
  });

  // Real lines of a RHEL 10 ENRICHED audit.log (linux-audit/audit-userspace @
  // f49195852c62c48eea53ed63a99d0495c0d0a4d7, auparse/test/auparse_test.enriched lines 291 and 293,
  // LGPL-2.1 as auparse): a password that failed over ssh, before pam_loginuid sets the auid. ENRICHED
  // writes the unset auid as AUID="unset", which named the failed logons' account "unset".
  it('names a failed logon with an unset auid by its acct, not by ENRICHED\'s "unset"', async () => {
    const rows = await normalise([
      `type=USER_AUTH msg=audit(1749816868.400:889): pid=7555 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=PAM:authentication grantors=? acct="newuser" exe="/usr/libexec/openssh/sshd-session" hostname=10.45.224.176 addr=10.45.224.176 terminal=ssh res=failed'\u001dUID="root" AUID="unset"`,
      `type=USER_LOGIN msg=audit(1749816872.644:891): pid=7555 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=login acct="newuser" exe="/usr/libexec/openssh/sshd-session" hostname=? addr=10.45.224.176 terminal=ssh res=failed'\u001dUID="root" AUID="unset"`,
    ]);
    expect(rows.map((r) => [r.event_code, r.kind, r.user_name, r.src_ip, r.session_uid])).toEqual([
      ['USER_AUTH', 'failed_logon', 'newuser', '10.45.224.176', null],
      ['USER_LOGIN', 'failed_logon', 'newuser', '10.45.224.176', null],
    ]);
  });

  it('follows a su started without a login session into its shell and names the caller from the logs', async () => {
    // A service account (uid 34, named by the ENRICHED UID field) runs `su -c` to root: auid and
    // ses stay unset (pam_loginuid is not in su's stack, domain notes §2.2). The su's PAM records
    // share its pid 3001; its shell (ppid 3001) and the shell's command (ppid 3010) are its children.
    const u = 'uid=34 auid=4294967295 ses=4294967295';
    const su = 'exe="/usr/bin/su" hostname=? addr=? terminal=none';
    const gs = '\u001d';
    const rows = await normalise([
      `type=USER_AUTH msg=audit(1709650000.000:5000): pid=3001 ${u} msg='op=PAM:authentication grantors=pam_rootok acct="root" ${su} res=success'${gs}UID="backup" AUID="unset"`,
      `type=USER_ACCT msg=audit(1709650000.002:5001): pid=3001 ${u} msg='op=PAM:accounting grantors=pam_permit acct="root" ${su} res=success'${gs}UID="backup" AUID="unset"`,
      `type=CRED_ACQ msg=audit(1709650000.004:5002): pid=3001 ${u} msg='op=PAM:setcred grantors=pam_rootok acct="root" ${su} res=success'${gs}UID="backup" AUID="unset"`,
      `type=USER_START msg=audit(1709650000.006:5003): pid=3001 ${u} msg='op=PAM:session_open grantors=pam_unix acct="root" ${su} res=success'${gs}UID="backup" AUID="unset"`,
      `type=SYSCALL msg=audit(1709650000.020:5004): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=3001 pid=3010 auid=4294967295 uid=0 euid=0 tty=(none) ses=4294967295 comm="bash" exe="/usr/bin/bash" key="exec"${gs}UID="root" AUID="unset"`,
      'type=SYSCALL msg=audit(1709650000.030:5005): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=3010 pid=3011 auid=4294967295 uid=0 euid=0 tty=(none) ses=4294967295 comm="tar" exe="/usr/bin/tar" key="exec"',
      // a daemon's process outside the su: the bare marker
      'type=SYSCALL msg=audit(1709650000.040:5006): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=1 pid=4000 auid=4294967295 uid=0 euid=0 tty=(none) ses=4294967295 comm="logrotate" exe="/usr/bin/logrotate" key="exec"',
      `type=USER_END msg=audit(1709650900.000:5100): pid=3001 ${u} msg='op=PAM:session_close grantors=pam_unix acct="root" ${su} res=success'${gs}UID="backup" AUID="unset"`,
      // the same pid after the su ended is not the su
      'type=SYSCALL msg=audit(1709651000.000:5200): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=3001 pid=5000 auid=4294967295 uid=0 euid=0 tty=(none) ses=4294967295 comm="ls" exe="/usr/bin/ls" key="exec"',
    ]);
    expect(
      rows.map((r) => [r.event_code, r.action, r.session_uid, r.user_uid, r.user_name, r.target]),
    ).toEqual([
      [
        'USER_AUTH',
        'authenticated',
        'unset:su[3001]',
        '34',
        'backup',
        'PAM:authentication acct root on none',
      ],
      ['USER_ACCT', 'account_checked', 'unset:su[3001]', '34', 'backup', 'PAM:accounting acct root on none'],
      ['CRED_ACQ', 'credentials_acquired', 'unset:su[3001]', '34', 'backup', 'PAM:setcred acct root on none'],
      ['USER_START', 'elevated_session_opened', 'unset:su[3001]', '34', 'backup', 'to root on none'],
      // uid 0 is named where one record of the host names it (the shell's ENRICHED UID="root")
      ['SYSCALL', 'syscall', 'unset:su[3001]', '0', 'root', expect.stringContaining('uid 0')],
      ['SYSCALL', 'syscall', 'unset:su[3001]', '0', 'root', expect.stringContaining('uid 0')],
      ['SYSCALL', 'syscall', UNSET_SESSION, '0', 'root', expect.stringContaining('uid 0')],
      ['USER_END', 'elevated_session_closed', 'unset:su[3001]', '34', 'backup', 'to root on none'],
      ['SYSCALL', 'syscall', UNSET_SESSION, '0', 'root', expect.stringContaining('uid 0')],
    ]);
  });

  it('counts bad and out-of-scope lines by reason', async () => {
    const rows = await normalise([
      'type=USER_CMD msg=audit(',
      'not an audit line',
      'type=UNKNOWN[1329] msg=?',
      'type=EXECVE msg=audit(1.000:1): argc=1 a0="x"',
      'type=AVC msg=audit(1.000:2): apparmor="DENIED"',
      'type=EOE msg=audit(1.000:3): ',
    ]);
    expect(rows.map((r) => `${r.status}:${r.reason}`).sort()).toEqual([
      'rejected:missing_time',
      'rejected:missing_time',
      'rejected:not_audit_record',
      'skipped:auxiliary_without_syscall',
      'skipped:end_of_event',
      'skipped:other_record_type',
    ]);
  });
});

/** The source's rules, restated in TypeScript over the files' text. */
function expectedCounts(files: { text: string; key: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (k: string) => {
    counts[k] = (counts[k] ?? 0) + 1;
  };
  const events = new Set<string>(AUDITD_EVENT_TYPES);
  const aux = new Set<string>(AUDITD_AUXILIARY_TYPES);
  const header = /^(?:node=(\S+) )?type=(\S+)/;
  const stamp = /^(?:node=\S+ )?type=\S+ msg=audit\(([0-9]+\.[0-9]+:[0-9]+)\)/;
  for (const f of files) {
    const host = f.key.replace(/\.log$/, '').split('_')[0];
    const lines = f.text.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
    const syscalls = new Set<string>();
    for (const l of lines) {
      const s = stamp.exec(l);
      if (s !== null && header.exec(l)?.[2] === 'SYSCALL')
        syscalls.add(`${header.exec(l)?.[1] ?? host}|${s[1]}`);
    }
    for (const l of lines) {
      const h = header.exec(l);
      const s = stamp.exec(l);
      if (l.trim() === '') add('skipped:blank_line');
      else if (h === null) add('rejected:not_audit_record');
      else if (s === null) add('rejected:missing_time');
      else if (events.has(h[2] as string)) add('event:');
      else if (h[2] === 'EOE') add('skipped:end_of_event');
      else if (aux.has(h[2] as string))
        add(
          syscalls.has(`${h[1] ?? host}|${s[1]}`)
            ? 'skipped:auxiliary_record'
            : 'skipped:auxiliary_without_syscall',
        );
      else add('skipped:other_record_type');
    }
  }
  return counts;
}

describe('real datasets', () => {
  it.each([
    ['linux/go-libaudit'],
    ['linux/otrf'],
  ])('reads every file of %s without a failure and counts lines by reason as an independent reading does', async (folder) => {
    const root = dataset(folder);
    const names = (await readdir(root)).filter((n) => n.endsWith('.log') || n.endsWith('.json')).sort();
    const files = names.map((n) => ({ path: join(root, n), key: n }));
    const texts = await Promise.all(
      files.map(async (f) => ({ text: await readFile(f.path, 'utf8'), key: f.key })),
    );
    const rows = await normaliseFiles(files);
    const got: Record<string, number> = {};
    for (const r of rows)
      got[`${r.status}:${r.reason ?? ''}`] = (got[`${r.status}:${r.reason ?? ''}`] ?? 0) + 1;
    expect(got).toEqual(expectedCounts(texts));
  });

  it('finds the one ssh session of the RHEL 7 capture with its TTY, address and logoff', async () => {
    const path = dataset('linux/go-libaudit/audit-rhel7.log');
    const rows = await normaliseFiles([{ path, key: 'audit-rhel7.log' }]);
    const logons = rows.filter((r) => r.kind === 'logon');
    // One successful USER_LOGIN in the file (test/fixtures/DATASET-FACTS.md).
    expect(logons).toHaveLength(1);
    expect(logons[0]).toMatchObject({
      session_uid: '1',
      user_uid: '1000',
      user_name: 'andrew_kroh',
      src_ip: '96.241.146.97',
    });
    expect(JSON.parse(String(logons[0]?.details)).tty).toBe('/dev/pts/0');
    expect(rows.filter((r) => r.kind === 'logoff' && r.session_uid === '1').map((r) => r.event_code)).toEqual(
      ['USER_END', 'USER_LOGOUT'],
    );
  });
});
