/**
 * A seeded, realistic Windows Security log generator with a ground-truth file: the data behind the
 * `sample` and `demo` commands and the reconstruction tests. See {@link generateWindowsSample}.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SessiontrailError } from '../lib/errors.ts';
import type {
  GroundTruth,
  GtActivity,
  GtEndReason,
  GtHost,
  GtHostEvent,
  GtOrphan,
  GtSession,
  GtSuppression,
} from './ground-truth.ts';
import { deriveSeed, Rng } from './prng.ts';
import { type Account, type HostPlan, planHosts } from './windows-accounts.ts';
import {
  HostSim,
  type HostSimResult,
  type HostTraps,
  hexId,
  type SimEvent,
  type SimSession,
  SPRAY,
} from './windows-host-sim.ts';
import { localTime, renderEvent } from './windows-layouts.ts';

const DAY = 86_400_000;

/** Options of {@link generateWindowsSample}. */
export interface WindowsSampleOptions {
  /** Any integer; the same options give byte-identical output. */
  readonly seed: number;
  /** Number of hosts, at least 3 (DC01, then servers `SRV0x`, then workstations `WS0x`). */
  readonly hosts: number;
  /** Number of UTC days in the window, 1 to 366. */
  readonly days: number;
  /** First day of the window: `YYYY-MM-DD` or that date's UTC midnight in ISO form. */
  readonly from: string;
  /** Directory to write into (created if missing); give a fresh one, nothing is deleted. */
  readonly outDir: string;
  /**
   * Gzip the log files. When true, most files are `.json.gz` and a few (at least one) plain `.json`,
   * as mixed buckets are; when false, every file is plain `.json`.
   * @default true
   */
  readonly gzip?: boolean;
}

/** What {@link generateWindowsSample} wrote. */
export interface WindowsSampleResult {
  /** Absolute paths of the log files, sorted. */
  readonly files: string[];
  /** Lines written to the log files: records, duplicates and the planted bad lines. */
  readonly records: number;
  readonly groundTruthPath: string;
  /** `[from, to)` as ISO UTC with milliseconds. */
  readonly window: { readonly from: string; readonly to: string };
}

/** Security event ids a session reader takes in; others (5156, 4703) are to be skipped and counted. */
const IN_SCOPE = new Set([
  1100, 1102, 4608, 4609, 4616, 4624, 4625, 4634, 4647, 4648, 4663, 4672, 4673, 4674, 4688, 4719, 4720, 4722,
  4723, 4724, 4725, 4726, 4728, 4729, 4732, 4733, 4738, 4740, 4756, 4757, 4765, 4767, 4778, 4779, 4781, 4794,
  4906, 4912,
]);
const SYSTEM_SIDS = new Set(['S-1-5-18', 'S-1-5-19', 'S-1-5-20']);

interface BadLinePlan {
  readonly host: number;
  readonly day: number;
  readonly kind: 'truncated' | 'non_json' | 'no_event_id' | 'no_time';
}

/**
 * Generates `days` days of Windows Security logs for `hosts` hosts into
 * `<outDir>/windows/dt=YYYY-MM-DD/<HOST>-<n>.json[.gz]` (one JSON record per line, lines shuffled,
 * NXLog flat layout for DC and servers, Winlogbeat 8 ECS for workstations) and the matching
 * `<outDir>/ground-truth.json` ({@link GroundTruth}). Deterministic: no clock, no `Math.random`.
 * One host is simulated and written at a time, so memory grows with the ground truth only.
 *
 * @throws SessiontrailError `BAD_REQUEST` when an option is out of range.
 */
