/**
 * A seeded Linux log generator (auditd `audit.log` and syslog `auth.log`) with a ground-truth file:
 * the data behind the Linux sources' reconstruction tests. See {@link generateLinuxSample}.
 *
 * Per host and day: a root cron job; two or three ssh sessions of alice / bob / carol (login →
 * commands → sudo to root for alice and sometimes bob, one `useradd` through sudo → logout); a
 * daemon process without login session; on the first host a `su` to root from a service (auid
 * unset). The second host boots at the window start and reboots mid-window with a session open, so
 * `ses` values repeat in its second boot epoch. The third host sees a direct root ssh login on the
 * first day. Bad lines, skipped record types and a duplicated record are planted and counted.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SessiontrailError } from '../lib/errors.ts';
import type { LinuxGroundTruth, LinuxGtSession } from './linux-ground-truth.ts';
import { deriveSeed, Rng } from './prng.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MIN = 60_000;
const UNSET = '4294967295';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Options of {@link generateLinuxSample}. */
export interface LinuxSampleOptions {
  /** Any integer; the same options give byte-identical output. */
  readonly seed: number;
  /** Number of hosts, 3 to 100 (`lnx01`, `lnx02`, …). */
  readonly hosts: number;
  /** Number of UTC days, 1 to 31. */
  readonly days: number;
  /** First day: `YYYY-MM-DD` (UTC midnight). */
  readonly from: string;
  /** Directory to write into (created if missing). */
  readonly outDir: string;
  /**
   * Gzip the files of every other host.
   * @default true
   */
  readonly gzip?: boolean;
}

export interface LinuxSampleResult {
  readonly files: string[];
  readonly groundTruthPath: string;
  readonly window: { readonly from: string; readonly to: string };
}

const USERS = [
  { name: 'alice', uid: '1000', sudo: 1 },
  { name: 'bob', uid: '1001', sudo: 0.5 },
  { name: 'carol', uid: '1002', sudo: 0 },
] as const;

const COMMANDS: readonly (readonly string[])[] = [
  ['ls', '-la', '/var/log'],
  ['cat', '/etc/hosts'],
  ['grep', '-r', 'error message', '/var/log/app'],
  ['df', '-h'],
  ['systemctl', 'status', 'nginx'],
];
const SUDO_COMMANDS: readonly (readonly string[])[] = [
  ['systemctl', 'restart', 'nginx'],
  ['journalctl', '-u', 'nginx', '--since', 'today'],
  ['apt-get', 'install', '-y', 'htop'],
];

interface AuditLine {
  readonly t: number;
  readonly line: string;
}

/** One host's logs being written, and the truth collected on the way. */
class HostLog {
  readonly audit: AuditLine[] = [];
  readonly auth: AuditLine[] = [];
  serial: number;
  ses: number;
  pid: number;
  bootOrdinal = 0;
  private readonly short: string;

  constructor(
    readonly host: string,
    private readonly node: boolean,
    rng: Rng,
    private readonly counts: Counts,
  ) {
    this.short = host.toLowerCase();
    this.serial = rng.int(1000, 90_000);
    this.ses = rng.int(100, 400);
    this.pid = rng.int(2000, 20_000);
  }

  /** Writes one audit event (records sharing a serial); returns the ref of each record by type. */
  event(t: number, records: readonly (readonly [string, string])[]): Map<string, string> {
    const serial = this.serial++;
    const stamp = `${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, '0')}:${serial}`;
    const refs = new Map<string, string>();
    for (const [type, body] of records) {
      const prefix = this.node ? `node=${this.short} ` : '';
      this.audit.push({ t, line: `${prefix}type=${type} msg=audit(${stamp}): ${body}` });
      if (!refs.has(type)) refs.set(type, `audit(${stamp})/${type}`);
      this.counts.auditType(type);
    }
    return refs;
  }

  raw(t: number, line: string): void {
    this.audit.push({ t, line });
  }

  /** Writes one auth.log line; returns its sha256 prefix. */
  authLine(t: number, prog: string, pid: number | null, msg: string): string {
    const d = new Date(t);
    const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
    const line = `${stamp} ${this.short} ${prog}${pid === null ? '' : `[${pid}]`}: ${msg}`;
    this.auth.push({ t, line });
    return sha16(line);
  }

