/**
 * The sample generator's ground truth against packs built end to end (real DuckDB, real store, real
 * key): every privileged session found, none invented, every activity event attributed to its true
 * session or reported as orphan, every bad line counted.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FINDINGS, loadConfig } from '../../lib/config/config.ts';
import type { EvidencePack, Session } from '../../lib/evidence/model.ts';
import { UAC_INFERRED_PAIR_MAX_GAP_MS } from '../../lib/query/reconstruct.ts';
import type { GroundTruth, GtSession } from '../../sample/ground-truth.ts';
import { generateWindowsSample } from '../../sample/windows-sample.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

const CONFIG = new URL('../../config/demo.config.json', import.meta.url).pathname;
/** NXLog hosts are timed by the collector, up to 2.5 s after the event. */
const COLLECTOR_LAG_MS = 3000;

let gt: GroundTruth;
let review: EvidencePack;
let incident: EvidencePack;

const recordOf = (rawRef: string) => Number(/#record=(\d+)$/.exec(rawRef)?.[1]);
/** Boot epochs are compared by their order on the host: NXLog hosts' 4608 times are collector times. */
const keyOf = (host: string, logonId: string, bootOrdinal: number) =>
  `${host}|${logonId}|boot#${bootOrdinal}`;
function bootOrdinal(
  boots: readonly { host: string; time: string }[],
  host: string,
  time: string | null,
): number {
  if (time === null) return 0;
  const times = boots
    .filter((b) => b.host === host)
    .map((b) => Date.parse(b.time))
    .sort((a, b) => a - b);
  const t = Date.parse(time);
  // the boot at or just before `time`, allowing for the collector's lag
  return times.filter((b) => b <= t + COLLECTOR_LAG_MS).length;
}

beforeAll(async () => {
  const logs = await mkdtemp(join(tmpdir(), 'st-sample-'));
  const sample = await generateWindowsSample({
    seed: 7,
    hosts: 8,
    days: 3,
    from: '2024-05-06',
    outDir: logs,
  });
  gt = JSON.parse(await readFile(sample.groundTruthPath, 'utf8')) as GroundTruth;
  const config = await loadConfig(CONFIG);
  const keyPath = await makeKey();
  review = (
    await localExport(
      logs,
      { kind: 'review', from: sample.window.from, to: sample.window.to },
      { config, keyPath },
    )
  ).result.pack;
  incident = (
    await localExport(
      logs,
      {
        kind: 'incident',
        incidentId: 'IR-1',
        hosts: gt.hosts,
        from: sample.window.from,
        to: sample.window.to,
      },
      { config, keyPath },
    )
  ).result.pack;
}, 120_000);

function compareSessions(pack: EvidencePack, expected: readonly GtSession[]) {
  const packBoots = pack.integrity_events.filter((e) => e.kind === 'boot');
  const found = new Map(
    pack.sessions.map((s) => [keyOf(s.host, s.logon_id, bootOrdinal(packBoots, s.host, s.boot_time)), s]),
  );
  const wanted = new Map(
    expected.map((s) => [keyOf(s.host, s.logon_id, bootOrdinal(gt.boots, s.host, s.boot_time)), s]),
  );
  expect([...found.keys()].sort()).toEqual([...wanted.keys()].sort());
  for (const [key, want] of wanted) {
    const got = found.get(key) as Session;
    if (got === undefined) continue; // the key comparison above already failed
    expect({
      key,
      linked: got.linked_logon_id,
      end_reason: got.end_reason,
      elevated: got.elevated,
      pairing: got.pairing?.method ?? null,
      user: got.user.uid,
      type: got.logon_type,
    }).toEqual({
      key,
      linked: want.linked_logon_id,
      end_reason: want.end_reason,
      elevated: want.elevated,
      pairing: want.pairing,
      user: want.user_sid,
      type: want.logon_type,
    });
    const startLag = Date.parse(got.start as string) - Date.parse(want.start);
    expect(startLag, key).toBeGreaterThanOrEqual(0);
    expect(startLag, key).toBeLessThanOrEqual(COLLECTOR_LAG_MS);
    expect(got.end === null, key).toBe(want.end === null);
    const activity = [...got.activity, ...got.reconnects]
      .filter((a) => a.event_code !== '4778' && a.event_code !== '4779')
      .map((a) => `${recordOf(a.raw_ref)}:${a.logon_id}`)
      .sort();
    expect(activity, key).toEqual(want.activity.map((a) => `${a.record}:${a.logon_id}`).sort());
  }
}

describe('sample ground truth: review pack', () => {
  it('finds every privileged session and invents none', () => {
    const expected = gt.sessions.filter((s) => s.privileged && s.suppressed_by === null);
    expect(expected.length).toBeGreaterThan(20);
    compareSessions(review, expected);
    expect(review.sessions.every((s) => s.privileged)).toBe(true);
  });

  it('attributes every activity event to its true session or reports it as orphan activity', () => {
    for (const o of gt.orphans) {
      const group = review.orphan_activity.find((g) => g.host === o.host && g.logon_id === o.logon_id);
      expect(group?.events.map((e) => recordOf(e.raw_ref)).sort((a, b) => a - b)).toEqual(
        o.activity.map((a) => a.record),
      );
    }
    const orphanRecords = review.orphan_activity.flatMap((g) =>
      g.events.map((e) => `${g.host}|${recordOf(e.raw_ref)}`),
    );
    const expectedOrphans = gt.orphans.flatMap((o) => o.activity.map((a) => `${o.host}|${a.record}`));
    expect(orphanRecords.sort()).toEqual(expectedOrphans.sort());
  });

  it('ends an orphan group at the logoff of the session that began before the data', () => {
    const ended = gt.orphans.filter((o) => o.ended !== null);
    expect(ended.length).toBeGreaterThan(0);
    for (const o of gt.orphans) {
      const group = review.orphan_activity.find((g) => g.host === o.host && g.logon_id === o.logon_id);
      expect(group?.ended === null, `${o.host} ${o.logon_id}`).toBe(o.ended === null);
      if (o.ended === null || group?.ended == null) continue;
      const lag = Date.parse(group.ended) - Date.parse(o.ended);
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThanOrEqual(COLLECTOR_LAG_MS);
    }
  });

  it('infers the UAC pairs of the host whose 4624 names no linked logon, says how, and counts them', () => {
    const legacy = gt.host_details.filter((h) => h.legacy_logon_events).map((h) => h.host);
    expect(legacy.length).toBe(1);
    const expected = gt.sessions.filter(
      (s) => s.pairing === 'inferred' && s.privileged && s.suppressed_by === null,
    );
    expect(expected.length).toBeGreaterThan(0);
    const inferred = review.sessions.filter((s) => s.pairing?.method === 'inferred');
    expect(inferred.map((s) => `${s.host}|${s.logon_id}`).sort()).toEqual(
      expected.map((s) => `${s.host}|${s.logon_id}`).sort(),
    );
    for (const s of inferred) {
      expect(legacy).toContain(s.host);
      expect(s.pairing?.basis).toMatch(/^inferred, not logged: .* received special privileges \(4672\)/);
    }
    expect(review.limitations).toContain(
      `${inferred.length} UAC split-token pairs were inferred, not logged: their logons name no linked logon, so each pair was matched by host, boot, SID, logon type, a gap of at most ${UAC_INFERRED_PAIR_MAX_GAP_MS} ms and which half received special privileges (each session says how).`,
    );
  });

  it('ends the open sessions of the host whose data stops early with the data, and reports its coverage gap', () => {
    const stopped = gt.host_details.filter((h) => h.data_stops_at !== null);
    expect(stopped.length).toBe(1);
    const host = stopped[0]?.host as string;
    const stopAt = Date.parse(stopped[0]?.data_stops_at as string);
    const expected = gt.sessions.filter(
      (s) => s.host === host && s.end_reason === 'data_ends' && s.suppressed_by === null,
    );
    expect(expected.length).toBeGreaterThan(0);
    for (const want of expected) {
      const got = incident.sessions.find((x) => x.host === host && x.logon_id === want.logon_id);
      expect(got?.end_reason).toBe('data_ends');
      expect(Date.parse(got?.end as string)).toBeLessThanOrEqual(Date.parse(want.end as string));
      expect(Date.parse(got?.end as string)).toBeGreaterThanOrEqual(Date.parse(got?.start as string));
      expect(got?.completeness.reasons).toContain('data_ends');
    }
    const coverage = review.coverage.hosts.find((h) => h.host === host);
    const last = coverage?.gaps[coverage.gaps.length - 1];
    expect(last?.to).toBe(gt.window.to);
    expect(Date.parse(last?.from as string)).toBeLessThan(stopAt);
    expect(review.limitations.some((l) => l.includes(`${host}: ${last?.from} to ${last?.to}`))).toBe(true);
  });

  it('counts the collector-timed records of the pack itself, not of all the data read', () => {
    const nxlog = new Set(gt.host_details.filter((h) => h.layout === 'nxlog').map((h) => h.host));
    const expected =
      review.sessions
        .filter((x) => nxlog.has(x.host))
        .reduce((n, x) => n + x.halves.length + x.activity_count, 0) +
      review.orphan_activity.filter((g) => nxlog.has(g.host)).reduce((n, g) => n + g.event_count, 0);
    expect(expected).toBeGreaterThan(0);
    const read = (review.coverage.sources[0]?.time_fields ?? [])
      .filter((t) => t.field.startsWith('@timestamp (collector'))
      .reduce((n, t) => n + t.records, 0);
    expect(read).toBeGreaterThan(expected);
    expect(review.limitations).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${expected} windows logons and activity events of this pack carry only the collector's receipt time`,
        ),
      ),
    );
  });

  it('states the collector lag measured from the NXLog records, within what the generator ships', () => {
    // The generator ships each record 0-2.5 s after its event (windows-sample.ts `number`), and the
    // NXLog hosts' events fall on whole seconds, so their EventTime is exact: the measured lag lies
    // in [0, 2500] ms, over records whose time is the collector's.
    const lag = review.coverage.sources[0]?.collector_lag;
    const collectorTimed = (review.coverage.sources[0]?.time_fields ?? [])
      .filter((t) => t.field.startsWith('@timestamp (collector'))
      .reduce((n, t) => n + t.records, 0);
    expect(lag?.records).toBeGreaterThan(0);
    expect(lag?.records).toBeLessThanOrEqual(collectorTimed);
    expect(lag?.min_ms).toBeGreaterThanOrEqual(0);
    expect(lag?.max_ms).toBeLessThanOrEqual(2500);
    expect(lag?.median_ms).toBeLessThanOrEqual(lag?.p95_ms as number);
    expect(review.limitations).toContainEqual(
      expect.stringContaining(
        `the receipt came ${lag?.min_ms} ms to ${lag?.max_ms} ms after the event (median ${lag?.median_ms} ms, 95% within ${lag?.p95_ms} ms`,
      ),
    );
  });

  it('counts every bad line, duplicate and skipped record', () => {
    const rejected = Object.fromEntries(review.coverage.rejected.map((r) => [r.reason, r.count]));
    expect(rejected).toEqual(gt.bad_lines);
    const skipped = Object.fromEntries(review.coverage.skipped.map((r) => [r.reason, r.count]));
    expect(skipped).toEqual(gt.skipped);
    expect(review.coverage.sources[0]?.duplicates_collapsed).toBe(gt.duplicates);
  });

  it('reports the log clear, the boots and the shutdowns as integrity events', () => {
    const of = (kind: string) =>
      review.integrity_events
        .filter((e) => e.kind === kind)
        .map((e) => e.host)
        .sort();
    expect(of('log_cleared')).toEqual(gt.log_clears.map((c) => c.host).sort());
    expect(of('boot')).toEqual(gt.boots.map((c) => c.host).sort());
    expect(of('shutdown')).toEqual(gt.shutdowns.map((c) => c.host).sort());
  });

  it('raises a finding for every planted log clear, audit policy change, account or group change, and none other of those rules', () => {
    // The ground truth's records of each kind, as `host#record`, over sessions and orphan activity.
    const planted = (codes: readonly string[]) =>
      [
        ...gt.sessions.flatMap((s) => s.activity.map((a) => ({ host: s.host, ...a }))),
        ...gt.orphans.flatMap((o) => o.activity.map((a) => ({ host: o.host, ...a }))),
      ]
        .filter((a) => codes.includes(a.event_code))
        .map((a) => `${a.host}#${a.record}`)
        .sort();
    const raised = (rule: string) =>
      review.findings
        .filter((f) => f.rule_id === rule)
        .flatMap((f) => f.records.map((r) => `${f.host}#${recordOf(r.raw_ref)}`))
        .sort();
    expect(raised('audit-log-cleared')).toEqual(gt.log_clears.map((c) => `${c.host}#${c.record}`).sort());
    const bySystem = gt.system_account_changes.map((c) => `${c.host}#${c.record}`);
    expect(bySystem.length).toBeGreaterThan(0);
    expect(raised('account-created')).toEqual([...planted(['4720']), ...bySystem].sort());
    // SYSTEM's activity is suppressed by the built-in rule: its account creation is still a finding, marked.
    const marked = review.findings.filter((f) =>
      bySystem.includes(`${f.host}#${recordOf(f.records[0]?.raw_ref ?? '')}`),
    );
    expect(marked.map((f) => [f.rule_id, f.suppressed_by])).toEqual(
      bySystem.map(() => ['account-created', 'system-accounts']),
    );
    expect(raised('account-changed')).toEqual(
      planted(['4722', '4723', '4724', '4725', '4726', '4738', '4767', '4781']),
    );
    expect(raised('group-membership-changed')).toEqual(
      planted(['4728', '4729', '4732', '4733', '4756', '4757']),
    );
    expect(raised('audit-policy-changed')).toEqual(planted(['4719', '4912', '4906']));
    expect(planted(['4720']).length).toBeGreaterThan(0);
    expect(planted(['4719']).length).toBeGreaterThan(0);
  });

  it('raises the planted password spray, a failed-logons finding per account tried, and no other failed-logon finding', () => {
    const raised = (rule: string) =>
      review.findings
        .filter((f) => f.rule_id === rule)
        .map((f) => ({
          host: f.host,
          records: f.records.map((r) => recordOf(r.raw_ref)).sort((a, b) => a - b),
        }));
    expect(gt.password_sprays.length).toBeGreaterThan(0);
    // The planted spray tries at least as many accounts as the configuration (the demo's: defaults) calls a spray.
    for (const s of gt.password_sprays)
      expect(s.accounts).toBeGreaterThanOrEqual(DEFAULT_FINDINGS.spray_accounts);
    expect(raised('password-spray')).toEqual(
      gt.password_sprays.map((s) => ({ host: s.host, records: s.records })),
    );
    const spray = review.findings.find((f) => f.rule_id === 'password-spray');
    expect(spray?.statement).toContain(`from ${gt.password_sprays[0]?.src_ip}`);
    // One failed-logons finding per host and account tried, resting on exactly the planted attempts.
    const byAccount = new Map<string, number[]>();
    for (const f of gt.failed_logons) {
      const key = `${f.host}|${f.account.toUpperCase()}`;
      byAccount.set(key, [...(byAccount.get(key) ?? []), f.record]);
    }
    const failed = raised('failed-logons');
    expect(failed.map((f) => [f.host, f.records]).sort()).toEqual(
      [...byAccount.entries()].map(([k, records]) => [k.split('|')[0], records.sort((a, b) => a - b)]).sort(),
    );
    expect(raised('brute-force')).toEqual([]);
  });

  it('says the host without logoff auditing leaves session ends unknown', () => {
    for (const h of gt.host_details.filter((d) => !d.logoff_audited)) {
      expect(review.limitations.some((l) => l.includes(h.host) && l.includes('No logoff events'))).toBe(true);
      for (const s of review.sessions.filter((x) => x.host === h.host && x.end === null)) {
        expect(s.completeness.reasons).toContain('logoff_not_audited');
      }
    }
  });
});

describe('sample ground truth: incident pack over every host', () => {
  it('holds every session that no rule suppresses, privileged or not', () => {
    compareSessions(
      incident,
      gt.sessions.filter((s) => s.suppressed_by === null),
    );
  });

  it('counts what each suppression rule kept out', () => {
    const expected = new Map<string, number>();
    for (const s of gt.sessions)
      if (s.suppressed_by) expected.set(s.suppressed_by, (expected.get(s.suppressed_by) ?? 0) + 1);
    const counted = Object.fromEntries(
      incident.suppressions
        .filter((s) => s.sessions_suppressed > 0)
        .map((s) => [s.rule_id, s.sessions_suppressed]),
    );
    expect(counted).toEqual(Object.fromEntries(expected));
  });
});