export async function generateWindowsSample(options: WindowsSampleOptions): Promise<WindowsSampleResult> {
  const from = validate(options);
  const { seed, days } = options;
  const to = from + days * DAY;
  const hosts = planHosts(options.hosts);
  const plan = new Rng(deriveSeed('windows-sample', seed, options.hosts, days));
  const mid = Math.floor((days - 1) / 2);
  const servers = hosts.filter((h) => h.role === 'server');
  const crashHost = servers[1] ?? hosts[0];
  // One workstation's shipping stops more than a day before the window end (more than the default
  // coverage gap of 24 h): its open sessions end with its data.
  const workstations = hosts.filter((h) => h.role === 'workstation');
  const dataStopHost = workstations.length >= 4 ? workstations[workstations.length - 2] : undefined;
  const trapsFor = (h: HostPlan): HostTraps => ({
    logClearDay: h.role === 'dc' ? mid : null,
    shutdownReuseDay: h === servers[0] ? mid : null,
    crashDay: h === crashHost ? mid : null,
    orphans: h.short === 'WS01',
    // 11:00 local on the day before last, while its owner is logged on (workstations run UTC-5 here).
    dataStopsAt:
      h === dataStopHost && days >= 3
        ? from + (days - 2) * DAY + (11 * 60 - h.utcOffsetMinutes) * 60_000
        : null,
  });
  const badLines: BadLinePlan[] = [];
  for (let day = 0; day < days; day++) {
    badLines.push({ host: plan.int(0, hosts.length - 1), day, kind: 'truncated' });
    badLines.push({ host: plan.int(0, hosts.length - 1), day, kind: 'non_json' });
    if (day % 10 === 0) {
      badLines.push({ host: plan.int(0, hosts.length - 1), day, kind: 'no_event_id' });
      badLines.push({ host: plan.int(0, hosts.length - 1), day, kind: 'no_time' });
    }
  }

  const gt = newAccumulator();
  const files: string[] = [];
  let records = 0;
  for (const host of hosts) {
    const rng = new Rng(deriveSeed('windows-host', seed, options.hosts, days, host.short));
    const peers = hosts.filter((h) => h !== host);
    const sim = new HostSim(host, peers, rng, from, days, trapsFor(host)).run();
    const events = sim.events.sort((a, b) => a.t - b.t || a.seq - b.seq);
    number(events, rng);
    const mine = badLines.filter((b) => b.host === host.index);
    plantDefects(events, mine, from, rng);
    collect(gt, host, sim, trapsFor(host).dataStopsAt);
    const written = await writeHost(host, events, mine, {
      outDir: options.outDir,
      from,
      gzip: options.gzip !== false,
      forcePlain: host === hosts[hosts.length - 1],
      rng: new Rng(deriveSeed('windows-write', seed, options.hosts, days, host.short)),
      gt,
    });
    files.push(...written.files);
    records += written.lines;
  }

  const window = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  const truth: GroundTruth = {
    seed,
    window,
    hosts: hosts.map((h) => h.fqdn.toUpperCase()).sort(),
    host_details: hosts
      .map((h) => hostDetail(h, trapsFor(h).dataStopsAt))
      .sort((a, b) => cmp(a.host, b.host)),
    sessions: gt.sessions.sort(
      (a, b) => cmp(a.host, b.host) || cmp(a.start, b.start) || cmp(a.logon_id, b.logon_id),
    ),
    orphans: gt.orphans.sort((a, b) => cmp(a.host, b.host) || cmp(a.logon_id, b.logon_id)),
    bad_lines: gt.bad,
    duplicates: gt.duplicates,
    skipped: gt.skipped,
    system_activity_records: gt.systemActivity,
    log_clears: sortHostEvents(gt.logClears),
    system_account_changes: sortHostEvents(gt.systemAccountChanges),
    failed_logons: sortHostEvents(gt.failedLogons),
    password_sprays: gt.sprays.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)),
    boots: sortHostEvents(gt.boots),
    shutdowns: sortHostEvents(gt.shutdowns),
  };
  await mkdir(options.outDir, { recursive: true });
  const groundTruthPath = join(options.outDir, 'ground-truth.json');
  await writeFile(groundTruthPath, `${stableJson(truth)}\n`);
  return { files: files.sort(), records, groundTruthPath, window };
}