  nextPid(): number {
    this.pid += 1 + (this.pid % 7);
    return this.pid;
  }
}

interface Counts {
  auditType(type: string): void;
}

const AUX = new Set(['EXECVE', 'CWD', 'PATH', 'PROCTITLE']);
const EVENT_TYPES = new Set([
  'LOGIN',
  'USER_LOGIN',
  'USER_LOGOUT',
  'USER_START',
  'USER_END',
  'CRED_ACQ',
  'CRED_DISP',
  'CRED_REFR',
  'USER_AUTH',
  'USER_ACCT',
  'USER_CMD',
  'SYSCALL',
  'ADD_USER',
  'SYSTEM_BOOT',
  'SYSTEM_SHUTDOWN',
  'DAEMON_START',
  'DAEMON_END',
]);

function sha16(line: string): string {
  return createHash('sha256').update(line).digest('hex').slice(0, 16);
}

function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex').toUpperCase();
}

/** auditd's encoding of an untrusted string: quoted when plain, hex when it holds a space or quote. */
function enc(text: string): string {
  return /^[\x21-\x7e]*$/.test(text) && !text.includes('"') ? `"${text}"` : hex(text);
}

/**
 * Generates the sample into `<outDir>/linux_auditd/dt=YYYY-MM-DD/<host>.log[.gz]` and
 * `<outDir>/linux_auth/dt=YYYY-MM-DD/<host>.log[.gz]` (auth.log in UTC) and writes
 * `<outDir>/linux-ground-truth.json` ({@link LinuxGroundTruth}). Deterministic.
 *
 * @throws SessiontrailError `BAD_REQUEST` when an option is out of range.
 */
