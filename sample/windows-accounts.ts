/**
 * The fictitious organisation behind the Windows sample: one domain `CORP` (`corp.example`), its
 * hosts, administrators, ordinary users, a backup service account and the built-in identities.
 */

export const DOMAIN = 'CORP';
export const DNS_DOMAIN = 'corp.example';
export const DOMAIN_SID = 'S-1-5-21-1004336348-1177238915-682003330';

/** What kind of identity logs on: drives privilege and which suppression rule applies. */
export type AccountKind = 'admin' | 'user' | 'service' | 'system' | 'machine' | 'window-manager';

export interface Account {
  readonly sid: string;
  readonly name: string;
  /** `TargetDomainName` for NTLM / interactive logons. */
  readonly domain: string;
  readonly kind: AccountKind;
}

export type HostRole = 'dc' | 'server' | 'workstation';

/** One simulated computer and how it ships its Security log. */
export interface HostPlan {
  readonly index: number;
  readonly short: string;
  /** As written in `Hostname` / `winlog.computer_name`: `WS01.corp.example`. */
  readonly fqdn: string;
  readonly role: HostRole;
  readonly layout: 'nxlog' | 'winlogbeat';
  readonly utcOffsetMinutes: number;
  readonly channel: string;
  readonly logoffAudited: boolean;
  /**
   * Writes 4624 version 0 (Windows 7 / 2008 R2): no `TargetLinkedLogonId` or `ElevatedToken`, so its
   * UAC split-token pairs can only be inferred.
   */
  readonly legacyLogonEvents: boolean;
  readonly ip: string;
  readonly machine: Account;
}

const ADMIN_NAMES = ['adm.alice', 'adm.bob', 'adm.carol', 'adm.dave', 'adm.erin'] as const;
const USER_NAMES = [
  'jdoe',
  'asmith',
  'bwong',
  'cgarcia',
  'dkim',
  'emartin',
  'fnguyen',
  'gpatel',
  'hlee',
  'irossi',
] as const;

/** Domain administrators (RIDs 1105…). */
export const ADMINS: readonly Account[] = ADMIN_NAMES.map((name, i) =>
  domainAccount(name, 1105 + i, 'admin'),
);

/** `CORP\svc_backup`, RID 1201: an organisation service account with SeBackupPrivilege. */
export const SVC_BACKUP: Account = domainAccount('svc_backup', 1201, 'service');

export const SYSTEM: Account = { sid: 'S-1-5-18', name: 'SYSTEM', domain: 'NT AUTHORITY', kind: 'system' };
export const LOCAL_SERVICE: Account = {
  sid: 'S-1-5-19',
  name: 'LOCAL SERVICE',
  domain: 'NT AUTHORITY',
  kind: 'system',
};
export const NETWORK_SERVICE: Account = {
  sid: 'S-1-5-20',
  name: 'NETWORK SERVICE',
  domain: 'NT AUTHORITY',
  kind: 'system',
};

/** The well-known logon ids of the three built-in service identities (winnt.h). */
export const SYSTEM_LUID = 0x3e7;
export const LOCAL_SERVICE_LUID = 0x3e5;
export const NETWORK_SERVICE_LUID = 0x3e4;

function domainAccount(name: string, rid: number, kind: AccountKind): Account {
  return { sid: `${DOMAIN_SID}-${rid}`, name, domain: DOMAIN, kind };
}

/** The ordinary user who owns workstation number `n` (0-based); names repeat with a suffix past the list; RIDs 1300…. */
export function workstationOwner(n: number): Account {
  const base = USER_NAMES[n % USER_NAMES.length] ?? 'user';
  const round = Math.floor(n / USER_NAMES.length);
  return domainAccount(round === 0 ? base : `${base}${round + 1}`, 1300 + n, 'user');
}

/** DWM-n / UMFD-n: the virtual accounts Windows logs on (type 2) for each interactive session. */
export function windowManagerAccounts(session: number): readonly [Account, Account] {
  return [
    {
      sid: `S-1-5-96-0-${session}`,
      name: `UMFD-${session}`,
      domain: 'Font Driver Host',
      kind: 'window-manager',
    },
    {
      sid: `S-1-5-90-0-${session}`,
      name: `DWM-${session}`,
      domain: 'Window Manager',
      kind: 'window-manager',
    },
  ];
}

/**
 * The host list for `count` hosts: DC01, then about a third servers (NXLog, UTC−5 `EventTime`), the
 * rest workstations (Winlogbeat 8). The last NXLog server writes `Channel` in lower case; one host has
 * logoff auditing off.
 */
export function planHosts(count: number): HostPlan[] {
  const servers = Math.max(1, Math.round((count - 1) / 3));
  const workstations = count - 1 - servers;
  const specs: { short: string; role: HostRole }[] = [{ short: 'DC01', role: 'dc' }];
  for (let i = 1; i <= servers; i++) specs.push({ short: `SRV${pad2(i)}`, role: 'server' });
  for (let i = 1; i <= workstations; i++) specs.push({ short: `WS${pad2(i)}`, role: 'workstation' });
  const lowerChannel = servers >= 2 ? `SRV${pad2(servers)}` : null;
  const noLogoff =
    workstations >= 2 ? `WS${pad2(workstations)}` : servers >= 2 ? `SRV${pad2(servers)}` : `WS${pad2(1)}`;
  // The first server runs an older Windows when there are two or more servers (small samples unchanged).
  const legacyLogons = servers >= 2 ? `SRV${pad2(1)}` : null;
  return specs.map((s, index) => ({
    index,
    short: s.short,
    fqdn: `${s.short}.${DNS_DOMAIN}`,
    role: s.role,
    layout: s.role === 'workstation' ? 'winlogbeat' : 'nxlog',
    utcOffsetMinutes: -300,
    channel: s.short === lowerChannel ? 'security' : 'Security',
    logoffAudited: s.short !== noLogoff,
    legacyLogonEvents: s.short === legacyLogons,
    ip:
      s.role === 'workstation'
        ? `10.20.${Math.floor(index / 200)}.${(index % 200) + 20}`
        : `10.10.0.${index + 10}`,
    machine: domainAccount(`${s.short}$`, 3000 + index, 'machine'),
  }));
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
