import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import type { GroundTruth } from '../../sample/ground-truth.ts';
import {
  generateWindowsSample,
  type WindowsSampleOptions,
  type WindowsSampleResult,
} from '../../sample/windows-sample.ts';

const OPTIONS = { seed: 42, hosts: 6, days: 2, from: '2024-03-04' } as const;
// Records the reconstruction ties to their subject's session (4719/4912: audit policy changes, integrity events of the session).
const ACTIVITY_CODES = new Set([
  4688, 4648, 4663, 4673, 4674, 4719, 4720, 4724, 4726, 4728, 4732, 4756, 4912, 1102,
]);

/** One line of a generated file, parsed and normalised across the two layouts. */
interface Line {
  readonly file: string;
  readonly dt: string;
  readonly text: string;
  readonly json: Record<string, unknown> | null;
}

interface Rec {
  readonly line: Line;
  readonly layout: 'nxlog' | 'winlogbeat';
  readonly host: string;
  readonly channel: string;
  readonly code: number | null;
  readonly record: number;
  /** True event time: EventTime shifted by the host offset (NXLog) or @timestamp (Winlogbeat). */
  readonly time: number | null;
  /** Collector / shipper time. */
  readonly shipped: number | null;
  readonly data: Record<string, string>;
}

const dirs: string[] = [];
let result: WindowsSampleResult;
let truth: GroundTruth;
let lines: Line[];
let recs: Rec[];

async function generate(seed: number): Promise<{ dir: string; result: WindowsSampleResult }> {
  const dir = await mkdtemp(join(tmpdir(), 'st-sample-'));
  dirs.push(dir);
  return { dir, result: await generateWindowsSample({ ...OPTIONS, seed, outDir: dir }) };
}