function validate(o: WindowsSampleOptions): number {
  const bad = (what: string, got: unknown): never => {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `generateWindowsSample: expected ${what}, received ${String(got)}`,
    );
  };
  if (!Number.isSafeInteger(o.seed)) bad('an integer seed', o.seed);
  if (!Number.isInteger(o.hosts) || o.hosts < 3 || o.hosts > 500) bad('hosts between 3 and 500', o.hosts);
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > 366) bad('days between 1 and 366', o.days);
  if (typeof o.outDir !== 'string' || o.outDir === '') bad('an output directory', o.outDir);
  const m = /^(\d{4}-\d{2}-\d{2})(T00:00:00(\.000)?Z)?$/.exec(o.from);
  const ms = m?.[1] === undefined ? Number.NaN : Date.parse(`${m[1]}T00:00:00.000Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== m?.[1]) {
    bad('from as a UTC midnight (YYYY-MM-DD)', o.from);
  }
  return ms;
}

/** Record numbers (per channel, in true-time order) and shipper times (non-decreasing, 0–2.5 s late). */
function number(events: SimEvent[], rng: Rng): void {
  let security = rng.int(100_000, 900_000);
  // Sysmon has its own channel counter; keep it far away so (host, record) never collides.
  let sysmon = 5_000_000 + rng.int(10_000, 90_000);
  let shipped = 0;
  for (const ev of events) {
    ev.record = ev.channel === 'security' ? security++ : sysmon++;
    shipped = Math.max(shipped, ev.t + rng.int(0, 2500));
    ev.shipped = shipped;
  }
}

/** Turns one 5156 of the planned day into a record without event id / without time. */
function plantDefects(events: SimEvent[], plans: readonly BadLinePlan[], from: number, rng: Rng): void {
  for (const p of plans) {
    if (p.kind !== 'no_event_id' && p.kind !== 'no_time') continue;
    const start = from + p.day * DAY;
    const candidates = events.filter(
      (e) => e.code === 5156 && e.defect === null && e.t >= start && e.t < start + DAY,
    );
    if (candidates.length > 0) rng.pick(candidates).defect = p.kind;
  }
}

interface Accumulator {
  readonly sessions: GtSession[];
  readonly orphans: GtOrphan[];
  readonly logClears: GtHostEvent[];
  readonly systemAccountChanges: GtHostEvent[];
  readonly failedLogons: (GtHostEvent & { account: string; src_ip: string })[];
  readonly sprays: { host: string; src_ip: string; accounts: number; records: number[] }[];
  readonly boots: GtHostEvent[];
  readonly shutdowns: GtHostEvent[];
  bad: { malformed_json: number; missing_event_id: number; missing_time: number };
  duplicates: number;
  skipped: { other_channel: number; other_event_id: number };
  systemActivity: number;
}

function newAccumulator(): Accumulator {
  return {
    sessions: [],
    orphans: [],
    logClears: [],
    systemAccountChanges: [],
    failedLogons: [],
    sprays: [],
    boots: [],
    shutdowns: [],
    bad: { malformed_json: 0, missing_event_id: 0, missing_time: 0 },
    duplicates: 0,
    skipped: { other_channel: 0, other_event_id: 0 },
    systemActivity: 0,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function suppression(a: Account): GtSuppression | null {
  if (SYSTEM_SIDS.has(a.sid)) return 'system-accounts';
  if (a.sid.startsWith('S-1-5-90-') || a.sid.startsWith('S-1-5-96-')) return 'window-manager';
  if (a.name.endsWith('$')) return 'machine-accounts';
  if (a.name === 'svc_backup') return 'svc-backup';
  return null;
}

function endOf(s: SimSession, lastEventT: number | null): { end: string | null; reason: GtEndReason } {
  const end = endInData(s);
  // A host whose data stops: a session still open then ends with the host's last record.
  if (end.reason === 'open_at_window_end' && lastEventT !== null)
    return { end: iso(lastEventT), reason: 'data_ends' };
  return end;
}

function endInData(s: SimSession): { end: string | null; reason: GtEndReason } {
  const logoffs = s.halves.flatMap((h) => h.logoffs);
  if (logoffs.length > 0) {
    const end = Math.min(...logoffs.map((e) => e.t));
    return { end: iso(end), reason: logoffs.some((e) => e.code === 4647) ? 'user_logoff' : 'logoff' };
  }
  const iv = s.interval;
  if (iv.endKind === 'shutdown' && iv.shutdownEv !== null)
    return { end: iso(iv.shutdownEv.t), reason: 'shutdown' };
  if (iv.endKind === 'crash' && iv.nextBootEv !== null)
    return { end: iso(iv.nextBootEv.t), reason: 'reboot' };
  return { end: null, reason: 'open_at_window_end' };
}

/** The first logoff (4647/4634) among an orphan's events: the logoff that ended its session. */
function endedAt(events: readonly { t: number; code: number }[]): string | null {
  const logoffs = events.filter((e) => e.code === 4647 || e.code === 4634).map((e) => e.t);
  return logoffs.length === 0 ? null : iso(Math.min(...logoffs));
}

function collect(gt: Accumulator, host: HostPlan, sim: HostSimResult, dataStopsAt: number | null): void {
  const name = host.fqdn.toUpperCase();
  const securityTimes = sim.events.filter((e) => e.channel === 'security').map((e) => e.t);
  const lastEventT = dataStopsAt === null ? null : Math.max(...securityTimes);
  for (const s of sim.sessions) {
    const [primary, twin] = s.halves;
    if (primary === undefined) continue;
    const { end, reason } = endOf(s, lastEventT);
    const systemLike =
      s.account.kind === 'system' || s.account.kind === 'machine' || s.account.kind === 'window-manager';
    const activity: GtActivity[] = s.activity
      .map((a) => ({ record: a.ev.record, event_code: String(a.ev.code), logon_id: hexId(a.luid) }))
      .sort((a, b) => a.record - b.record);
    gt.sessions.push({
      host: name,
      logon_id: hexId(primary.luid),
      linked_logon_id: twin === undefined ? null : hexId(twin.luid),
      boot_time: s.interval.bootEv === null ? null : iso(s.interval.bootEv.t),
      user_sid: s.account.sid,
      user_name: s.account.name,
      user_domain: s.domainWritten,
      logon_type: s.logonType,
      start: iso(Math.min(...s.halves.map((h) => h.logon.t))),
      end,
      end_reason: reason,
      // A legacy host's 4624 logs no ElevatedToken: elevation is not in its data.
      privileged: !systemLike && ((s.elevated && !host.legacyLogonEvents) || s.adminPrivileges),
      elevated: s.elevated && !host.legacyLogonEvents,
      pairing: twin === undefined ? null : host.legacyLogonEvents ? 'inferred' : 'linked_logon_id',
      suppressed_by: suppression(s.account),
      activity,
    });
  }
  for (const o of sim.orphans) {
    if (o.events.length === 0) continue;
    gt.orphans.push({
      host: name,
      logon_id: hexId(o.luid),
      user_name: o.userName,
      ended: endedAt(o.events),
      activity: o.events
        .map((e) => ({ record: e.record, event_code: String(e.code) }))
        .sort((a, b) => a.record - b.record),
    });
  }
  gt.systemActivity += sim.systemActivity.length;
  for (const ev of sim.systemAccountChanges)
    gt.systemAccountChanges.push({ host: name, time: iso(ev.t), record: ev.record });
  const failed = sim.failedLogons.map((ev) => ({
    host: name,
    time: iso(ev.t),
    record: ev.record,
    account: ev.data.TargetUserName as string,
    src_ip: ev.data.IpAddress as string,
  }));
  gt.failedLogons.push(...failed);
  if (failed.length > 0)
    gt.sprays.push({
      host: name,
      src_ip: SPRAY.ip,
      accounts: new Set(failed.map((f) => f.account.toUpperCase())).size,
      records: failed.map((f) => f.record).sort((a, b) => a - b),
    });
  for (const iv of sim.intervals) {
    if (iv.bootEv !== null) gt.boots.push({ host: name, time: iso(iv.bootEv.t), record: iv.bootEv.record });
    if (iv.shutdownEv !== null) {
      gt.shutdowns.push({ host: name, time: iso(iv.shutdownEv.t), record: iv.shutdownEv.record });
    }
  }
  for (const ev of sim.events) {
    if (ev.code === 1102) gt.logClears.push({ host: name, time: iso(ev.t), record: ev.record });
    if (ev.defect !== null) continue;
    if (ev.channel === 'sysmon') gt.skipped.other_channel++;
    else if (!IN_SCOPE.has(ev.code)) gt.skipped.other_event_id++;
  }
}

interface WriteContext {
  readonly outDir: string;
  readonly from: number;
  readonly gzip: boolean;
  readonly forcePlain: boolean;
  readonly rng: Rng;
  readonly gt: Accumulator;
}

async function writeHost(
  host: HostPlan,
  events: readonly SimEvent[],
  plans: readonly BadLinePlan[],
  ctx: WriteContext,
): Promise<{ files: string[]; lines: number }> {
  const { rng, gt } = ctx;
  const renderRng = new Rng(rng.int(0, 0xffffffff));
  const byDay = new Map<number, SimEvent[]>();
  for (const ev of events) {
    // The partition is the UTC date of the true event time, not of the collector's @timestamp.
    const day = Math.floor((ev.t - ctx.from) / DAY);
    const list = byDay.get(day) ?? [];
    list.push(ev);
    byDay.set(day, list);
  }
  const files: string[] = [];
  let lines = 0;
  let first = true;
  for (const [day, evs] of [...byDay].sort((a, b) => a[0] - b[0])) {
    const dt = new Date(ctx.from + day * DAY).toISOString().slice(0, 10);
    // A busy host-day arrives in a few files (rotated batches), each a contiguous record range.
    const count = evs.length > 150 ? rng.int(1, 3) : 1;
    const size = Math.ceil(evs.length / count);
    const chunks: string[][] = [];
    for (let i = 0; i < count; i++) chunks.push([]);
    evs.forEach((ev, i) => {
      const line = renderEvent(ev, host, renderRng);
      const chunk = chunks[Math.floor(i / size)] as string[];
      chunk.push(line);
      if (ev.defect === 'no_event_id') gt.bad.missing_event_id++;
      if (ev.defect === 'no_time') gt.bad.missing_time++;
      if (ev.defect === null && ev.channel === 'security' && IN_SCOPE.has(ev.code) && rng.chance(0.01)) {
        // At-least-once delivery: the same line again, now and then in another file of the partition.
        const target = count > 1 && rng.chance(0.3) ? (chunks[rng.int(0, count - 1)] as string[]) : chunk;
        target.push(line);
        gt.duplicates++;
      }
    });
    for (const p of plans) {
      if (p.day !== day) continue;
      const chunk = rng.pick(chunks);
      if (p.kind === 'truncated') {
        const line = rng.pick(chunk);
        chunk.push(line.slice(0, Math.floor(line.length * (0.4 + rng.next() * 0.4))));
        gt.bad.malformed_json++;
      } else if (p.kind === 'non_json') {
        const at = localTime(ctx.from + day * DAY + 12 * 3_600_000, host.utcOffsetMinutes);
        chunk.push(
          `${at} WARNING [im_msvistalog|eventlog] ReadEventLog failed, resubscribing (errorcode: 1503)`,
        );
        gt.bad.malformed_json++;
      }
    }
    const dir = join(ctx.outDir, 'windows', `dt=${dt}`);
    await mkdir(dir, { recursive: true });
    for (const [n, chunk] of chunks.entries()) {
      rng.shuffle(chunk);
      const body = `${chunk.join('\n')}\n`;
      const plain = !ctx.gzip || (ctx.forcePlain && first) || rng.chance(0.08);
      first = false;
      const path = join(dir, `${host.short}-${n}.${plain ? 'json' : 'json.gz'}`);
      await writeFile(path, plain ? body : gzipSync(body));
      files.push(path);
      lines += chunk.length;
    }
  }
  return { files, lines };
}

function hostDetail(h: HostPlan, dataStopsAt: number | null): GtHost {
  return {
    host: h.fqdn.toUpperCase(),
    layout: h.layout,
    utc_offset_minutes: h.utcOffsetMinutes,
    channel: h.channel,
    logoff_audited: h.logoffAudited,
    legacy_logon_events: h.legacyLogonEvents,
    data_stops_at: dataStopsAt === null ? null : iso(dataStopsAt),
  };
}

function sortHostEvents<T extends GtHostEvent>(list: T[]): T[] {
  return list.sort((a, b) => cmp(a.host, b.host) || cmp(a.time, b.time) || a.record - b.record);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON with object keys sorted at every level and 2-space indent: a stable, diffable document. */
function stableJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value), null, 2);
}
