/**
 * Simulates one Windows host's Security log over the sample window: power cycles, logon sessions and
 * their activity, noise, and the planted traps. The result is a list of events (true times, not yet
 * numbered) plus the sessions they form, from which the ground truth is derived after numbering.
 *
 * Everything runs on one seeded {@link Rng} per host, in a fixed order, so the output is reproducible.
 */
import type { Rng } from './prng.ts';
import {
  type Account,
  ADMINS,
  DNS_DOMAIN,
  DOMAIN,
  DOMAIN_SID,
  type HostPlan,
  LOCAL_SERVICE,
  LOCAL_SERVICE_LUID,
  NETWORK_SERVICE,
  NETWORK_SERVICE_LUID,
  SVC_BACKUP,
  SYSTEM,
  SYSTEM_LUID,
  windowManagerAccounts,
  workstationOwner,
} from './windows-accounts.ts';
import type { SimChannel } from './windows-layouts.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const SECURITY_AUDITING = 'Microsoft-Windows-Security-Auditing';
const EVENTLOG = 'Microsoft-Windows-Eventlog';

/** A simulated event; `record` and `shipped` are filled in once the host's events are sorted. */
export interface SimEvent {
  t: number;
  readonly seq: number;
  readonly code: number;
  readonly channel: SimChannel;
  readonly provider: string;
  readonly data: Record<string, string>;
  record: number;
  shipped: number;
  defect: 'no_event_id' | 'no_time' | null;
}

/** One half of a session: a single 4624 and its logoff events. */
export interface SimHalf {
  readonly luid: number;
  readonly logon: SimEvent;
  readonly logoffs: SimEvent[];
}

export interface SimSession {
  readonly account: Account;
  readonly logonType: number;
  /** `TargetDomainName` as written in the 4624. */
  readonly domainWritten: string;
  /** Primary half first (the elevated one of a UAC pair). */
  readonly halves: SimHalf[];
  readonly elevated: boolean;
  readonly adminPrivileges: boolean;
  readonly activity: { ev: SimEvent; luid: number }[];
  readonly interval: Interval;
  /** DWM/UMFD sessions logged on alongside an interactive session; logged off with it. */
  readonly companions: SimSession[];
}

/** 4624 as Windows 7 / 2008 R2 write it (version 0): none of the fields that versions 1 and 2 added (MS-4624). */
function legacy(data: Record<string, string>): Record<string, string> {
  const out = { ...data };
  for (const k of [
    'ImpersonationLevel',
    'RestrictedAdminMode',
    'TargetOutboundUserName',
    'TargetOutboundDomainName',
    'VirtualAccount',
    'TargetLinkedLogonId',
    'ElevatedToken',
  ])
    delete out[k];
  return out;
}

/** A stretch of uptime between boots. */
export interface Interval {
  readonly start: number;
  readonly end: number;
  readonly endKind: 'shutdown' | 'crash' | 'window_end';
  bootEv: SimEvent | null;
  shutdownEv: SimEvent | null;
  nextBootEv: SimEvent | null;
  counter: number;
  readonly used: Set<number>;
}

export interface SimOrphan {
  readonly luid: number;
  readonly userName: string;
  readonly events: SimEvent[];
}

/** Where the planted traps go; decided once for the whole sample. */
export interface HostTraps {
  /** Local day of the admin RDP session that clears the Security log (1102). */
  readonly logClearDay: number | null;
  /** Local day of a clean shutdown (4609/1100) with an admin session open, then boot and logon-id reuse. */
  readonly shutdownReuseDay: number | null;
  /** Local day of a crash: the next 4608 comes with no shutdown event. */
  readonly crashDay: number | null;
  /** Processes of an admin session that began before the window. */
  readonly orphans: boolean;
  /** The host's log shipping stops here (ms, UTC): nothing after it reaches the data. */
  readonly dataStopsAt: number | null;
}

export interface HostSimResult {
  readonly events: SimEvent[];
  readonly sessions: SimSession[];
  readonly orphans: SimOrphan[];
  readonly systemActivity: SimEvent[];
  /** Accounts SYSTEM created (a fake computer account on the DC): findings a suppression rule must not hide. */
  readonly systemAccountChanges: SimEvent[];
  /** The failed logons (4625) of the password spray planted on the DC: one finding per account tried, and one spray. */
  readonly failedLogons: SimEvent[];
  readonly intervals: Interval[];
}

/**
 * The password spray planted on the DC: one unmanaged address tries these accounts (existing admins,
 * the built-in Administrator and a name that does not exist) with one password each, 700 ms apart.
 */
export const SPRAY = {
  ip: '10.99.7.13',
  workstation: 'KALI',
  gapMs: 700,
  accounts: ['Administrator', 'adm.alice', 'adm.bob', 'adm.carol', 'svc_sql'],
} as const;

/** Privileges that make a human session admin-equivalent (domain reference §1.5 design note). */
export const ADMIN_PRIVILEGES: ReadonlySet<string> = new Set([
  'SeDebugPrivilege',
  'SeTcbPrivilege',
  'SeBackupPrivilege',
  'SeRestorePrivilege',
  'SeTakeOwnershipPrivilege',
  'SeLoadDriverPrivilege',
  'SeImpersonatePrivilege',
  'SeEnableDelegationPrivilege',
  'SeSecurityPrivilege',
]);

const ADMIN_LOGON_PRIVS = [
  'SeSecurityPrivilege',
  'SeBackupPrivilege',
  'SeRestorePrivilege',
  'SeTakeOwnershipPrivilege',
  'SeDebugPrivilege',
  'SeSystemEnvironmentPrivilege',
  'SeLoadDriverPrivilege',
  'SeImpersonatePrivilege',
  'SeDelegateSessionUserImpersonatePrivilege',
];
const SYSTEM_PRIVS = [
  'SeAssignPrimaryTokenPrivilege',
  'SeTcbPrivilege',
  'SeSecurityPrivilege',
  'SeTakeOwnershipPrivilege',
  'SeLoadDriverPrivilege',
  'SeBackupPrivilege',
  'SeRestorePrivilege',
  'SeDebugPrivilege',
  'SeAuditPrivilege',
  'SeSystemEnvironmentPrivilege',
  'SeImpersonatePrivilege',
  'SeDelegateSessionUserImpersonatePrivilege',
];
const SERVICE_PRIVS = ['SeAssignPrimaryTokenPrivilege', 'SeAuditPrivilege', 'SeImpersonatePrivilege'];

