/**
 * The auth.log / secure source's normalising query, on real DuckDB: each message form, the year and
 * zone rules of syslog stamps, RFC 3339 stamps, attribution of sudo/su lines, and bad lines.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config.ts';
import { SessiontrailError } from '../../lib/errors.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../lib/query/query-engine.ts';
import { buildCoverageQuery } from '../../lib/query/reconstruct.ts';
import {
  buildLinuxAuthNormaliseQuery,
  LINUX_AUTH_DERIVED_ROWS,
  UNATTRIBUTED_SESSION,
} from '../../lib/sources/linux-auth.ts';

let engine: DuckDbEngine;
let dir: string;

beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'st-auth-'));
});
afterAll(async () => {
  await engine.close();
});

async function normalise(lines: string[], opts: { day?: string | null; zone?: string } = {}): Promise<Row[]> {
  const day = opts.day === undefined ? '2024-03-05' : opts.day;
  const folder = day === null ? 'plain' : `linux_auth/dt=${day}`;
  const sub = join(dir, Math.random().toString(36).slice(2), folder);
  await mkdir(sub, { recursive: true });
  const path = join(sub, 'web01.log');
  await writeFile(path, `${lines.join('\n')}\n`);
  const key = `${folder}/web01.log`;
  await engine.materialize(
    'lines',
    buildLinuxAuthNormaliseQuery(
      engine.dialect,
      { kind: 'files', files: [{ path, key }] },
      { syslogTimezone: opts.zone ?? 'UTC' },
    ),
  );
  return (
    await engine.select({
      name: 't',
      sql: 'SELECT * FROM lines ORDER BY time_ms, event_code, raw_ref',
      params: [],
    })
  ).rows;
}

const SESSION = [
  'Mar  5 14:02:11 web01 sshd[20811]: Accepted publickey for alice from 203.0.113.9 port 51544 ssh2: ED25519 SHA256:Qm9ndXNGaW5nZXJwcmludA',
  'Mar  5 14:02:11 web01 sshd[20811]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)',
  'Mar  5 14:03:40 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/useradd -m bob',
  'Mar  5 14:03:40 web01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)',
  'Mar  5 14:03:40 web01 useradd[20950]: new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash',
  'Mar  5 14:03:41 web01 sudo: pam_unix(sudo:session): session closed for user root',
  'Mar  5 14:04:00 web01 sudo:    alice : user NOT in sudoers ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls',
  'Mar  5 14:20:02 web01 sshd[20811]: pam_unix(sshd:session): session closed for user alice',
];

describe('buildLinuxAuthNormaliseQuery', () => {
  it('ties sshd lines by PID and sudo, su and useradd lines to the one open session of the user', async () => {
    const rows = await normalise(SESSION);
    expect(
      rows.map((r) => [r.event_code, r.kind, r.action, r.session_uid, r.user_name, r.is_elevated]),
    ).toEqual([
      ['sshd_accepted', 'logon', 'login', 'sshd:20811', 'alice', false],
      ['sshd_session_opened', 'activity', 'session_opened', 'sshd:20811', 'alice', null],
      ['account_change', 'activity', 'user_created', 'sshd:20811', null, null],
      ['elevated_session_opened', 'privilege', 'elevated_session_opened', 'sshd:20811', 'alice', true],
      ['sudo_command', 'activity', 'sudo_command', 'sshd:20811', 'alice', true],
      ['elevated_session_closed', 'activity', 'elevated_session_closed', 'sshd:20811', null, null],
      ['sudo_command', 'activity', 'sudo_denied', 'sshd:20811', 'alice', false],
      ['sshd_session_closed', 'logoff', 'session_closed', 'sshd:20811', 'alice', null],
    ]);
    const logon = rows[0] as Row;
    expect(logon).toMatchObject({
      host: 'WEB01',
      time_ms: Date.parse('2024-03-05T14:02:11Z'),
      user_uid: '1000',
      logon_type_id: 10,
      src_ip: '203.0.113.9',
      auth_package: 'publickey',
    });
    expect(JSON.parse(String(logon.details))).toMatchObject({
      tty: 'pts/0',
      ssh_auth_method: 'publickey',
      ssh_src_port: '51544',
      elevated_to_root_via: 'sudo',
      sudo_commands: '1',
      sudo_denied: '1',
    });
    expect(rows.find((r) => r.action === 'sudo_command')?.command_line).toBe('/usr/sbin/useradd -m bob');
  });

  it.each([
    [
      'failed password',
      'Mar  5 14:22:00 web01 sshd[5000]: Failed password for invalid user admin from 198.51.100.7 port 4242 ssh2',
      { kind: 'failed_logon', user_name: 'admin', src_ip: '198.51.100.7', session_uid: null },
    ],
    [
      'invalid user',
      'Mar  5 14:22:00 web01 sshd[5001]: Invalid user zz from 198.51.100.7 port 4243',
      { kind: 'failed_logon', user_name: 'zz' },
    ],
    [
      'cron session (older PAM without uid)',
      'Mar  5 03:00:01 web01 CRON[4000]: pam_unix(cron:session): session opened for user root by (uid=0)',
      { kind: 'logon', session_uid: 'cron:4000', user_name: 'root', logon_type_id: 4, is_elevated: true },
    ],
    [
      'console login',
      'Mar  5 08:00:01 web01 login[900]: pam_unix(login:session): session opened for user bob(uid=1001) by LOGIN(uid=0)',
      { kind: 'logon', session_uid: 'login:900', user_uid: '1001', logon_type_id: 2, is_elevated: false },
    ],
    [
      'su from a service (no invoking user)',
      'Mar  5 05:00:00 web01 su[3001]: pam_unix(su:session): session opened for user root(uid=0) by (uid=0)',
      { kind: 'privilege', session_uid: UNATTRIBUTED_SESSION, is_elevated: true },
    ],
    [
      'su without an open session of its user: marker by TTY',
      'Mar  5 05:00:00 web01 su[3002]: (to root) carol on pts/3',
      { kind: 'activity', action: 'su', session_uid: 'tty:pts/3', user_name: 'carol' },
    ],
    [
      'systemd-logind reboot',
      'Mar  5 23:00:00 web01 systemd-logind[1]: System is rebooting.',
      { kind: 'shutdown', session_uid: null },
    ],
    [
      'OpenSSH 9.8 sshd-session',
      'Mar  5 14:02:11 web01 sshd-session[777]: Accepted password for bob from 192.0.2.1 port 2222 ssh2',
      { kind: 'logon', session_uid: 'sshd:777', user_name: 'bob' },
    ],
  ])('maps %s', async (_name, line, expected) => {
    const [row] = await normalise([line]);
    expect(row).toMatchObject({ status: 'event', ...expected });
  });

  // Real lines of /var/log/messages of a Linux host of 2005 (loghub, github.com/logpai/loghub,
  // Linux/Linux_2k.log lines 898-900 and two su lines), written by pam_unix before Linux-PAM 0.99,
  // which names itself in the program field: a direct root login on the console, then a su.
  it('reads the pam_unix syntax before Linux-PAM 0.99 (`login(pam_unix)[pid]:`) as the later one', async () => {
    const rows = await normalise(
      [
        'Jul  7 08:06:15 combo login(pam_unix)[2421]: session opened for user root by LOGIN(uid=0)',
        'Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2',
        'Jul  7 08:09:10 combo login(pam_unix)[2421]: session closed for user root',
        'Jul  8 04:03:33 combo su(pam_unix)[27953]: session opened for user cyrus by (uid=0)',
        'Jul  8 04:03:34 combo su(pam_unix)[27953]: session closed for user cyrus',
      ],
      { day: '2005-07-07' },
    );
    // Ordered by time: the `-- root[2421]:` line has no program field, so no time (last).
    expect(rows.map((r) => [r.status, r.reason ?? r.event_code, r.kind, r.session_uid])).toEqual([
      ['event', 'pam_session_opened', 'logon', 'login:2421'],
      ['event', 'pam_session_closed', 'logoff', 'login:2421'],
      // su started by root with no invoking user named: as the later syntax's su from a service
      ['event', 'elevated_session_opened', 'privilege', UNATTRIBUTED_SESSION],
      ['event', 'elevated_session_closed', 'activity', UNATTRIBUTED_SESSION],
      ['rejected', 'malformed_line', null, null],
    ]);
    expect(rows[0]).toMatchObject({
      user_name: 'root',
      host: 'COMBO',
      time_ms: Date.parse('2005-07-07T08:06:15Z'),
      logon_type_id: 2,
      is_elevated: true,
    });
  });

  // Real lines of an OpenSSH server behind rsyslog (loghub, github.com/logpai/loghub,
  // OpenSSH/OpenSSH_2k.log lines 28-32, CRLF as in the file): one connection's first failed
  // password, then rsyslog's "message repeated 5 times" for 5 more, which sshd confirms ("PAM 5 more
  // authentication failures"). The repeated line was skipped (other_message): 1 failed logon of 6.
  it('reads "message repeated N times: [ Failed …]" as N failed logons, each its own record', async () => {
    const lines = [
      'Dec 10 07:13:31 LabSZ sshd[24227]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om  user=root\r',
      'Dec 10 07:13:43 LabSZ sshd[24227]: Failed password for root from 5.36.59.76 port 42393 ssh2\r',
      'Dec 10 07:13:56 LabSZ sshd[24227]: message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]\r',
      'Dec 10 07:13:56 LabSZ sshd[24227]: Disconnecting: Too many authentication failures for root [preauth]\r',
      'Dec 10 07:13:56 LabSZ sshd[24227]: PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om  user=root\r',
    ];
    const rows = await normalise(lines, { day: '2017-12-10' });
    const failed = rows.filter((r) => r.kind === 'failed_logon');
    // 1 + the 5 the repeated line stands for
    expect(failed.map((r) => [r.event_code, r.user_name, r.src_ip, r.time_ms])).toEqual([
      ['sshd_failed', 'root', '5.36.59.76', Date.parse('2017-12-10T07:13:43Z')],
      ...Array.from({ length: 5 }, () => [
        'sshd_failed',
        'root',
        '5.36.59.76',
        Date.parse('2017-12-10T07:13:56Z'),
      ]),
    ]);
    // each copy is its own record: the digest of the line (without its CRLF end) and its copy number
    const digest = createHash('sha256')
      .update(String(lines[2]).replace(/\r$/, ''))
      .digest('hex')
      .slice(0, 16);
    const copies = failed.slice(1);
    expect(copies.map((r) => r.raw_ref).sort()).toEqual(
      [1, 2, 3, 4, 5].map((k) => `linux_auth/dt=2017-12-10/web01.log#sha256=${digest}#repeat=${k}`),
    );
    expect(new Set(failed.map((r) => r.record_uid)).size).toBe(6);
    // The records read still add up to the file's lines: copy 1 is the line, copies 2-5 derive from it.
    const coverage = await engine.select(
      buildCoverageQuery(engine.dialect, 'lines', LINUX_AUTH_DERIVED_ROWS),
    );
    const counts = Object.fromEntries(coverage.rows.map((r) => [`${r.status}:${r.reason}`, Number(r.n)]));
    expect(counts).toEqual({ 'event:': 2, 'skipped:other_message': 3 });
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(lines.length);
  });

  it('skips a repeated message that is no failed logon, counted by its own reason', async () => {
    const rows = await normalise([
      ...SESSION.slice(0, 3),
      'Mar  5 14:03:42 web01 sudo: message repeated 2 times: [    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/useradd -m bob]',
      'Mar  5 14:05:00 web01 sshd[1]: message repeated 123456789 times: [ Failed password for root from 192.0.2.1 port 2 ssh2]',
    ]);
    expect(rows.filter((r) => r.status !== 'event').map((r) => `${r.status}:${r.reason}`)).toEqual([
      'skipped:repeated_message_not_failure',
      'rejected:repeat_count_too_large',
    ]);
    expect(rows.filter((r) => r.event_code === 'sudo_command')).toHaveLength(1);
    // a count above 1000 is read in two series (1000 * hi + lo + 1): every copy, once
    const many = await normalise([
      'Mar  5 14:05:00 web01 sshd[1]: message repeated 1003 times: [ Failed password for root from 192.0.2.1 port 2 ssh2]',
    ]);
    expect(many.filter((r) => r.event_code === 'sshd_failed')).toHaveLength(1003);
    expect(new Set(many.map((r) => String(r.raw_ref).replace(/.*#repeat=/, ''))).size).toBe(1003);
  });

  it.each([
    ['Mar  5 14:02:11', '2024-03-05', 'UTC', '2024-03-05T14:02:11.000Z'],
    ['Mar  5 14:02:11', '2024-03-05', 'Europe/Paris', '2024-03-05T13:02:11.000Z'],
    ['Jul  5 14:02:11', '2024-07-05', 'America/New_York', '2024-07-05T18:02:11.000Z'],
    ['Dec 31 23:59:59', '2025-01-01', 'UTC', '2024-12-31T23:59:59.000Z'],
    ['Jan  1 00:00:01', '2024-12-31', 'UTC', '2025-01-01T00:00:01.000Z'],
    ['2019-06-14T13:01:15.412+01:30', '2019-06-14', 'UTC', '2019-06-14T11:31:15.412Z'],
    ['2019-06-14T10:40:20.912134', '2019-06-14', 'Europe/Paris', '2019-06-14T08:40:20.912Z'],
  ])('reads %s in folder dt=%s, zone %s, as %s', async (stamp, day, zone, iso) => {
    const [row] = await normalise(
      [`${stamp} web01 sshd[1]: Accepted password for bob from 192.0.2.1 port 2 ssh2`],
      {
        day,
        zone,
      },
    );
    expect(row?.time_ms).toBe(Date.parse(iso));
    expect(String(row?.time_field)).toContain(stamp.startsWith('2019-06-14T13') ? 'with offset' : zone);
  });

  it('counts bad and out-of-scope lines by reason', async () => {
    const rows = await normalise([
      'garbage',
      'Feb 30 10:00:00 web01 sshd[1]: Accepted password for bob from 192.0.2.1 port 2 ssh2',
      'Mar  5 14:24:00 web01 systemd-logind[1]: New session 3 of user alice.',
      'Mar  5 14:24:00 web01 systemd: pam_unix(systemd-user:session): session opened for user alice(uid=1000) by (uid=0)',
    ]);
    expect(rows.map((r) => `${r.status}:${r.reason}`).sort()).toEqual([
      'rejected:bad_time',
      'rejected:malformed_line',
      'skipped:other_message',
      'skipped:other_pam_service',
    ]);
    const plain = await normalise(
      ['Mar  5 14:24:00 web01 sshd[1]: Accepted password for bob from 192.0.2.1 port 2 ssh2'],
      {
        day: null,
      },
    );
    expect(plain.map((r) => `${r.status}:${r.reason}`)).toEqual(['rejected:no_year']);
  });

  it('refuses an unknown zone, in the builder and in the configuration', () => {
    expect(() =>
      buildLinuxAuthNormaliseQuery(
        engine.dialect,
        { kind: 'files', files: [] },
        { syslogTimezone: 'Mars/Olympus' },
      ),
    ).toThrow(SessiontrailError);
    expect(() => parseConfig({ linux: { syslog_timezone: 'Mars/Olympus' } })).toThrow(/syslog_timezone/);
    expect(parseConfig({ linux: { syslog_timezone: 'Europe/Paris' } }).linux).toEqual({
      syslog_timezone: 'Europe/Paris',
    });
  });
});
