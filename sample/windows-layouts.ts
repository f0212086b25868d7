/**
 * Renders one simulated Windows event as a JSON line in one of the two shipper layouts found in real
 * S3 buckets: NXLog `im_msvistalog` flat (as in the OTRF Security-Datasets) and Winlogbeat 8 ECS.
 * Field names and value shapes follow /work/shared/domain/logon-sessions.md §1.10.
 */
import type { Rng } from './prng.ts';

/** The channel a simulated record belongs to. */
export type SimChannel = 'security' | 'sysmon';

/** A fully timed, numbered event ready to be written. */
export interface RenderableEvent {
  readonly code: number;
  readonly channel: SimChannel;
  readonly provider: string;
  readonly record: number;
  /** True event time (ms since epoch, UTC). */
  readonly t: number;
  /** When the shipper/collector saw it (ms since epoch, UTC). */
  readonly shipped: number;
  /** EventData (or UserData for 1100/1102) values, all strings; logon ids canonical. */
  readonly data: Readonly<Record<string, string>>;
  /** A planted defect: the record loses its event id or all its time fields. */
  readonly defect: 'no_event_id' | 'no_time' | null;
}

/** How a host ships its logs. */
export interface RenderHost {
  readonly short: string;
  readonly fqdn: string;
  readonly layout: 'nxlog' | 'winlogbeat';
  readonly utcOffsetMinutes: number;
  /** `Security` or, on some NXLog hosts, `security`. */
  readonly channel: string;
  /** Writes 4624 version 0 (Windows 7 / 2008 R2 era): no `TargetLinkedLogonId`, no `ElevatedToken`. */
  readonly legacyLogonEvents?: boolean;
}

interface EventMeta {
  readonly task: number;
  readonly category: string;
  readonly message: string;
  readonly action: string;
  readonly version: number;
}

const SECURITY_META: Readonly<Record<number, EventMeta>> = {
  1100: meta(
    103,
    'Service shutdown',
    'The event logging service has shut down.',
    'logging-service-shutdown',
    0,
  ),
  1102: meta(104, 'Log clear', 'The audit log was cleared.', 'audit-log-cleared', 0),
  4608: meta(12288, 'Security State Change', 'Windows is starting up.', 'Security State Change', 0),
  4609: meta(12288, 'Security State Change', 'Windows is shutting down.', 'Security State Change', 0),
  4624: meta(12544, 'Logon', 'An account was successfully logged on.', 'logged-in', 2),
  4625: meta(12544, 'Logon', 'An account failed to log on.', 'logon-failed', 0),
  4634: meta(12545, 'Logoff', 'An account was logged off.', 'logged-out', 0),
  4647: meta(12545, 'Logoff', 'User initiated logoff.', 'logged-out', 0),
  4648: meta(12544, 'Logon', 'A logon was attempted using explicit credentials.', 'logged-in-explicit', 0),
  4663: meta(12800, 'File System', 'An attempt was made to access an object.', 'File System', 1),
  4672: meta(12548, 'Special Logon', 'Special privileges assigned to new logon.', 'logged-in-special', 0),
  4673: meta(
    13056,
    'Sensitive Privilege Use',
    'A privileged service was called.',
    'privileged-service-called',
    0,
  ),
  4674: meta(
    13056,
    'Sensitive Privilege Use',
    'An operation was attempted on a privileged object.',
    'privileged-operation',
    0,
  ),
  4688: meta(13312, 'Process Creation', 'A new process has been created.', 'created-process', 2),
  4703: meta(
    13570,
    'Token Right Adjusted Events',
    'A token right was adjusted.',
    'Token Right Adjusted Events',
    0,
  ),
  4720: meta(13824, 'User Account Management', 'A user account was created.', 'added-user-account', 0),
  4724: meta(
    13824,
    'User Account Management',
    "An attempt was made to reset an account's password.",
    'reset-password',
    0,
  ),
  4726: meta(13824, 'User Account Management', 'A user account was deleted.', 'deleted-user-account', 0),
  // Audit Policy Change (task 13568): Winlogbeat's action is `changed-audit-config` for both.
  4719: meta(13568, 'Audit Policy Change', 'System audit policy was changed.', 'changed-audit-config', 0),
  4912: meta(13568, 'Audit Policy Change', 'Per User Audit Policy was changed.', 'changed-audit-config', 0),
  4728: meta(
    13826,
    'Security Group Management',
    'A member was added to a security-enabled global group.',
    'added-member-to-group',
    0,
  ),
  4732: meta(
    13826,
    'Security Group Management',
    'A member was added to a security-enabled local group.',
    'added-member-to-group',
    0,
  ),
  4756: meta(
    13826,
    'Security Group Management',
    'A member was added to a security-enabled universal group.',
    'added-member-to-group',
    0,
  ),
  4778: meta(
    12551,
    'Other Logon/Logoff Events',
    'A session was reconnected to a Window Station.',
    'session-reconnected',
    0,
  ),
  4779: meta(
    12551,
    'Other Logon/Logoff Events',
    'A session was disconnected from a Window Station.',
    'session-disconnected',
    0,
  ),
  5156: meta(
    12810,
    'Filtering Platform Connection',
    'The Windows Filtering Platform has permitted a connection.',
    'Filtering Platform Connection',
    1,
  ),
};