export async function generateLinuxSample(options: LinuxSampleOptions): Promise<LinuxSampleResult> {
  const from = validate(options);
  const to = from + options.days * DAY;
  const mid = Math.floor((options.days - 1) / 2);
  const auditdRejected: Record<string, number> = {};
  const auditdSkipped: Record<string, number> = {};
  const authRejected: Record<string, number> = {};
  const authSkipped: Record<string, number> = {};
  const bump = (m: Record<string, number>, k: string, n = 1) => {
    m[k] = (m[k] ?? 0) + n;
  };
  let auditdEvents = 0;
  let authEvents = 0;
  let duplicates = 0;
  const counts: Counts = {
    auditType(type) {
      if (EVENT_TYPES.has(type)) auditdEvents++;
      else if (AUX.has(type)) bump(auditdSkipped, 'auxiliary_record');
      else if (type === 'EOE') bump(auditdSkipped, 'end_of_event');
      else bump(auditdSkipped, 'other_record_type');
    },
  };

  const sessions: LinuxGtSession[] = [];
  const unsetOrphans = new Map<string, { host: string; session: string; records: string[] }>();
  const authOrphans = new Map<string, { host: string; session: string; lines: string[] }>();
  const boots: { host: string; time: string }[] = [];
  const files: string[] = [];

  for (let h = 0; h < options.hosts; h++) {
    const host = `LNX${String(h + 1).padStart(2, '0')}`;
    const rng = new Rng(deriveSeed('linux-host', options.seed, options.hosts, options.days, host));
    const log = new HostLog(host, h === 0, rng, counts);
    /** An auditd record without a login session, under the marker session the source gives it. */
    const unsetOrphan = (session: string, ref: string | undefined) => {
      const key = `${host}|${session}`;
      const entry = unsetOrphans.get(key) ?? { host, session, records: [] };
      entry.records.push(ref as string);
      unsetOrphans.set(key, entry);
    };
    /** The refs of records written before pam_loginuid set `ses` (auid unset): orphans of that process. */
    const preLogin = (prog: string, pid: number, refs: Map<string, string>) => {
      for (const ref of refs.values())
        if (!ref.endsWith('/CRYPTO_KEY_USER')) unsetOrphan(`unset:${prog}[${pid}]`, ref);
    };
    const authOrphan = (session: string, line: string) => {
      const key = `${host}|${session}`;
      const entry = authOrphans.get(key) ?? { host, session, lines: [] };
      entry.lines.push(line);
      authOrphans.set(key, entry);
    };
    const auth = (t: number, prog: string, pid: number | null, msg: string, counted = true) => {
      if (counted) authEvents++;
      return log.authLine(t, prog, pid, msg);
    };
    const skipAuth = (t: number, prog: string, pid: number | null, msg: string, reason: string) => {
      bump(authSkipped, reason);
      log.authLine(t, prog, pid, msg);
    };
    const boot = (t: number) => {
      log.event(t, [
        [
          'DAEMON_START',
          `op=start ver=3.0.7 format=enriched kernel=6.1.0-18-amd64 auid=${UNSET} pid=${rng.int(200, 400)} uid=0 ses=${UNSET} res=success`,
        ],
      ]);
      log.event(t + 120, [
        [
          'SYSTEM_BOOT',
          `pid=${rng.int(400, 600)} uid=0 auid=${UNSET} ses=${UNSET} msg=' comm="systemd-update-utmp" exe="/usr/lib/systemd/systemd-update-utmp" hostname=? addr=? terminal=? res=success'`,
        ],
      ]);
      boots.push({ host, time: new Date(t).toISOString() }, { host, time: new Date(t + 120).toISOString() });
      log.bootOrdinal += 2;
      log.serial = rng.int(5, 50);
      log.ses = 1;
      log.pid = rng.int(600, 900);
    };

    /** A command run in a session: SYSCALL + EXECVE + CWD + PATH + PROCTITLE + EOE. */
    const exec = (
      t: number,
      s: { auid: string; ses: string; uid: string; tty: string },
      argv: readonly string[],
      cwd: string,
    ) => {
      const exe = `/usr/bin/${argv[0]}`;
      const refs = log.event(t, [
        [
          'SYSCALL',
          `arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=${log.pid} pid=${log.nextPid()} auid=${s.auid} uid=${s.uid} gid=${s.uid} euid=${s.uid} suid=${s.uid} fsuid=${s.uid} egid=${s.uid} sgid=${s.uid} fsgid=${s.uid} tty=${s.tty} ses=${s.ses} comm="${argv[0]}" exe="${exe}" key="exec"`,
        ],
        ['EXECVE', `argc=${argv.length} ${argv.map((a, i) => `a${i}=${enc(a)}`).join(' ')}`],
        ['CWD', `cwd=${enc(cwd)}`],
        [
          'PATH',
          `item=0 name="${exe}" inode=1234 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`,
        ],
        ['PROCTITLE', `proctitle=${hex(argv.join('\u0000'))}`],
        ['EOE', ''],
      ]);
      return refs.get('SYSCALL') as string;
    };

    const sshSession = (
      start: number,
      userIdx: number | 'root',
      endAt: number | 'logout' | null,
      opts: { useradd: boolean; shutdownAt?: number },
    ) => {
      const user =
        userIdx === 'root' ? { name: 'root', uid: '0', sudo: 0 } : (USERS[userIdx] as (typeof USERS)[number]);
      const sshPid = log.nextPid();
      const ses = String(log.ses++);
      const ptsN = rng.int(0, 3);
      const tty = `pts${ptsN}`;
      const ip = `203.0.113.${rng.int(2, 250)}`;
      const port = rng.int(40_000, 60_000);
      const auditdActivity: string[] = [];
      const authActivity: string[] = [];
      let t = start;
      const pre = `pid=${sshPid} uid=0 auid=${UNSET} ses=${UNSET}`;
      const sshd = `exe="/usr/sbin/sshd" hostname=${ip} addr=${ip} terminal=ssh`;
      // sshd authenticates before pam_loginuid sets ses: records without a login session, kept
      // as orphan activity of the sshd process
      preLogin(
        'sshd',
        sshPid,
        log.event(t, [
          [
            'USER_AUTH',
            `${pre} msg='op=PAM:authentication grantors=pam_unix acct="${user.name}" ${sshd} res=success'`,
          ],
        ]),
      );
      preLogin(
        'sshd',
        sshPid,
        log.event(t + 3, [
          [
            'USER_ACCT',
            `${pre} msg='op=PAM:accounting grantors=pam_unix acct="${user.name}" ${sshd} res=success'`,
          ],
        ]),
      );
      log.event(t + 5, [
        [
          'CRYPTO_KEY_USER',
          `${pre} msg='op=destroy kind=server fp=SHA256:ab direction=? spid=${sshPid + 1} suid=0 exe="/usr/sbin/sshd" hostname=? addr=${ip} terminal=? res=success'`,
        ],
      ]);
      preLogin(
        'sshd',
        sshPid,
        log.event(t + 8, [
          [
            'CRED_ACQ',
            `${pre} msg='op=PAM:setcred grantors=pam_unix acct="${user.name}" ${sshd} res=success'`,
          ],
        ]),
      );
      log.event(t + 10, [
        [
          'LOGIN',
          `pid=${sshPid} uid=0 subj=unconfined old-auid=${UNSET} auid=${user.uid} tty=(none) old-ses=${UNSET} ses=${ses} res=1`,
        ],
      ]);
      const inSes = `pid=${sshPid} uid=0 auid=${user.uid} ses=${ses}`;
      auditdActivity.push(
        log
          .event(t + 20, [
            [
              'USER_START',
              `${inSes} msg='op=PAM:session_open grantors=pam_loginuid,pam_unix acct="${user.name}" ${sshd} res=success'`,
            ],
          ])
          .get('USER_START') as string,
      );
      auditdActivity.push(
        log
          .event(t + 40, [
            [
              'USER_LOGIN',
              `pid=${sshPid + 4} uid=0 auid=${user.uid} ses=${ses} msg='op=login id=${user.uid} exe="/usr/sbin/sshd" hostname=${ip} addr=${ip} terminal=/dev/pts/${ptsN} res=success'`,
            ],
          ])
          .get('USER_LOGIN') as string,
      );
      const startIso = new Date(t + 10).toISOString();
      const acceptedT = t + 10;
      auth(
        acceptedT,
        'sshd',
        sshPid,
        `Accepted publickey for ${user.name} from ${ip} port ${port} ssh2: ED25519 SHA256:${hex(user.name).slice(0, 12)}`,
      );
      authActivity.push(
        auth(
          acceptedT,
          'sshd',
          sshPid,
          `pam_unix(sshd:session): session opened for user ${user.name}(uid=${user.uid}) by (uid=0)`,
        ),
      );
      skipAuth(
        acceptedT + 30,
        'systemd-logind',
        rng.int(400, 700),
        `New session ${ses} of user ${user.name}.`,
        'other_message',
      );
      const s = { auid: user.uid, ses, uid: user.uid, tty };
      t += 60_000;
      const n = rng.int(1, 3);
      for (let i = 0; i < n; i++) {
        auditdActivity.push(exec(t, s, rng.pick(COMMANDS), `/home/${user.name}`));
        t += rng.int(20, 120) * 1000;
      }
      let sudoCount = 0;
      let privileged = userIdx === 'root';
      if (userIdx !== 'root' && rng.chance(user.sudo)) {
        const times = opts.useradd ? 2 : 1;
        for (let k = 0; k < times; k++) {
          const useradd = opts.useradd && k === 1;
          const argv = useradd ? ['useradd', '-m', `tmp${rng.int(100, 999)}`] : rng.pick(SUDO_COMMANDS);
          const sudoPid = log.nextPid();
          const su = `pid=${sudoPid} uid=${user.uid} auid=${user.uid} ses=${ses}`;
          const sudoExe = `exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/${ptsN}`;
          auditdActivity.push(
            log
              .event(t, [
                [
                  'USER_ACCT',
                  `${su} msg='op=PAM:accounting grantors=pam_unix acct="${user.name}" ${sudoExe} res=success'`,
                ],
              ])
              .get('USER_ACCT') as string,
          );
          auditdActivity.push(
            log
              .event(t + 2, [
                [
                  'USER_CMD',
                  `${su} msg='cwd="/home/${user.name}" cmd=${hex(`/usr/sbin/${argv.join(' ')}`)} exe="/usr/bin/sudo" terminal=pts/${ptsN} res=success'`,
                ],
              ])
              .get('USER_CMD') as string,
          );
          auditdActivity.push(
            log
              .event(t + 4, [
                [
                  'CRED_REFR',
                  `pid=${sudoPid} uid=0 auid=${user.uid} ses=${ses} msg='op=PAM:setcred grantors=pam_unix acct="root" ${sudoExe} res=success'`,
                ],
              ])
              .get('CRED_REFR') as string,
          );
          log.event(t + 6, [
            [
              'USER_START',
              `pid=${sudoPid} uid=0 auid=${user.uid} ses=${ses} msg='op=PAM:session_open grantors=pam_limits,pam_unix acct="root" ${sudoExe} res=success'`,
            ],
          ]);
          const command = `/usr/sbin/${argv.join(' ')}`;
          const sudoT = t;
          authActivity.push(
            auth(
              sudoT,
              'sudo',
              null,
              `   ${user.name} : TTY=pts/${ptsN} ; PWD=/home/${user.name} ; USER=root ; COMMAND=${command}`,
            ),
          );
          auth(
            sudoT,
            'sudo',
            null,
            `pam_unix(sudo:session): session opened for user root(uid=0) by ${user.name}(uid=${user.uid})`,
          );
          auditdActivity.push(exec(t + 10, { ...s, uid: '0' }, argv, `/home/${user.name}`));
          if (useradd) {
            auditdActivity.push(
              log
                .event(t + 30, [
                  [
                    'ADD_USER',
                    `pid=${log.pid} uid=0 auid=${user.uid} ses=${ses} msg='op=add-user id=${rng.int(1100, 1200)} exe="/usr/sbin/useradd" hostname=? addr=? terminal=pts/${ptsN} res=success'`,
                  ],
                ])
                .get('ADD_USER') as string,
            );
            authActivity.push(
              auth(
                sudoT,
                'useradd',
                log.nextPid(),
                `new user: name=${argv[2]}, UID=1101, GID=1101, home=/home/${argv[2]}, shell=/bin/bash, from=/dev/pts/${ptsN}`,
              ),
            );
          }
          auditdActivity.push(
            log
              .event(t + 900, [
                [
                  'USER_END',
                  `pid=${sudoPid} uid=0 auid=${user.uid} ses=${ses} msg='op=PAM:session_close grantors=pam_limits,pam_unix acct="root" ${sudoExe} res=success'`,
                ],
              ])
              .get('USER_END') as string,
          );
          auditdActivity.push(
            log
              .event(t + 902, [
                [
                  'CRED_DISP',
                  `pid=${sudoPid} uid=0 auid=${user.uid} ses=${ses} msg='op=PAM:setcred grantors=pam_unix acct="root" ${sudoExe} res=success'`,
                ],
              ])
              .get('CRED_DISP') as string,
          );
          authActivity.push(
            auth(t + 1000, 'sudo', null, 'pam_unix(sudo:session): session closed for user root'),
          );
          sudoCount++;
          privileged = true;
          t += rng.int(60, 300) * 1000;
        }
      }
      let end: number | null = null;
      let endReason: LinuxGtSession['end_reason'] = 'open_at_window_end';
      if (endAt === 'logout' || typeof endAt === 'number') {
        const tEnd = typeof endAt === 'number' ? Math.max(endAt, t) : t + rng.int(1, 20) * MIN;
        skipAuth(
          tEnd,
          'sshd',
          sshPid,
          `Received disconnect from ${ip} port ${port}:11: disconnected by user`,
          'other_message',
        );
        log.event(tEnd, [
          [
            'USER_END',
            `${inSes} msg='op=PAM:session_close grantors=pam_loginuid,pam_unix acct="${user.name}" ${sshd} res=success'`,
          ],
        ]);
        auditdActivity.push(
          log
            .event(tEnd + 5, [
              [
                'CRED_DISP',
                `${inSes} msg='op=PAM:setcred grantors=pam_unix acct="${user.name}" ${sshd} res=success'`,
              ],
            ])
            .get('CRED_DISP') as string,
        );
        log.event(tEnd + 8, [
          [
            'USER_LOGOUT',
            `pid=${sshPid} uid=0 auid=${user.uid} ses=${ses} msg='op=login id=${user.uid} exe="/usr/sbin/sshd" hostname=? addr=? terminal=/dev/pts/${ptsN} res=success'`,
          ],
        ]);
        auth(tEnd, 'sshd', sshPid, `pam_unix(sshd:session): session closed for user ${user.name}`);
        end = tEnd;
        endReason = 'logoff';
      } else if (opts.shutdownAt !== undefined) {
        end = opts.shutdownAt;
        endReason = 'shutdown';
      }
      sessions.push({
        host,
        boot_ordinal: log.bootOrdinal,
        ses,
        auth_session: `sshd:${sshPid}`,
        user_uid: user.uid,
        user_name: user.name,
        kind: userIdx === 'root' ? 'root_ssh' : 'ssh',
        start: startIso,
        end: end === null ? null : new Date(end).toISOString(),
        end_reason: endReason,
        privileged,
        tty: `/dev/pts/${ptsN}`,
        sudo_commands: sudoCount,
        auditd_activity: auditdActivity.sort(),
        auth_activity: authActivity.sort(),
      });
      return t;
    };

    const cron = (t: number) => {
      const pid = log.nextPid();
      const ses = String(log.ses++);
      const pre = `pid=${pid} uid=0 auid=${UNSET} ses=${UNSET}`;
      const cr = 'exe="/usr/sbin/cron" hostname=? addr=? terminal=cron';
      preLogin(
        'cron',
        pid,
        log.event(t, [
          ['USER_ACCT', `${pre} msg='op=PAM:accounting grantors=pam_permit acct="root" ${cr} res=success'`],
        ]),
      );
      preLogin(
        'cron',
        pid,
        log.event(t + 1, [
          [
            'CRED_ACQ',
            `${pre} msg='op=PAM:setcred grantors=pam_permit,pam_cap acct="root" ${cr} res=success'`,
          ],
        ]),
      );
      log.event(t + 2, [
        ['LOGIN', `pid=${pid} uid=0 old-auid=${UNSET} auid=0 tty=(none) old-ses=${UNSET} ses=${ses} res=1`],
      ]);
      const inSes = `pid=${pid} uid=0 auid=0 ses=${ses}`;
      const act: string[] = [];
      act.push(
        log
          .event(t + 3, [
            [
              'USER_START',
              `${inSes} msg='op=PAM:session_open grantors=pam_loginuid,pam_env,pam_unix acct="root" ${cr} res=success'`,
            ],
          ])
          .get('USER_START') as string,
      );
      act.push(
        exec(
          t + 50,
          { auid: '0', ses, uid: '0', tty: '(none)' },
          ['run-parts', '--report', '/etc/cron.daily'],
          '/root',
        ),
      );
      act.push(
        log
          .event(t + 900, [
            ['CRED_DISP', `${inSes} msg='op=PAM:setcred grantors=pam_permit acct="root" ${cr} res=success'`],
          ])
          .get('CRED_DISP') as string,
      );
      log.event(t + 901, [
        [
          'USER_END',
          `${inSes} msg='op=PAM:session_close grantors=pam_loginuid,pam_env,pam_unix acct="root" ${cr} res=success'`,
        ],
      ]);
      auth(t + 2, 'CRON', pid, 'pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)');
      auth(t + 901, 'CRON', pid, 'pam_unix(cron:session): session closed for user root');
      sessions.push({
        host,
        boot_ordinal: log.bootOrdinal,
        ses,
        auth_session: `cron:${pid}`,
        user_uid: '0',
        user_name: 'root',
        kind: 'cron',
        start: new Date(t + 2).toISOString(),
        end: new Date(t + 901).toISOString(),
        end_reason: 'logoff',
        privileged: true,
        tty: null,
        sudo_commands: 0,
        auditd_activity: act.sort(),
        auth_activity: [],
      });
    };

    const rebootHost = h === 1;
    if (rebootHost) boot(from + MIN);
    for (let day = 0; day < options.days; day++) {
      const d0 = from + day * DAY;
      cron(d0 + 3 * HOUR + rng.int(0, 59) * 1000);
      // a daemon with no login session: orphan activity under the marker `unset`
      unsetOrphan(
        'unset',
        exec(
          d0 + 4 * HOUR,
          { auid: UNSET, ses: UNSET, uid: '0', tty: '(none)' },
          ['logrotate', '/etc/logrotate.conf'],
          '/',
        ),
      );
      log.event(d0 + 4 * HOUR + 10_000, [
        [
          'SERVICE_START',
          `pid=1 uid=0 auid=${UNSET} ses=${UNSET} msg='unit=logrotate comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success'`,
        ],
      ]);
      if (h === 0) {
        // `su -c` to root from the backup service (uid 34, auid and ses unset: su does not run
        // pam_loginuid): its PAM records share the su's pid, its shell is the su's child and the
        // shell's command the shell's child. The records are ENRICHED (auditd.conf(5) log_format),
        // so the caller's name is in the log. All of it is orphan activity of `unset:su[<pid>]`.
        const pid = log.nextPid();
        const session = `unset:su[${pid}]`;
        const u = `pid=${pid} uid=34 auid=${UNSET} ses=${UNSET}`;
        const suExe = 'exe="/usr/bin/su" hostname=? addr=? terminal=none';
        const names = '\u001dUID="backup" AUID="unset"';
        const t5 = d0 + 5 * HOUR;
        const pam = (t: number, type: string, op: string, grantors: string) =>
          unsetOrphan(
            session,
            log
              .event(t, [
                [type, `${u} msg='op=${op} grantors=${grantors} acct="root" ${suExe} res=success'${names}`],
              ])
              .get(type),
          );
        pam(t5, 'USER_AUTH', 'PAM:authentication', 'pam_rootok');
        pam(t5 + 2, 'USER_ACCT', 'PAM:accounting', 'pam_permit');
        pam(t5 + 4, 'CRED_ACQ', 'PAM:setcred', 'pam_rootok');
        pam(t5 + 6, 'USER_START', 'PAM:session_open', 'pam_unix');
        const root = { auid: UNSET, ses: UNSET, uid: '0', tty: '(none)' };
        unsetOrphan(session, exec(t5 + 20, root, ['bash', '-c', 'tar czf /backup/etc.tgz /etc'], '/'));
        unsetOrphan(session, exec(t5 + 25, root, ['tar', 'czf', '/backup/etc.tgz', '/etc'], '/'));
        pam(t5 + 900, 'USER_END', 'PAM:session_close', 'pam_unix');
        pam(t5 + 902, 'CRED_DISP', 'PAM:setcred', 'pam_rootok');
        authOrphan('tty:none', auth(t5, 'su', pid, '(to root) backup on none'));
        authOrphan(
          'unattributed',
          auth(t5, 'su', pid, 'pam_unix(su:session): session opened for user root(uid=0) by (uid=34)'),
        );
        authOrphan(
          'unattributed',
          auth(t5 + 900, 'su', pid, 'pam_unix(su:session): session closed for user root'),
        );
        skipAuth(
          t5 + 950,
          'systemd',
          1,
          'pam_unix(systemd-user:session): session opened for user backup(uid=34) by (uid=0)',
          'other_pam_service',
        );
      }
      if (rebootHost && day === mid) {
        // a session open across the reboot: ended by the shutdown
        const down = d0 + 8 * HOUR;
        sshSession(d0 + 7 * HOUR, 2, null, { useradd: false, shutdownAt: down });
        log.event(down, [['DAEMON_END', `op=terminate auid=0 uid=0 ses=${UNSET} pid=1 res=success`]]);
        log.event(down + 10, [
          [
            'SYSTEM_SHUTDOWN',
            `pid=${log.nextPid()} uid=0 auid=${UNSET} ses=${UNSET} msg=' comm="systemd-update-utmp" exe="/usr/lib/systemd/systemd-update-utmp" hostname=? addr=? terminal=? res=success'`,
          ],
        ]);
        auth(down, 'systemd-logind', 700, 'System is rebooting.');
        boot(down + 2 * MIN);
      }
      const slots = rng.int(2, 3);
      for (let j = 0; j < slots; j++) {
        const start = d0 + (9 + 4 * j) * HOUR + rng.int(0, 50) * MIN;
        const userIdx = j === 0 ? 0 : rng.int(0, 2);
        const last = day === options.days - 1 && j === slots - 1 && h === options.hosts - 1;
        sshSession(start, userIdx, last ? null : 'logout', { useradd: j === 0 && day === 0 });
      }
      if (h === 2 && day === 0) sshSession(d0 + 21 * HOUR, 'root', 'logout', { useradd: false });
      // planted bad lines and a re-shipped copy
      log.raw(d0 + 22 * HOUR, 'type=USER_CMD msg=audit(');
      bump(auditdRejected, 'missing_time');
      if (h === 0) {
        log.raw(d0 + 22 * HOUR + 1, '--- audit log rotated ---');
        bump(auditdRejected, 'not_audit_record');
        const copy = log.audit.find((a) => a.t >= d0 && a.line.includes('type=SYSCALL'));
        if (copy !== undefined) {
          log.raw(d0 + 23 * HOUR, copy.line);
          auditdEvents++;
          duplicates++;
        }
      }
      skipAuth(
        d0 + 22 * HOUR,
        'kernel',
        null,
        '[    0.000000] Linux version 6.1.0-18-amd64',
        'other_message',
      );
      log.auth.push({ t: d0 + 22 * HOUR + 1, line: 'this is not a syslog line' });
      bump(authRejected, 'malformed_line');
    }

    for (const [kind, lines] of [
      ['linux_auditd', log.audit],
      ['linux_auth', log.auth],
    ] as const) {
      const byDay = new Map<string, string[]>();
      for (const l of [...lines].sort((a, b) => a.t - b.t)) {
        const day = new Date(l.t).toISOString().slice(0, 10);
        const list = byDay.get(day) ?? [];
        list.push(l.line);
        byDay.set(day, list);
      }
      for (const [day, dayLines] of byDay) {
        const dir = join(options.outDir, kind, `dt=${day}`);
        await mkdir(dir, { recursive: true });
        const gz = options.gzip !== false && h % 2 === 1;
        const path = join(dir, `${host.toLowerCase()}.log${gz ? '.gz' : ''}`);
        const text = `${dayLines.join('\n')}\n`;
        await writeFile(path, gz ? gzipSync(Buffer.from(text)) : text);
        files.push(path);
      }
    }
  }

  const window = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  const truth: LinuxGroundTruth = {
    seed: options.seed,
    window,
    hosts: Array.from({ length: options.hosts }, (_, i) => `LNX${String(i + 1).padStart(2, '0')}`),
    sessions: sessions.sort((a, b) => cmp(a.host, b.host) || cmp(a.start, b.start)),
    orphans: {
      auditd: [...unsetOrphans.values()]
        .map((o) => ({ ...o, records: o.records.sort() }))
        .sort((a, b) => cmp(a.host, b.host) || cmp(a.session, b.session)),
      auth: [...authOrphans.values()]
        .map((o) => ({ ...o, lines: o.lines.sort() }))
        .sort((a, b) => cmp(a.host, b.host) || cmp(a.session, b.session)),
    },
    boots,
    auditd_counts: { events: auditdEvents, rejected: auditdRejected, skipped: auditdSkipped, duplicates },
    auth_counts: { events: authEvents, rejected: authRejected, skipped: authSkipped },
  };
  await mkdir(options.outDir, { recursive: true });
  const groundTruthPath = join(options.outDir, 'linux-ground-truth.json');
  await writeFile(groundTruthPath, `${JSON.stringify(truth, null, 2)}\n`);
  return { files: files.sort(), groundTruthPath, window };
}

function validate(o: LinuxSampleOptions): number {
  const bad = (what: string, got: unknown): never => {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `generateLinuxSample: expected ${what}, received ${String(got)}`,
    );
  };
  if (!Number.isSafeInteger(o.seed)) bad('an integer seed', o.seed);
  if (!Number.isInteger(o.hosts) || o.hosts < 3 || o.hosts > 100) bad('hosts between 3 and 100', o.hosts);
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > 31) bad('days between 1 and 31', o.days);
  if (typeof o.outDir !== 'string' || o.outDir === '') bad('an output directory', o.outDir);
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(o.from) ? Date.parse(`${o.from}T00:00:00.000Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== o.from)
    bad('from as YYYY-MM-DD', o.from);
  return ms;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