type Proc = readonly [image: string, commandLine: string];

const SYS32 = 'C:\\Windows\\System32';
const EXPLORER = 'C:\\Windows\\explorer.exe';
const USER_PROCS: readonly Proc[] = [
  ['C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', '"chrome.exe" --profile-directory=Default'],
  ['C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE', '"OUTLOOK.EXE" /recycle'],
  ['C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE', '"EXCEL.EXE" /dde'],
  ['C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE', '"WINWORD.EXE" /n'],
  [`${SYS32}\\notepad.exe`, '"notepad.exe" C:\\Users\\Public\\notes.txt'],
  [`${SYS32}\\mspaint.exe`, '"mspaint.exe"'],
];
const ADMIN_FILTERED_PROCS: readonly Proc[] = [
  [`${SYS32}\\mmc.exe`, '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\dsa.msc"'],
  [`${SYS32}\\cmd.exe`, '"C:\\Windows\\system32\\cmd.exe"'],
  [`${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`, 'powershell.exe -NoProfile'],
  [`${SYS32}\\whoami.exe`, 'whoami /groups'],
  [`${SYS32}\\notepad.exe`, '"notepad.exe" C:\\Temp\\change-ticket.txt'],
];
const ADMIN_ELEVATED_PROCS: readonly Proc[] = [
  [
    `${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
    'powershell.exe -c "Get-Service | ? Status -eq Stopped"',
  ],
  [`${SYS32}\\cmd.exe`, 'cmd.exe /c net localgroup administrators'],
  [`${SYS32}\\eventvwr.exe`, '"C:\\Windows\\system32\\eventvwr.exe"'],
  [`${SYS32}\\sc.exe`, 'sc.exe query state= all'],
  [`${SYS32}\\reg.exe`, 'reg.exe query HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer'],
  ['C:\\Tools\\procexp64.exe', '"C:\\Tools\\procexp64.exe" /accepteula'],
];
const WMI_PROCS: readonly Proc[] = [
  [`${SYS32}\\cmd.exe`, 'cmd.exe /Q /c hostname 1> \\\\127.0.0.1\\ADMIN$\\__1600000000.1 2>&1'],
  [`${SYS32}\\ipconfig.exe`, 'ipconfig.exe /all'],
  [`${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`, 'powershell.exe -NoP -c Get-HotFix'],
  [`${SYS32}\\qwinsta.exe`, 'qwinsta.exe'],
];
const SYSTEM_PROCS: readonly Proc[] = [
  [`${SYS32}\\svchost.exe`, 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule'],
  [`${SYS32}\\taskhostw.exe`, 'taskhostw.exe Install $(Arg0)'],
  [`${SYS32}\\backgroundTaskHost.exe`, '"backgroundTaskHost.exe" -ServerName:CortanaUI.AppX'],
  [
    'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.2008.9-0\\MpCmdRun.exe',
    'MpCmdRun.exe -IdleTask',
  ],
  [`${SYS32}\\conhost.exe`, '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1'],
  [`${SYS32}\\SearchProtocolHost.exe`, '"SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe1'],
  [`${SYS32}\\wbem\\WmiPrvSE.exe`, 'C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding'],
];
const GROUP_ADDS = [
  { code: 4728, group: 'Domain Admins', sid: `${DOMAIN_SID}-512`, domain: DOMAIN },
  { code: 4732, group: 'Administrators', sid: 'S-1-5-32-544', domain: 'Builtin' },
  { code: 4756, group: 'Enterprise Admins', sid: `${DOMAIN_SID}-519`, domain: DOMAIN },
] as const;

/** Canonical logon id: lower-case hex, `0x` prefix, no leading zeros. */
export function hexId(n: number): string {
  return `0x${n.toString(16)}`;
}

interface LogonOptions {
  readonly uac?: boolean;
  readonly elevated: boolean;
  readonly privileges?: readonly string[];
  readonly ip?: string;
  readonly srcHost?: string;
  readonly kerberos?: boolean;
  readonly luid?: number;
  readonly windowManager?: boolean;
}

interface Task {
  readonly start: number;
  readonly order: number;
  readonly run: () => void;
}

/** Simulates one host; see the module comment. */
export class HostSim {
  private readonly events: SimEvent[] = [];
  private readonly sessions: SimSession[] = [];
  private readonly orphans: SimOrphan[] = [];
  private readonly systemActivity: SimEvent[] = [];
  private readonly systemAccountChanges: SimEvent[] = [];
  private readonly failedLogons: SimEvent[] = [];
  private readonly tasks: Task[] = [];
  private readonly intervals: Interval[] = [];
  private interval!: Interval;
  private seq = 0;
  private limit = 0;
  private wmSession = 1;
  /** Start of the task being run: the single-event noise tasks log at this time. */
  private now = 0;
  /** Sub-second offset added to every event of the current task (Winlogbeat hosts only). */
  private shift = 0;
  private readonly nxlog: boolean;

  constructor(
    private readonly host: HostPlan,
    private readonly peers: readonly HostPlan[],
    private readonly rng: Rng,
    private readonly from: number,
    private readonly days: number,
    private readonly traps: HostTraps,
  ) {
    this.nxlog = host.layout === 'nxlog';
  }

  /** Runs the whole simulation once. */
  run(): HostSimResult {
    const boundaries = this.planPower();
    this.planDays();
    this.tasks.sort((a, b) => a.start - b.start || a.order - b.order);
    const to = this.from + this.days * DAY;
    let start = this.from;
    let boot: number | null = null;
    const edges = [...boundaries, { at: to, bootAt: to, kind: 'window_end' as const }];
    let previous: Interval | null = null;
    for (const edge of edges) {
      const iv: Interval = {
        start,
        end: edge.at,
        endKind: edge.kind,
        bootEv: null,
        shutdownEv: null,
        nextBootEv: null,
        counter: boot === null ? this.rng.int(0x1000000, 0x3000000) : 0x20000 + this.rng.int(0, 0x8000),
        used: new Set(),
      };
      this.intervals.push(iv);
      this.interval = iv;
      this.limit = iv.end;
      let firstTask = start;
      if (boot !== null) {
        iv.bootEv = this.bootSequence(boot);
        if (previous !== null) previous.nextBootEv = iv.bootEv;
        firstTask = boot + 20 * SEC;
      }
      for (const task of this.tasks) {
        if (task.start < firstTask || task.start >= iv.end) continue;
        this.now = task.start;
        // Winlogbeat keeps milliseconds: shift each task's events by one random sub-second offset,
        // which keeps their order within the task.
        this.shift = this.nxlog ? 0 : this.rng.int(0, 999);
        task.run();
      }
      if (edge.kind === 'shutdown') {
        // The shutdown records are written at the very end of the uptime, so let them through.
        this.limit = edge.at + 5 * SEC;
        iv.shutdownEv = this.emit(edge.at, 4609, {});
        this.emit(edge.at + 900, 1100, {}, EVENTLOG);
      }
      previous = iv;
      start = edge.bootAt;
      boot = edge.bootAt;
    }
    return {
      events: this.events,
      sessions: this.sessions,
      orphans: this.orphans,
      systemActivity: this.systemActivity,
      systemAccountChanges: this.systemAccountChanges,
      failedLogons: this.failedLogons,
      intervals: this.intervals,
    };
  }

  // ---------------------------------------------------------------- planning

  /** Local wall-clock time `hh:mm` of local day `k` (day 0 = the local date of the window start + 1). */
  private local(k: number, hh: number, mm: number): number {
    return this.from + k * DAY + (hh * 60 + mm) * MIN - this.host.utcOffsetMinutes * MIN;
  }

  private schedule(start: number, run: () => void): void {
    if (start < this.from || start >= this.from + this.days * DAY) return;
    this.tasks.push({ start, order: this.tasks.length, run });
  }

  private planPower(): { at: number; bootAt: number; kind: 'shutdown' | 'crash' }[] {
    const out: { at: number; bootAt: number; kind: 'shutdown' | 'crash' }[] = [];
    const r = this.rng;
    if (this.traps.crashDay !== null) {
      const at = this.local(this.traps.crashDay, 9, 40);
      out.push({ at, bootAt: at + 4 * MIN + r.int(0, 90) * SEC, kind: 'crash' });
    }
    if (this.traps.shutdownReuseDay !== null) {
      const at = this.local(this.traps.shutdownReuseDay, 14, 0);
      out.push({ at, bootAt: at + 4 * MIN + r.int(0, 60) * SEC, kind: 'shutdown' });
    }
    if (this.host.role === 'workstation') {
      // Some workstations are switched off overnight: a clean shutdown and a boot next morning.
      for (let d = 0; d <= this.days - 2; d++) {
        if (!r.chance(0.3)) continue;
        const at = this.local(d, 19, 30) + r.int(0, 40) * MIN;
        out.push({ at, bootAt: this.local(d + 1, 6, 50) + r.int(0, 30) * MIN, kind: 'shutdown' });
      }
    }
    return out.sort((a, b) => a.at - b.at);
  }

  private planDays(): void {
    const r = this.rng;
    const role = this.host.role;
    for (let k = -1; k < this.days; k++) {
      const dayStart = this.local(k, 0, 0);
      const anyTime = () => dayStart + r.int(0, DAY - 1);
      for (let i = r.int(25, 45); i > 0; i--) this.schedule(anyTime(), () => this.systemProcess());
      for (let i = r.int(3, 8); i > 0; i--) this.schedule(anyTime(), () => this.systemObjectAccess());
      for (let i = r.int(25, role === 'dc' ? 70 : 45); i > 0; i--)
        this.schedule(anyTime(), () => this.wfpNoise());
      for (let i = r.int(3, 8); i > 0; i--) this.schedule(anyTime(), () => this.tokenRightNoise());
      for (let i = r.int(1, 2); i > 0; i--) this.schedule(anyTime(), () => this.sysmonNoise());
      const floods = role === 'dc' ? r.int(60, 90) : role === 'server' ? r.int(25, 40) : r.int(8, 14);
      for (let i = floods; i > 0; i--) this.schedule(anyTime(), () => this.machineNetworkLogon());
      if (role === 'workstation') this.planWorkstationDay(k);
      else this.planServerDay(k);
    }
    // On the DC, SYSTEM creates a computer-like account (as attacks do): a finding whatever the
    // suppression of SYSTEM. A fixed time and no random draw: the rest of the sample is unchanged.
    if (role === 'dc') this.schedule(this.local(0, 3, 17), () => this.systemAccountCreation());
    // And a password spray against it, the same way: fixed time, no random draw.
    if (role === 'dc') this.schedule(this.local(0, 2, 41), () => this.passwordSpray());
    if (this.traps.orphans) {
      const luid = this.rng.int(0x400000, 0xf00000);
      const admin = ADMINS[2] as Account;
      const orphan: SimOrphan = { luid, userName: admin.name, events: [] };
      this.orphans.push(orphan);
      let t = this.from + 35 * MIN + r.int(0, 20) * MIN;
      for (let i = r.int(3, 5); i > 0; i--) {
        const when = t;
        this.schedule(when, () => {
          const [image, cmd] = r.pick(ADMIN_FILTERED_PROCS);
          const ev = this.process(when, admin, luid, image, cmd, EXPLORER, '%%1938', 'S-1-16-8192');
          if (ev !== null) orphan.events.push(ev);
        });
        t += r.int(1, 25) * MIN;
      }
      // The session that began before the window ends inside it: its logoff is in the data, its logon not.
      if (this.host.logoffAudited) {
        const at = t + 7 * MIN;
        this.schedule(at, () => {
          const who = {
            TargetUserSid: admin.sid,
            TargetUserName: admin.name,
            TargetDomainName: admin.domain,
          };
          for (const [code, dt, extra] of [
            [4647, 0, {}],
            [4634, 900, { LogonType: this.host.role === 'workstation' ? '2' : '10' }],
          ] as const) {
            const ev = this.emit(at + dt, code, { ...who, TargetLogonId: hexId(luid), ...extra });
            if (ev !== null) orphan.events.push(ev);
          }
        });
      }
    }
  }

  private planWorkstationDay(k: number): void {
    const r = this.rng;
    const owner = workstationOwner(Number(this.host.short.slice(2)) - 1);
    if (k >= 0) {
      const start = this.local(k, 7, 30) + r.int(0, 120) * MIN;
      const duration = r.int(7 * 60, 10 * 60 + 30) * MIN;
      this.schedule(start, () => this.userDay(owner, start, duration));
      if (r.chance(0.35)) {
        const at = this.local(k, 10, 0) + r.int(0, 7 * 60) * MIN;
        this.schedule(at, () => this.adminInteractive(at, 2, r.int(10, 40) * MIN, null));
      }
    }
  }

  private planServerDay(k: number): void {
    const r = this.rng;
    const t = this.traps;
    const nightly = this.local(k + 1, 1, 0) + r.int(0, 30) * MIN;
    this.schedule(nightly, () => this.backupJob(nightly));
    if (k < 0) return;
    for (let i = r.int(1, 2); i > 0; i--) {
      const at = this.local(k, 9, 0) + r.int(0, 7 * 60) * MIN;
      this.schedule(at, () => this.adminInteractive(at, 10, r.int(15, 90) * MIN, null));
    }
    for (let i = r.int(3, 6); i > 0; i--) {
      const at = this.local(k, 8, 0) + r.int(0, 10 * 60) * MIN;
      this.schedule(at, () => this.adminNetwork(at, null));
    }
    if (this.host.role === 'dc') {
      const at = this.local(k, 10, 0) + r.int(0, 5 * 60) * MIN;
      this.schedule(at, () => this.accountManagement(at, k));
    }
    if (this.host.role === 'dc' && k === this.days - 1) {
      // An admin still logged on when the window ends: no logoff in the data.
      const at = this.local(k, 18, 20) + r.int(0, 20) * MIN;
      this.schedule(at, () => this.adminInteractive(at, 10, 3 * HOUR, null));
    }
    if (t.logClearDay === k) {
      const at = this.local(k, 11, 50);
      this.schedule(at, () => this.adminInteractive(at, 10, 40 * MIN, { clearAt: this.local(k, 12, 10) }));
    }
    if (t.crashDay === k) {
      const at = this.local(k, 9, 5);
      this.schedule(at, () => this.adminInteractive(at, 10, 3 * HOUR, null));
    }
    if (t.shutdownReuseDay === k) {
      let reused = 0;
      const at = this.local(k, 13, 10);
      this.schedule(at, () => {
        reused = this.adminInteractive(at, 10, 3 * HOUR, null)?.halves[0]?.luid ?? 0;
      });
      const after = this.local(k, 14, 30);
      this.schedule(after, () => this.adminNetwork(after, reused === 0 ? null : reused));
    }
  }

  // ---------------------------------------------------------------- emission

  private emit(
    t: number,
    code: number,
    data: Record<string, string>,
    provider = SECURITY_AUDITING,
  ): SimEvent | null {
    // NXLog's EventTime has whole seconds only; make those hosts' true times whole seconds too so the
    // ground truth is exactly what the data can show.
    const at = this.nxlog ? Math.floor(t / SEC) * SEC : Math.floor(t) + this.shift;
    if (at >= this.limit || at < this.from) return null;
    if (this.traps.dataStopsAt !== null && at >= this.traps.dataStopsAt) return null;
    const ev: SimEvent = {
      t: at,
      seq: this.seq++,
      code,
      channel: 'security',
      provider,
      data,
      record: 0,
      shipped: 0,
      defect: null,
    };
    this.events.push(ev);
    return ev;
  }

  private allocLuid(): number {
    const iv = this.interval;
    iv.counter += this.rng.int(0x80, 0x2400);
    while (iv.used.has(iv.counter)) iv.counter++;
    iv.used.add(iv.counter);
    return iv.counter;
  }

  private guid(): string {
    const h = (n: number) =>
      Array.from({ length: n }, () => '0123456789abcdef'[this.rng.int(0, 15)]).join('');
    return `{${h(8)}-${h(4)}-${h(4)}-${h(4)}-${h(12)}}`;
  }

  private pid(): string {
    return hexId(this.rng.int(0x40, 0x1c00) * 4);
  }

  private machineSubject(): Record<string, string> {
    return {
      SubjectUserSid: SYSTEM.sid,
      SubjectUserName: this.host.machine.name,
      SubjectDomainName: DOMAIN,
      SubjectLogonId: hexId(SYSTEM_LUID),
    };
  }

  private subject(account: Account, luid: number): Record<string, string> {
    return {
      SubjectUserSid: account.sid,
      SubjectUserName: account.name,
      SubjectDomainName: account.domain,
      SubjectLogonId: hexId(luid),
    };
  }

  private privilegeList(privs: readonly string[]): string {
    // NXLog keeps the CRLF of the rendered insertion string; Winlogbeat golden files show LF.
    return privs.join(this.nxlog ? '\r\n\t\t\t' : '\n\t\t\t');
  }

  /** Logs a logon (4624, plus 4672 and the filtered twin of a UAC pair); null if it fell outside uptime. */
  private logon(t: number, account: Account, type: number, o: LogonOptions): SimSession | null {
    const r = this.rng;
    if (t + 5 * SEC >= this.limit) return null;
    const companions: SimSession[] = [];
    if ((type === 2 || type === 10 || type === 11) && !o.windowManager) {
      // Each interactive logon brings a Font Driver Host and a Desktop Window Manager logon.
      const n = this.wmSession++;
      for (const wm of windowManagerAccounts(n)) {
        const s = this.logon(t - r.int(300, 900), wm, 2, { elevated: true, windowManager: true });
        if (s !== null) companions.push(s);
      }
    }
    const network = type === 3;
    const service = type === 4 || type === 5;
    const domainWritten = network && o.kerberos ? DNS_DOMAIN.toUpperCase() : account.domain;
    const primary = o.luid ?? this.allocLuid();
    this.interval.used.add(primary);
    const twin = o.uac ? this.allocLuid() : null;
    const data = (luid: number, linked: number, elevated: boolean): Record<string, string> =>
      this.host.legacyLogonEvents ? legacy(fields(luid, linked, elevated)) : fields(luid, linked, elevated);
    const fields = (luid: number, linked: number, elevated: boolean): Record<string, string> => ({
      SubjectUserSid: network ? 'S-1-0-0' : SYSTEM.sid,
      SubjectUserName: network ? '-' : this.host.machine.name,
      SubjectDomainName: network ? '-' : DOMAIN,
      SubjectLogonId: network ? '0x0' : hexId(SYSTEM_LUID),
      TargetUserSid: account.sid,
      TargetUserName: account.name,
      TargetDomainName: domainWritten,
      TargetLogonId: hexId(luid),
      LogonType: String(type),
      // Real data pads these names with trailing spaces (WLB-GOLD).
      LogonProcessName: network ? (o.kerberos ? 'Kerberos' : 'NtLmSsp ') : service ? 'Advapi  ' : 'User32 ',
      AuthenticationPackageName: network ? (o.kerberos ? 'Kerberos' : 'NTLM') : 'Negotiate',
      WorkstationName: network ? (o.kerberos ? '-' : (o.srcHost ?? '-')) : this.host.short,
      LogonGuid: network && o.kerberos ? this.guid() : '{00000000-0000-0000-0000-000000000000}',
      TransmittedServices: '-',
      LmPackageName: network && !o.kerberos ? 'NTLM V2' : '-',
      KeyLength: network && !o.kerberos ? '128' : '0',
      ProcessId: network ? '0x0' : service ? '0x2b0' : type === 10 ? '0x4a8' : '0x2d4',
      ProcessName: network
        ? '-'
        : service
          ? `${SYS32}\\services.exe`
          : type === 10
            ? `${SYS32}\\svchost.exe`
            : `${SYS32}\\winlogon.exe`,
      IpAddress: network || type === 10 ? (o.ip ?? '-') : service ? '-' : '127.0.0.1',
      IpPort: network ? String(r.int(49152, 65535)) : service ? '-' : '0',
      ImpersonationLevel: '%%1833',
      RestrictedAdminMode: type === 10 ? '%%1843' : '-',
      TargetOutboundUserName: '-',
      TargetOutboundDomainName: '-',
      VirtualAccount: o.windowManager ? '%%1842' : '%%1843',
      TargetLinkedLogonId: hexId(linked),
      ElevatedToken: elevated ? '%%1842' : '%%1843',
    });
    const first = this.emit(t, 4624, data(primary, twin ?? 0, o.elevated));
    if (first === null) return null;
    const halves: SimHalf[] = [{ luid: primary, logon: first, logoffs: [] }];
    if (o.privileges !== undefined) {
      this.emit(t + r.int(1, 40), 4672, {
        ...this.subject(account, primary),
        PrivilegeList: this.privilegeList(o.privileges),
      });
    }
    if (twin !== null) {
      const second = this.emit(t + r.int(41, 120), 4624, data(twin, primary, false));
      if (second !== null) halves.push({ luid: twin, logon: second, logoffs: [] });
    }
    const session: SimSession = {
      account,
      logonType: type,
      domainWritten,
      halves,
      elevated: o.elevated,
      adminPrivileges: (o.privileges ?? []).some((p) => ADMIN_PRIVILEGES.has(p)),
      activity: [],
      interval: this.interval,
      companions,
    };
    this.sessions.push(session);
    return session;
  }

  /** 4647 (for user-initiated logoffs) then 4634 for every half and companion; nothing if not audited. */
  private logoff(t: number, s: SimSession, userInitiated: boolean): void {
    if (!this.host.logoffAudited) return;
    const halves = [...s.halves].reverse();
    let at = t;
    if (userInitiated) {
      for (const h of halves) {
        const ev = this.emit(at, 4647, {
          TargetUserSid: s.account.sid,
          TargetUserName: s.account.name,
          TargetDomainName: s.account.domain,
          TargetLogonId: hexId(h.luid),
        });
        if (ev !== null) h.logoffs.push(ev);
        at += this.rng.int(5, 60);
      }
    }
    for (const h of halves) {
      at += this.rng.int(50, 1500);
      const ev = this.emit(at, 4634, {
        TargetUserSid: s.account.sid,
        TargetUserName: s.account.name,
        TargetDomainName: s.domainWritten,
        TargetLogonId: hexId(h.luid),
        LogonType: String(s.logonType),
      });
      if (ev !== null) h.logoffs.push(ev);
    }
    for (const c of s.companions) this.logoff(at + this.rng.int(500, 3000), c, false);
  }

  private record(s: SimSession | null, luid: number, ev: SimEvent | null): SimEvent | null {
    if (ev !== null && s !== null) s.activity.push({ ev, luid });
    return ev;
  }

  /** 4688 created by `account` in session `luid` (Target fields empty). */
  private process(
    t: number,
    account: Account,
    luid: number,
    image: string,
    commandLine: string,
    parent: string,
    elevationType: string,
    label: string,
  ): SimEvent | null {
    return this.emit(t, 4688, {
      ...this.subject(account, luid),
      NewProcessId: this.pid(),
      NewProcessName: image,
      TokenElevationType: elevationType,
      ProcessId: this.pid(),
      CommandLine: commandLine,
      TargetUserSid: 'S-1-0-0',
      TargetUserName: '-',
      TargetDomainName: '-',
      TargetLogonId: '0x0',
      ParentProcessName: parent,
      MandatoryLabel: label,
    });
  }

  private sessionProcess(
    t: number,
    s: SimSession,
    half: 0 | 1,
    procs: readonly Proc[],
    parent = EXPLORER,
  ): void {
    const h = s.halves[half] ?? s.halves[0];
    if (h === undefined) return;
    const [image, cmd] = this.rng.pick(procs);
    const elevated = half === 0 && s.halves.length === 2;
    const type = s.halves.length === 2 ? (elevated ? '%%1937' : '%%1938') : '%%1936';
    const label = elevated ? 'S-1-16-12288' : 'S-1-16-8192';
    this.record(s, h.luid, this.process(t, s.account, h.luid, image, cmd, parent, type, label));
  }

  /** WMI/WinRM style: SYSTEM creates the process, the Target fields name the network session. */
  private remoteProcess(t: number, s: SimSession): void {
    const h = s.halves[0];
    if (h === undefined) return;
    const [image, cmd] = this.rng.pick(WMI_PROCS);
    const ev = this.emit(t, 4688, {
      ...this.machineSubject(),
      NewProcessId: this.pid(),
      NewProcessName: image,
      TokenElevationType: '%%1936',
      ProcessId: this.pid(),
      CommandLine: cmd,
      TargetUserSid: s.account.sid,
      TargetUserName: s.account.name,
      TargetDomainName: s.account.domain,
      TargetLogonId: hexId(h.luid),
      ParentProcessName: `${SYS32}\\wbem\\WmiPrvSE.exe`,
      MandatoryLabel: 'S-1-16-12288',
    });
    this.record(s, h.luid, ev);
  }

  // ---------------------------------------------------------------- scenarios

  private bootSequence(at: number): SimEvent | null {
    const r = this.rng;
    this.limit = this.interval.end;
    const boot = this.emit(at, 4608, {});
    const services: [Account, number, readonly string[]][] = [
      [SYSTEM, SYSTEM_LUID, SYSTEM_PRIVS],
      [NETWORK_SERVICE, NETWORK_SERVICE_LUID, SERVICE_PRIVS],
      [LOCAL_SERVICE, LOCAL_SERVICE_LUID, SERVICE_PRIVS],
    ];
    let t = at + r.int(1500, 4000);
    for (const [account, luid, privs] of services) {
      this.interval.used.add(luid);
      this.logon(t, account, 5, { elevated: true, luid, privileges: privs });
      t += r.int(300, 2500);
    }
    for (let i = r.int(2, 4); i > 0; i--) {
      t += r.int(200, 3000);
      this.systemProcess(t);
    }
    return boot;
  }

  private systemProcess(at?: number): void {
    const r = this.rng;
    const t = at ?? this.now;
    const [image, cmd] = r.pick(SYSTEM_PROCS);
    const ev = this.emit(t, 4688, {
      ...this.machineSubject(),
      NewProcessId: this.pid(),
      NewProcessName: image,
      TokenElevationType: '%%1936',
      ProcessId: this.pid(),
      CommandLine: cmd,
      TargetUserSid: 'S-1-0-0',
      TargetUserName: '-',
      TargetDomainName: '-',
      TargetLogonId: '0x0',
      ParentProcessName: `${SYS32}\\svchost.exe`,
      MandatoryLabel: 'S-1-16-16384',
    });
    if (ev !== null) this.systemActivity.push(ev);
  }

  private systemAccountCreation(): void {
    const name = 'SRV-BACKUP9$';
    const ev = this.emit(this.now, 4720, {
      ...this.machineSubject(),
      TargetUserName: name,
      TargetDomainName: DOMAIN,
      TargetSid: `${DOMAIN_SID}-4999`,
      SamAccountName: name,
      DisplayName: '%%1793',
      UserPrincipalName: '-',
      UserAccountControl: '\r\n\t\t%%2087',
      PrimaryGroupId: '515',
      PrivilegeList: '-',
    });
    if (ev !== null) {
      this.systemActivity.push(ev);
      this.systemAccountChanges.push(ev);
    }
  }

  /**
   * 4625 for each account of {@link SPRAY}, as a network logon with NTLM fails (Microsoft, 4625(F):
   * Status 0xC000006D "bad user name or password", SubStatus 0xC000006A wrong password, 0xC0000064
   * no such user; the target SID is NULL SID when the logon fails).
   */
  private passwordSpray(): void {
    const known = new Set(['Administrator', ...ADMINS.map((a) => a.name)]);
    SPRAY.accounts.forEach((name, i) => {
      const ev = this.emit(this.now + i * SPRAY.gapMs, 4625, {
        SubjectUserSid: 'S-1-0-0',
        SubjectUserName: '-',
        SubjectDomainName: '-',
        SubjectLogonId: '0x0',
        TargetUserSid: 'S-1-0-0',
        TargetUserName: name,
        TargetDomainName: DOMAIN,
        Status: '0xc000006d',
        FailureReason: '%%2313',
        SubStatus: known.has(name) ? '0xc000006a' : '0xc0000064',
        LogonType: '3',
        LogonProcessName: 'NtLmSsp ',
        AuthenticationPackageName: 'NTLM',
        WorkstationName: SPRAY.workstation,
        TransmittedServices: '-',
        LmPackageName: '-',
        KeyLength: '0',
        ProcessId: '0x0',
        ProcessName: '-',
        IpAddress: SPRAY.ip,
        IpPort: String(50_000 + i),
      });
      if (ev !== null) this.failedLogons.push(ev);
    });
  }

  private systemObjectAccess(): void {
    const ev = this.emit(this.now, 4663, {
      ...this.machineSubject(),
      ObjectServer: 'Security',
      ObjectType: 'Key',
      ObjectName: '\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Control\\Session Manager\\Environment',
      HandleId: this.pid(),
      AccessList: '%%4432\r\n\t\t\t\t',
      AccessMask: '0x1',
      ProcessId: this.pid(),
      ProcessName: `${SYS32}\\svchost.exe`,
      ResourceAttributes: '-',
    });
    if (ev !== null) this.systemActivity.push(ev);
  }

  private wfpNoise(): void {
    const r = this.rng;
    this.emit(this.now, 5156, {
      ProcessID: String(r.int(4, 9000)),
      Application: r.chance(0.5) ? 'System' : '\\device\\harddiskvolume2\\windows\\system32\\svchost.exe',
      Direction: '%%14593',
      SourceAddress: this.host.ip,
      SourcePort: String(r.int(49152, 65535)),
      DestAddress: `10.10.0.${r.int(10, 60)}`,
      DestPort: r.pick(['53', '88', '135', '389', '443', '445']),
      Protocol: '6',
      FilterRTID: String(r.int(60000, 90000)),
      LayerName: '%%14611',
      LayerRTID: '48',
      RemoteUserID: 'S-1-0-0',
      RemoteMachineID: 'S-1-0-0',
    });
  }

  private tokenRightNoise(): void {
    this.emit(this.now, 4703, {
      ...this.machineSubject(),
      TargetUserSid: SYSTEM.sid,
      TargetUserName: this.host.machine.name,
      TargetDomainName: DOMAIN,
      TargetLogonId: hexId(SYSTEM_LUID),
      ProcessName: `${SYS32}\\svchost.exe`,
      ProcessId: this.pid(),
      EnabledPrivilegeList: this.privilegeList(['SeAssignPrimaryTokenPrivilege', 'SeIncreaseQuotaPrivilege']),
      DisabledPrivilegeList: '-',
    });
  }

  private sysmonNoise(): void {
    const r = this.rng;
    const t = this.nxlog ? Math.floor(this.now / SEC) * SEC : this.now + this.shift;
    if (t >= this.limit || t < this.from) return;
    const [image, cmd] = r.pick(SYSTEM_PROCS);
    this.events.push({
      t,
      seq: this.seq++,
      code: 1,
      channel: 'sysmon',
      provider: 'Microsoft-Windows-Sysmon',
      data: {
        RuleName: '-',
        UtcTime: new Date(t).toISOString().replace('T', ' ').slice(0, 23),
        ProcessGuid: this.guid(),
        ProcessId: String(r.int(100, 9000)),
        Image: image,
        CommandLine: cmd,
        CurrentDirectory: 'C:\\Windows\\system32\\',
        User: 'NT AUTHORITY\\SYSTEM',
        LogonGuid: this.guid(),
        // A logon id outside the Security channel: a reader must not attribute it.
        LogonId: hexId(SYSTEM_LUID),
        TerminalSessionId: '0',
        IntegrityLevel: 'System',
        ParentImage: `${SYS32}\\services.exe`,
      },
      record: 0,
      shipped: 0,
      defect: null,
    });
  }

  private machineNetworkLogon(): void {
    const r = this.rng;
    const t = this.now;
    // Mostly other computers' accounts; on the DC also its own account under S-1-5-18 (as in OTRF).
    const self = this.host.role === 'dc' && r.chance(0.3);
    const peer = r.pick(this.peers);
    const account: Account = self ? { ...this.host.machine, sid: SYSTEM.sid } : peer.machine;
    const s = this.logon(t, account, 3, {
      elevated: true,
      kerberos: true,
      ip: self ? '::1' : peer.ip,
      privileges: self ? SYSTEM_PRIVS : undefined,
    });
    if (s !== null) this.logoff(t + r.int(100, 30_000), s, false);
  }

  private userDay(owner: Account, start: number, duration: number): void {
    const r = this.rng;
    const type = r.chance(0.15) ? 11 : 2;
    const s = this.logon(start, owner, type, { elevated: false });
    if (s === null) return;
    this.sessionProcess(
      start + r.int(2, 6) * SEC,
      s,
      0,
      [[EXPLORER, 'C:\\Windows\\Explorer.EXE']],
      `${SYS32}\\userinit.exe`,
    );
    for (let i = r.int(12, 25); i > 0; i--)
      this.sessionProcess(start + r.int(1, duration / SEC - 60) * SEC, s, 0, USER_PROCS);
    this.logoff(start + duration, s, true);
  }

  private adminInteractive(
    start: number,
    type: 2 | 10,
    duration: number,
    plant: { clearAt: number } | null,
  ): SimSession | null {
    const r = this.rng;
    const admin = r.pick(ADMINS);
    const client = r.pick(this.peers.filter((p) => p.role === 'workstation').concat(this.host));
    const s = this.logon(start, admin, type, {
      uac: true,
      elevated: true,
      privileges: ADMIN_LOGON_PRIVS,
      ip: client.ip,
    });
    if (s === null) return null;
    const offset = () => start + r.int(30, Math.max(31, duration / SEC - 30)) * SEC;
    this.sessionProcess(
      start + r.int(2, 6) * SEC,
      s,
      1,
      [[EXPLORER, 'C:\\Windows\\Explorer.EXE']],
      `${SYS32}\\userinit.exe`,
    );
    for (let i = r.int(3, 8); i > 0; i--) this.sessionProcess(offset(), s, 1, ADMIN_FILTERED_PROCS);
    for (let i = r.int(1, 4); i > 0; i--) this.sessionProcess(offset(), s, 0, ADMIN_ELEVATED_PROCS);
    const elevated = s.halves[0] as SimHalf;
    const filtered = s.halves[1] ?? elevated;
    if (this.host.role !== 'workstation') {
      for (let i = r.int(0, 2); i > 0; i--) this.privilegeUse(offset(), s, elevated.luid);
    }
    if (r.chance(0.3)) this.explicitCredentials(offset(), s, filtered.luid);
    if (type === 10 && r.chance(0.4)) {
      const away = start + r.int(60, Math.max(61, duration / SEC / 2)) * SEC;
      const back = away + r.int(30, Math.max(31, (start + duration - away) / SEC - 20)) * SEC;
      const rdp = {
        AccountName: admin.name,
        AccountDomain: admin.domain,
        LogonID: hexId(filtered.luid),
        SessionName: `RDP-Tcp#${r.int(0, 9)}`,
        ClientName: client.short,
        ClientAddress: client.ip,
      };
      this.emit(away, 4779, rdp);
      this.emit(back, 4778, rdp);
    }
    if (plant !== null) {
      this.record(
        s,
        elevated.luid,
        this.emit(plant.clearAt, 1102, this.subject(admin, elevated.luid), EVENTLOG),
      );
    }
    this.logoff(start + duration, s, r.chance(0.8));
    return s;
  }

  private privilegeUse(t: number, s: SimSession, luid: number): void {
    const r = this.rng;
    const roll = r.int(0, 2);
    const base = this.subject(s.account, luid);
    const ev =
      roll === 0
        ? this.emit(t, 4673, {
            ...base,
            ObjectServer: 'Security',
            Service: '-',
            PrivilegeList: 'SeDebugPrivilege',
            ProcessId: this.pid(),
            ProcessName: 'C:\\Tools\\procexp64.exe',
          })
        : roll === 1
          ? this.emit(t, 4674, {
              ...base,
              ObjectServer: 'Security',
              ObjectType: 'Key',
              ObjectName: '\\REGISTRY\\MACHINE\\SECURITY',
              HandleId: this.pid(),
              AccessMask: '131072',
              PrivilegeList: 'SeTakeOwnershipPrivilege',
              ProcessId: this.pid(),
              ProcessName: `${SYS32}\\regedit.exe`,
            })
          : this.emit(t, 4663, {
              ...base,
              ObjectServer: 'Security',
              ObjectType: 'File',
              ObjectName: 'D:\\Shares\\Finance\\payroll.xlsx',
              HandleId: this.pid(),
              AccessList: '%%4416\r\n\t\t\t\t',
              AccessMask: '0x1',
              ProcessId: this.pid(),
              ProcessName: EXPLORER,
              ResourceAttributes: 'S:AI',
            });
    this.record(s, luid, ev);
  }

  private explicitCredentials(t: number, s: SimSession, luid: number): void {
    const target = this.rng.pick(this.peers);
    this.record(
      s,
      luid,
      this.emit(t, 4648, {
        ...this.subject(s.account, luid),
        LogonGuid: '{00000000-0000-0000-0000-000000000000}',
        TargetUserName: s.account.name,
        TargetDomainName: DNS_DOMAIN.toUpperCase(),
        TargetLogonGuid: this.guid(),
        TargetServerName: target.short,
        TargetInfo: `HOST/${target.short}`,
        ProcessId: this.pid(),
        ProcessName: `${SYS32}\\runas.exe`,
        IpAddress: '-',
        IpPort: '-',
      }),
    );
  }

  private adminNetwork(start: number, luid: number | null): SimSession | null {
    const r = this.rng;
    const admin = r.pick(ADMINS);
    const client = r.pick(this.peers.filter((p) => p.role === 'workstation').concat(this.host));
    const s = this.logon(start, admin, 3, {
      elevated: true,
      kerberos: true,
      privileges: ADMIN_LOGON_PRIVS,
      ip: client.ip,
      luid: luid ?? undefined,
    });
    if (s === null) return null;
    let t = start + r.int(100, 900);
    const count = luid !== null ? r.int(1, 3) : r.int(0, 3);
    for (let i = 0; i < count; i++) {
      this.remoteProcess(t, s);
      t += r.int(50, 2500);
    }
    this.logoff(t + r.int(1, 15) * SEC, s, false);
    return s;
  }

  private accountManagement(start: number, k: number): void {
    const r = this.rng;
    const s = this.adminNetworkSession(start);
    if (s === null) return;
    const admin = s.account;
    const luid = (s.halves[0] as SimHalf).luid;
    const rid = 5000 + (k + 1) * 10 + r.int(0, 9);
    const user = { name: `tmp.contractor${k + 1}`, sid: `${DOMAIN_SID}-${rid}` };
    let t = start + r.int(200, 900);
    const step = () => {
      t += r.int(40, 900);
      return t;
    };
    this.remoteProcess(step(), s);
    const base = this.subject(admin, luid);
    const target = { TargetUserName: user.name, TargetDomainName: DOMAIN, TargetSid: user.sid };
    this.record(
      s,
      luid,
      this.emit(step(), 4720, {
        ...base,
        ...target,
        SamAccountName: user.name,
        DisplayName: '%%1793',
        UserPrincipalName: `${user.name}@${DNS_DOMAIN}`,
        UserAccountControl: '\r\n\t\t%%2080\r\n\t\t%%2082\r\n\t\t%%2084',
        PrimaryGroupId: '513',
        PrivilegeList: '-',
      }),
    );
    this.record(s, luid, this.emit(step(), 4724, { ...base, ...target }));
    // Day 0 adds the member to all three kinds of group, so even a one-day sample has each event.
    const adds = k === 0 ? GROUP_ADDS : [GROUP_ADDS[0], r.pick(GROUP_ADDS.slice(1))];
    for (const g of adds) {
      this.record(
        s,
        luid,
        this.emit(step(), g.code, {
          ...base,
          MemberName: `CN=${user.name},OU=Contractors,DC=corp,DC=example`,
          MemberSid: user.sid,
          // In 4728/4732/4756 the Target fields name the GROUP, not the member.
          TargetUserName: g.group,
          TargetDomainName: g.domain,
          TargetSid: g.sid,
          PrivilegeList: '-',
        }),
      );
    }
    this.record(s, luid, this.emit(step(), 4726, { ...base, ...target, PrivilegeList: '-' }));
    // The admin also narrows auditing: the system policy (4719) and the departed user's per-user
    // policy (4912), both findings. Fixed offsets: the random sequence of the sample is unchanged.
    const policy = {
      CategoryId: '%%8274',
      SubcategoryId: '%%12801',
      SubcategoryGuid: '{0cce9215-69ae-11d9-bed3-505054503030}',
      AuditPolicyChanges: '%%8448',
    };
    this.record(s, luid, this.emit(t + 10, 4719, { ...base, ...policy }));
    this.record(s, luid, this.emit(t + 20, 4912, { ...base, TargetUserSid: user.sid, ...policy }));
    this.logoff(step() + 2 * SEC, s, false);
  }

  private adminNetworkSession(start: number): SimSession | null {
    const r = this.rng;
    const client = r.pick(this.peers.filter((p) => p.role === 'workstation').concat(this.host));
    return this.logon(start, r.pick(ADMINS), 3, {
      elevated: true,
      kerberos: true,
      privileges: ADMIN_LOGON_PRIVS,
      ip: client.ip,
    });
  }

  private backupJob(start: number): void {
    const r = this.rng;
    const type = r.chance(0.7) ? 4 : 5;
    const s = this.logon(start, SVC_BACKUP, type, {
      elevated: true,
      privileges: ['SeBackupPrivilege', 'SeRestorePrivilege'],
    });
    if (s === null) return;
    const luid = (s.halves[0] as SimHalf).luid;
    const parent = `${SYS32}\\svchost.exe`;
    this.record(
      s,
      luid,
      this.process(
        start + r.int(2, 10) * SEC,
        SVC_BACKUP,
        luid,
        `${SYS32}\\wbadmin.exe`,
        'wbadmin start backup -backupTarget:\\\\backup01\\srv -include:D: -quiet',
        parent,
        '%%1936',
        'S-1-16-12288',
      ),
    );
    if (r.chance(0.5)) {
      this.record(
        s,
        luid,
        this.process(
          start + r.int(60, 600) * SEC,
          SVC_BACKUP,
          luid,
          `${SYS32}\\Robocopy.exe`,
          'robocopy D:\\Shares \\\\backup01\\shares /MIR /B /R:1',
          parent,
          '%%1936',
          'S-1-16-12288',
        ),
      );
    }
    this.logoff(start + r.int(20, 50) * MIN, s, false);
  }
}