const SYSMON_META: EventMeta = meta(
  1,
  'Process Create (rule: ProcessCreate)',
  'Process Create:',
  'Process Create (rule: ProcessCreate)',
  5,
);

function meta(task: number, category: string, message: string, action: string, version: number): EventMeta {
  return { task, category, message, action, version };
}

/** Fields that hold a logon id: rendered in a varying hex form, as converters and shippers differ. */
const LOGON_ID_FIELDS = new Set([
  'SubjectLogonId',
  'TargetLogonId',
  'TargetLinkedLogonId',
  'LogonID',
  'LogonId',
]);

const PROVIDER_GUID: Readonly<Record<string, string>> = {
  'Microsoft-Windows-Security-Auditing': '{54849625-5478-4994-A5BA-3E3B0328C30D}',
  'Microsoft-Windows-Eventlog': '{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}',
  'Microsoft-Windows-Sysmon': '{5770385F-C22A-43E0-BF4C-06F5698FFBD9}',
};

// Audit Success keywords (0x8020000000000000) as NXLog prints them: a signed 64-bit number beyond
// 2^53, which `JSON.stringify` cannot write exactly, so it is spliced in as raw text.
const KEYWORDS_PLACEHOLDER = '"__KEYWORDS__"';
const KEYWORDS_AUDIT_SUCCESS = '-9214364837600034816';
// Audit Failure (0x8010000000000000), the keyword of failure audits such as 4625, printed the same way.
const KEYWORDS_AUDIT_FAILURE = '-9218868437227405312';
/** Security events that Windows writes as failure audits (Microsoft, 4625(F)). */
const FAILURE_AUDITS: ReadonlySet<number> = new Set([4625]);
const KEYWORDS_SYSMON = '-9223372036854775808';

/**
 * Writes a canonical logon id (`0x3a1f2c`) the way some producer would: mostly lower-case, sometimes
 * upper-case (rendered messages, EvtxECmd) or zero-padded to 16 digits.
 */
export function varyLogonId(canonical: string, rng: Rng): string {
  const digits = canonical.slice(2);
  const r = rng.next();
  if (r < 0.8) return canonical;
  if (r < 0.92) return `0x${digits.toUpperCase()}`;
  return `0x${digits.padStart(16, '0')}`;
}

/** `YYYY-MM-DD HH:MM:SS` in a fixed-offset local zone, as NXLog writes `EventTime`. */
export function localTime(ms: number, offsetMinutes: number): string {
  return new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19).replace('T', ' ');
}

function varyData(data: Readonly<Record<string, string>>, rng: Rng): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) out[k] = LOGON_ID_FIELDS.has(k) ? varyLogonId(v, rng) : v;
  return out;
}

function metaFor(ev: RenderableEvent): EventMeta {
  if (ev.channel === 'sysmon') return SYSMON_META;
  const m = SECURITY_META[ev.code];
  if (m === undefined) throw new RangeError(`no layout metadata for Security event ${ev.code}`);
  return m;
}

/** The event's schema version as the host's Windows writes it (4624 v0 on a legacy host, MS-4624). */
function versionOf(ev: RenderableEvent, host: RenderHost, m: EventMeta): number {
  return ev.code === 4624 && host.legacyLogonEvents === true ? 0 : m.version;
}

/** Renders `ev` in the host's layout: one line of JSON, no newline. */
export function renderEvent(ev: RenderableEvent, host: RenderHost, rng: Rng): string {
  return host.layout === 'nxlog' ? renderNxlog(ev, host, rng) : renderWinlogbeat(ev, host, rng);
}