async function readText(path: string): Promise<string> {
  const bytes = await readFile(path);
  return (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

function canon(id: string): string {
  return `0x${BigInt(id).toString(16)}`;
}

function parse(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function normalise(line: Line, offsets: ReadonlyMap<string, number>): Rec {
  const j = line.json as Record<string, unknown>;
  const winlog = j.winlog as Record<string, unknown> | undefined;
  if (winlog !== undefined) {
    const event = j.event as Record<string, unknown>;
    const ts = j['@timestamp'] as string | undefined;
    const created = event.created as string | undefined;
    return {
      line,
      layout: 'winlogbeat',
      host: String(winlog.computer_name).toUpperCase(),
      channel: String(winlog.channel),
      code: winlog.event_id === undefined ? null : Number(winlog.event_id),
      record: Number(winlog.record_id),
      time: ts === undefined ? null : Date.parse(ts),
      shipped: created === undefined ? null : Date.parse(created),
      data: (winlog.event_data ?? winlog.user_data ?? {}) as Record<string, string>,
    };
  }
  const host = String(j.Hostname).toUpperCase();
  const local = j.EventTime as string | undefined;
  const offset = offsets.get(host) ?? 0;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(j)) if (typeof v === 'string') data[k] = v;
  const ts = j['@timestamp'] as string | undefined;
  return {
    line,
    layout: 'nxlog',
    host,
    channel: String(j.Channel),
    code: typeof j.EventID === 'number' ? j.EventID : null,
    record: Number(j.RecordNumber),
    time: local === undefined ? null : Date.parse(`${local.replace(' ', 'T')}Z`) - offset * 60_000,
    shipped: ts === undefined ? null : Date.parse(ts),
    data,
  };
}

function isSecurity(r: Rec): boolean {
  return r.channel.toLowerCase() === 'security';
}

/** The (host, record) index of the distinct Security records that carry an event id. */
function securityIndex(): Map<string, Rec> {
  const index = new Map<string, Rec>();
  for (const r of recs) if (isSecurity(r) && r.code !== null) index.set(`${r.host}|${r.record}`, r);
  return index;
}

beforeAll(async () => {
  const first = await generate(OPTIONS.seed);
  result = first.result;
  truth = JSON.parse(await readText(result.groundTruthPath)) as GroundTruth;
  const offsets = new Map(truth.host_details.map((h) => [h.host, h.utc_offset_minutes]));
  lines = [];
  for (const file of result.files) {
    const dt = basename(dirname(file)).replace('dt=', '');
    const texts = (await readText(file)).split('\n');
    expect(texts.pop()).toBe('');
    for (const text of texts) lines.push({ file, dt, text, json: parse(text) });
  }
  recs = lines.filter((l) => l.json !== null).map((l) => normalise(l, offsets));
});

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('generateWindowsSample', () => {
  it('writes byte-identical files and ground truth for the same seed', async () => {
    const again = await generate(OPTIONS.seed);
    const rel = (r: WindowsSampleResult) => r.files.map((f) => relative(dirname(r.groundTruthPath), f));
    expect(rel(again.result)).toEqual(rel(result));
    expect(again.result.records).toBe(result.records);
    for (const [i, file] of result.files.entries()) {
      expect((await readFile(again.result.files[i] as string)).equals(await readFile(file))).toBe(true);
    }
    expect(await readFile(again.result.groundTruthPath, 'utf8')).toBe(
      await readFile(result.groundTruthPath, 'utf8'),
    );
  });

  it('writes different data for a different seed', async () => {
    const other = await generate(OPTIONS.seed + 1);
    expect(await readFile(other.result.groundTruthPath, 'utf8')).not.toBe(
      await readFile(result.groundTruthPath, 'utf8'),
    );
  });

  it('produces a few thousand records for 6 hosts over 2 days', () => {
    expect(result.records).toBeGreaterThan(2000);
    expect(result.records).toBe(lines.length);
    expect(result.window).toEqual({ from: '2024-03-04T00:00:00.000Z', to: '2024-03-06T00:00:00.000Z' });
  });

  it.each<[string, Partial<WindowsSampleOptions>]>([
    ['too few hosts', { hosts: 2 }],
    ['zero days', { days: 0 }],
    ['a from that is not a UTC midnight', { from: '2024-03-04T05:00:00Z' }],
    ['an impossible date', { from: '2024-02-30' }],
    ['a fractional seed', { seed: 1.5 }],
  ])('rejects %s with BAD_REQUEST', async (_name, patch) => {
    const err = await generateWindowsSample({
      ...OPTIONS,
      outDir: join(tmpdir(), 'never-written'),
      ...patch,
    }).catch((e: unknown) => e);
    expect(isSessiontrailError(err, 'BAD_REQUEST')).toBe(true);
  });
});

describe('windows sample files', () => {
  it('mixes NXLog flat and Winlogbeat 8 ECS records with their own field shapes', () => {
    const flat = recs.find((r) => r.layout === 'nxlog' && r.code === 4624);
    const ecs = recs.find((r) => r.layout === 'winlogbeat' && r.code === 4624);
    expect(flat?.line.json).toMatchObject({
      SourceModuleType: 'im_msvistalog',
      LogonProcessName: expect.any(String),
    });
    expect(typeof flat?.line.json?.EventID).toBe('number');
    expect(flat?.line.json?.EventTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(flat?.line.text).toMatch(/"Keywords":-9214364837600034816/);
    expect(ecs?.line.json).toMatchObject({
      event: { code: '4624', action: 'logged-in' },
      winlog: { event_id: '4624', record_id: expect.any(String) },
    });
    expect(recs.some((r) => r.layout === 'nxlog' && r.channel === 'security')).toBe(true);
    expect(recs.some((r) => r.data.LogonProcessName === 'User32 ')).toBe(true);
    expect(recs.some((r) => r.data.PrivilegeList?.includes('\r\n\t\t\t'))).toBe(true);
  });

  it('writes mostly gzip files and at least one plain .json, under dt=YYYY-MM-DD', () => {
    const plain = result.files.filter((f) => f.endsWith('.json'));
    expect(plain.length).toBeGreaterThan(0);
    expect(plain.length).toBeLessThan(result.files.length / 2);
    for (const f of result.files)
      expect(f).toMatch(/windows\/dt=\d{4}-\d{2}-\d{2}\/[A-Z0-9]+-\d+\.json(\.gz)?$/);
  });

  it("puts every record in the partition of its event time's UTC date", () => {
    const timed = recs.filter((r) => r.time !== null);
    expect(timed.length).toBeGreaterThan(0);
    for (const r of timed) expect(new Date(r.time as number).toISOString().slice(0, 10)).toBe(r.line.dt);
  });

  it('keeps shipper times 0–2.5 s late and non-decreasing in record order per host', () => {
    const byHost = new Map<string, Rec[]>();
    for (const r of recs) {
      if (r.time === null || r.shipped === null || !isSecurity(r)) continue;
      byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    }
    for (const list of byHost.values()) {
      list.sort((a, b) => a.record - b.record);
      let last = 0;
      for (const r of list) {
        expect(r.shipped as number).toBeGreaterThanOrEqual(last);
        expect((r.shipped as number) - (r.time as number)).toBeGreaterThanOrEqual(0);
        last = r.shipped as number;
      }
      // Record numbers increase with true time.
      for (let i = 1; i < list.length; i++) {
        expect(list[i]?.time as number).toBeGreaterThanOrEqual(list[i - 1]?.time as number);
      }
    }
  });

  it('writes logon ids in lower-case, upper-case and zero-padded hex', () => {
    const ids = recs
      .map((r) => r.data.TargetLogonId)
      .filter((v): v is string => v !== undefined && v !== '0x0');
    expect(ids.some((v) => /^0x[0-9a-f]+$/.test(v) && /[a-f]/.test(v))).toBe(true);
    expect(ids.some((v) => /^0x[0-9A-F]+$/.test(v) && /[A-F]/.test(v))).toBe(true);
    expect(ids.some((v) => /^0x0{4,}[0-9a-fA-F]+$/.test(v) && v.length === 18)).toBe(true);
  });

  it('shuffles the lines of a file out of record order', () => {
    const byFile = new Map<string, number[]>();
    for (const r of recs)
      if (isSecurity(r)) byFile.set(r.line.file, [...(byFile.get(r.line.file) ?? []), r.record]);
    const unsorted = [...byFile.values()].filter((nums) =>
      nums.some((n, i) => i > 0 && n < (nums[i - 1] as number)),
    );
    expect(unsorted.length).toBe(byFile.size);
  });

  it('plants the bad lines the ground truth counts', () => {
    const malformed = lines.filter((l) => l.json === null);
    const noId = recs.filter(
      (r) => r.code === null && (r.layout === 'winlogbeat' || r.line.json?.EventID === undefined),
    );
    const noTime = recs.filter((r) => r.time === null && r.shipped === null);
    expect(malformed.length).toBe(truth.bad_lines.malformed_json);
    expect(malformed.some((l) => l.text.startsWith('{'))).toBe(true);
    expect(malformed.some((l) => !l.text.startsWith('{'))).toBe(true);
    expect(noId.length).toBe(truth.bad_lines.missing_event_id);
    expect(noTime.length).toBe(truth.bad_lines.missing_time);
    expect(truth.bad_lines.missing_event_id).toBeGreaterThan(0);
    expect(truth.bad_lines.missing_time).toBeGreaterThan(0);
  });

  it('repeats exactly the counted duplicates, as identical lines', () => {
    const seen = new Map<string, string>();
    let duplicates = 0;
    for (const r of recs) {
      const key = `${r.host}|${r.channel.toLowerCase()}|${r.record}`;
      const before = seen.get(key);
      if (before === undefined) seen.set(key, r.line.text);
      else {
        duplicates++;
        expect(r.line.text).toBe(before);
      }
    }
    expect(duplicates).toBe(truth.duplicates);
    expect(duplicates).toBeGreaterThan(0);
  });

  it('counts the other-channel and other-event-id records a reader must skip', () => {
    const distinct = new Map(recs.map((r) => [`${r.host}|${r.channel}|${r.record}`, r]));
    // A record that lost its time is counted once, as a bad line, not also as skipped.
    const other = [...distinct.values()].filter((r) => r.time !== null);
    expect(other.filter((r) => r.channel === 'Microsoft-Windows-Sysmon/Operational').length).toBe(
      truth.skipped.other_channel,
    );
    expect(other.filter((r) => isSecurity(r) && (r.code === 5156 || r.code === 4703)).length).toBe(
      truth.skipped.other_event_id,
    );
  });
});

describe('windows sample ground truth', () => {
  it('lists only activity that exists with that host, record, code and logon id', () => {
    const index = securityIndex();
    let count = 0;
    for (const s of truth.sessions) {
      const halves = [s.logon_id, s.linked_logon_id].filter((v) => v !== null);
      for (const a of s.activity) {
        const r = index.get(`${s.host}|${a.record}`);
        expect(r?.code).toBe(Number(a.event_code));
        const d = r?.data ?? {};
        const owner =
          r?.code === 4688 && canon(d.TargetLogonId ?? '0x0') !== '0x0' ? d.TargetLogonId : d.SubjectLogonId;
        expect(canon(owner ?? '0x0')).toBe(a.logon_id);
        expect(halves).toContain(a.logon_id);
        count++;
      }
    }
    expect(count).toBeGreaterThan(50);
  });

  it('accounts for every activity record: a session, an orphan or SYSTEM', () => {
    const index = securityIndex();
    const inFiles = [...index.values()].filter((r) => r.code !== null && ACTIVITY_CODES.has(r.code)).length;
    const listed =
      truth.sessions.reduce((n, s) => n + s.activity.length, 0) +
      // orphan groups also list the logoff of their session (not an activity record)
      truth.orphans.reduce(
        (n, o) => n + o.activity.filter((a) => ACTIVITY_CODES.has(Number(a.event_code))).length,
        0,
      ) +
      truth.system_activity_records;
    expect(listed).toBe(inFiles);
  });

  it('has one session per 4624, with UAC pairs cross-linked and only the elevated half given a 4672', () => {
    const index = securityIndex();
    const logons = [...index.values()].filter((r) => r.code === 4624);
    const pairs = truth.sessions.filter((s) => s.linked_logon_id !== null);
    expect(logons.length).toBe(truth.sessions.length + pairs.length);
    expect(pairs.length).toBeGreaterThan(3);
    const specials = [...index.values()].filter((r) => r.code === 4672);
    for (const s of pairs) {
      const find = (id: string) =>
        // The same id may come back after a reboot: match the logon at this session's start.
        logons.find(
          (r) =>
            r.host === s.host &&
            canon(r.data.TargetLogonId ?? '0') === id &&
            Math.abs((r.time ?? 0) - Date.parse(s.start)) < 2000,
        );
      const elevated = find(s.logon_id);
      const filtered = find(s.linked_logon_id as string);
      if (s.pairing === 'inferred') {
        // 4624 version 0: neither half names the other or its token; same SID and logon type.
        for (const half of [elevated, filtered]) {
          expect(half?.data.ElevatedToken).toBeUndefined();
          expect(half?.data.TargetLinkedLogonId).toBeUndefined();
          expect(half?.data.TargetUserSid).toBe(s.user_sid);
          expect(half?.data.LogonType).toBe(String(s.logon_type));
        }
      } else {
        expect(s.pairing).toBe('linked_logon_id');
        expect(elevated?.data.ElevatedToken).toBe('%%1842');
        expect(filtered?.data.ElevatedToken).toBe('%%1843');
        expect(canon(elevated?.data.TargetLinkedLogonId ?? '0')).toBe(s.linked_logon_id);
        expect(canon(filtered?.data.TargetLinkedLogonId ?? '0')).toBe(s.logon_id);
      }
      const own = specials.filter(
        (r) => r.host === s.host && canon(r.data.SubjectLogonId ?? '0') === s.logon_id,
      );
      expect(own.length).toBeGreaterThan(0);
      expect(
        specials.some((r) => r.host === s.host && canon(r.data.SubjectLogonId ?? '0') === s.linked_logon_id),
      ).toBe(false);
    }
  });

  it('records one log clear (1102) run by an admin session', () => {
    expect(truth.log_clears).toHaveLength(1);
    const clear = truth.log_clears[0] as GroundTruth['log_clears'][number];
    const r = securityIndex().get(`${clear.host}|${clear.record}`);
    expect(r?.code).toBe(1102);
    expect(r?.data.SubjectUserName).toMatch(/^adm\./);
    const owner = truth.sessions.find((s) =>
      s.activity.some((a) => a.event_code === '1102' && a.record === clear.record),
    );
    expect(owner?.privileged).toBe(true);
    expect(owner?.host).toBe(clear.host);
  });

  it('reuses a logon id after a reboot for a different session, and ends sessions at shutdown and reboot', () => {
    const byKey = new Map<string, GroundTruth['sessions'][number][]>();
    for (const s of truth.sessions)
      byKey.set(`${s.host}|${s.logon_id}`, [...(byKey.get(`${s.host}|${s.logon_id}`) ?? []), s]);
    const reused = [...byKey.values()].filter(
      (list) =>
        list.length > 1 && list.some((s) => s.user_sid.startsWith('S-1-5-21-') && !s.user_name.endsWith('$')),
    );
    expect(reused.length).toBeGreaterThan(0);
    for (const list of reused) expect(new Set(list.map((s) => s.boot_time)).size).toBe(list.length);
    const index = securityIndex();
    for (const b of truth.boots) expect(index.get(`${b.host}|${b.record}`)?.code).toBe(4608);
    expect(truth.sessions.some((s) => s.privileged && s.end_reason === 'shutdown')).toBe(true);
    expect(truth.sessions.some((s) => s.privileged && s.end_reason === 'reboot')).toBe(true);
    expect(truth.sessions.some((s) => s.privileged && s.end_reason === 'open_at_window_end')).toBe(true);
  });

  it('lists orphans whose logon id has no 4624 on that host', () => {
    expect(truth.orphans.length).toBeGreaterThan(0);
    const index = securityIndex();
    for (const o of truth.orphans) {
      expect(o.activity.length).toBeGreaterThan(0);
      const logons = [...index.values()].filter(
        (r) => r.code === 4624 && r.host === o.host && canon(r.data.TargetLogonId ?? '0') === o.logon_id,
      );
      expect(logons).toEqual([]);
      for (const a of o.activity) {
        const r = index.get(`${o.host}|${a.record}`);
        // a logoff names the logon as its target; activity as its subject
        const id = r?.code === 4647 || r?.code === 4634 ? r.data.TargetLogonId : r?.data.SubjectLogonId;
        expect(canon(id ?? '0')).toBe(o.logon_id);
      }
    }
  });

  it('keeps every host shipping to the end in samples shorter than three days (the early stop needs a day of gap)', () => {
    // The early stop is planted only where it leaves more than the default 24 h coverage gap;
    // test/integration/sample-ground-truth.test.ts checks it on an 8-host, 3-day sample.
    expect(truth.host_details.every((h) => h.data_stops_at === null)).toBe(true);
  });

  it('has no logoff events from the host with logoff auditing off', () => {
    const off = truth.host_details.filter((h) => !h.logoff_audited).map((h) => h.host);
    expect(off).toHaveLength(1);
    expect(recs.filter((r) => off.includes(r.host) && (r.code === 4634 || r.code === 4647))).toEqual([]);
    expect(recs.filter((r) => off.includes(r.host) && r.code === 4624).length).toBeGreaterThan(0);
  });

  it('names the suppression rule for noise and keeps admins and users unsuppressed', () => {
    const rule = (name: string) => truth.sessions.filter((s) => s.suppressed_by === name);
    for (const name of ['system-accounts', 'machine-accounts', 'window-manager', 'svc-backup']) {
      expect(rule(name).length).toBeGreaterThan(0);
    }
    expect(rule('svc-backup').every((s) => s.user_name === 'svc_backup' && s.privileged)).toBe(true);
    expect(rule('machine-accounts').every((s) => s.user_name.endsWith('$') && !s.privileged)).toBe(true);
    const human = truth.sessions.filter((s) => s.suppressed_by === null);
    expect(human.filter((s) => s.privileged).every((s) => s.user_name.startsWith('adm.'))).toBe(true);
    expect(human.some((s) => !s.privileged && [2, 11].includes(s.logon_type))).toBe(true);
    expect(human.some((s) => s.privileged && s.logon_type === 3 && s.activity.length > 0)).toBe(true);
    expect(human.some((s) => s.logon_type === 10 && s.linked_logon_id !== null)).toBe(true);
  });

  it('writes the document with sorted keys and 2-space indent', async () => {
    const sortKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sortKeys)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
            )
          : v;
    expect(await readFile(result.groundTruthPath, 'utf8')).toBe(
      `${JSON.stringify(sortKeys(truth), null, 2)}\n`,
    );
  });
});