function renderNxlog(ev: RenderableEvent, host: RenderHost, rng: Rng): string {
  const m = metaFor(ev);
  const sysmon = ev.channel === 'sysmon';
  const rec: Record<string, unknown> = {
    EventTime: localTime(ev.t, host.utcOffsetMinutes),
    Hostname: host.fqdn,
    Keywords: '__KEYWORDS__',
    EventType: sysmon ? 'INFO' : FAILURE_AUDITS.has(ev.code) ? 'AUDIT_FAILURE' : 'AUDIT_SUCCESS',
    SeverityValue: 2,
    Severity: 'INFO',
    EventID: ev.code,
    SourceName: ev.provider,
    ProviderGuid: PROVIDER_GUID[ev.provider] ?? '-',
    Version: versionOf(ev, host, m),
    Task: m.task,
    OpcodeValue: 0,
    RecordNumber: ev.record,
    ExecutionProcessID: sysmon ? 2816 : 700,
    ThreadID: 1000 + (ev.record % 7000),
    Channel: sysmon ? 'Microsoft-Windows-Sysmon/Operational' : host.channel,
    Message: sysmon ? `${m.message}\r\nImage: ${ev.data.Image ?? '-'}` : m.message,
    Category: m.category,
    Opcode: 'Info',
    ...varyData(ev.data, rng),
    EventReceivedTime: localTime(ev.shipped, host.utcOffsetMinutes),
    SourceModuleName: 'eventlog',
    SourceModuleType: 'im_msvistalog',
    '@timestamp': new Date(ev.shipped).toISOString(),
  };
  if (ev.defect === 'no_event_id') delete rec.EventID;
  if (ev.defect === 'no_time') {
    delete rec.EventTime;
    delete rec.EventReceivedTime;
    delete rec['@timestamp'];
  }
  return JSON.stringify(rec).replace(
    KEYWORDS_PLACEHOLDER,
    sysmon ? KEYWORDS_SYSMON : FAILURE_AUDITS.has(ev.code) ? KEYWORDS_AUDIT_FAILURE : KEYWORDS_AUDIT_SUCCESS,
  );
}

function renderWinlogbeat(ev: RenderableEvent, host: RenderHost, rng: Rng): string {
  const m = metaFor(ev);
  const sysmon = ev.channel === 'sysmon';
  const code = String(ev.code);
  // 1100 and 1102 carry UserData, not EventData (WLB-GOLD 1102.evtx.golden.json).
  const userData = ev.code === 1100 || ev.code === 1102;
  const winlog: Record<string, unknown> = {
    api: 'wineventlog',
    channel: sysmon ? 'Microsoft-Windows-Sysmon/Operational' : host.channel,
    computer_name: host.fqdn,
    event_id: code,
    keywords: sysmon ? [] : [FAILURE_AUDITS.has(ev.code) ? 'Audit Failure' : 'Audit Success'],
    opcode: 'Info',
    process: { pid: sysmon ? 2816 : 700, thread: { id: 1000 + (ev.record % 7000) } },
    provider_guid: PROVIDER_GUID[ev.provider] ?? '-',
    provider_name: ev.provider,
    record_id: String(ev.record),
    task: m.category,
    version: versionOf(ev, host, m),
  };
  if (userData) {
    winlog.user_data = {
      ...varyData(ev.data, rng),
      xml_name: ev.code === 1102 ? 'LogFileCleared' : 'ServiceShutdown',
    };
  } else if (Object.keys(ev.data).length > 0) {
    winlog.event_data = varyData(ev.data, rng);
  }
  const event: Record<string, unknown> = {
    action: m.action,
    code,
    created: new Date(ev.shipped).toISOString(),
    kind: 'event',
    outcome: FAILURE_AUDITS.has(ev.code) ? 'failure' : 'success',
    provider: ev.provider,
  };
  const rec: Record<string, unknown> = {
    '@timestamp': new Date(ev.t).toISOString(),
    agent: { type: 'winlogbeat', version: '8.11.1' },
    ecs: { version: '8.0.0' },
    event,
    host: { name: host.fqdn.toLowerCase() },
    log: { level: 'information' },
    message: m.message,
    winlog,
  };
  if (ev.defect === 'no_event_id') {
    delete event.code;
    delete winlog.event_id;
  }
  if (ev.defect === 'no_time') {
    delete rec['@timestamp'];
    delete event.created;
  }
  return JSON.stringify(rec);
}
