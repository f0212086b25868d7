import { describe, expect, it } from 'vitest';
import type { EvidencePack, Finding, IntegrityEvent } from '../../lib/evidence/model.ts';
import {
  activityRowBudget,
  buildRenderModel,
  formatTime,
  logIntegrity,
  MAX_READ_FILES_LISTED,
} from '../../lib/render/render-model.ts';
import { minimalPack } from '../fixtures/minimal-pack.ts';
import { makeSamplePack } from '../fixtures/sample-pack.ts';
import { sealFor } from '../fixtures/seal-facts.ts';

const seal = { evidenceSha256: 'ab'.repeat(32), keyId: 'key-1', keyFingerprint: 'SHA256:fp' };

describe('buildRenderModel', () => {
  it('puts the cover facts of the pack and the seal on the cover', () => {
    // Prepare
    const pack = makeSamplePack({ sessions: 12, activityPerSession: 3, seed: 1 });
    // Act
    const model = buildRenderModel(pack, sealFor(pack, seal));
    // Assess
    const facts = Object.fromEntries(model.cover.facts.map((f) => [f.label, f.value]));
    expect(facts['Pack id']).toBe(pack.pack.id);
    expect(facts['Incident id']).toBe('INC-2024-0042');
    expect(facts.Requester).toBe('Łukasz Kowalczyk (Internal Audit)');
    expect(facts['evidence.json sha256']).toBe(seal.evidenceSha256);
    expect(facts['Signer key id']).toBe('key-1');
    expect(facts.Engine).toBe('duckdb 1.5.6');
    expect(model.meta.keywords).toContain(pack.pack.id);
    expect(model.documentDate).toBe(pack.pack.window.to);
    expect(model.shortSha256).toBe('ab'.repeat(6));
  });

  it('states the gaps in one paragraph from coverage and limitations', () => {
    const pack = makeSamplePack({ sessions: 12, activityPerSession: 3, seed: 1 });
    const { gaps } = buildRenderModel(pack, sealFor(pack, seal)).summary;
    expect(gaps.startsWith('This pack does not show ')).toBe(true);
    expect(gaps).toContain('SRV-LEGACY01'); // in scope, no records read
    expect(gaps).toContain('cleared from the log');
    expect(gaps).toContain(pack.limitations[0]);
  });

  it('cuts activity to the budget and counts what it omits', () => {
    const pack = makeSamplePack({ sessions: 3, activityPerSession: 30, seed: 2 });
    const model = buildRenderModel(pack, sealFor(pack, seal), { maxActivityRowsPerSession: 25 });
    for (const s of model.sessions) {
      expect(s.activity.rows).toHaveLength(25);
      expect(s.omittedRows).toBe(5);
    }
  });

  it('draws sessions without an end as open to the window edge', () => {
    const pack = makeSamplePack({ sessions: 30, activityPerSession: 1, seed: 3 });
    const model = buildRenderModel(pack, sealFor(pack, seal));
    const bars = model.timeline.lanes.flatMap((l) => l.bars);
    const open = pack.sessions.filter((s) => s.end === null).map((s) => s.id);
    expect(open.length).toBeGreaterThan(0);
    for (const bar of bars.filter((b) => open.includes(b.sessionId))) {
      expect(bar.openEnd).toBe(true);
      expect(bar.end).toBe(model.timeline.to);
    }
    expect(bars).toHaveLength(30);
    expect(model.timeline.lanes.flatMap((l) => l.orphans)).toHaveLength(pack.orphan_activity.length);
  });

  it('says how a UAC pair was tied and when an orphan group was ended, as evidence.json does', () => {
    const base = makeSamplePack({ sessions: 12, activityPerSession: 1, seed: 5 });
    const paired = base.sessions.find((s) => s.halves.length === 2);
    if (paired === undefined) throw new Error('the sample pack has no UAC pair');
    const pairing = { method: 'inferred' as const, gap_ms: 87, basis: 'inferred, not logged: because' };
    const orphan = base.orphan_activity[0];
    if (orphan === undefined) throw new Error('the sample pack has no orphan group');
    const pack = {
      ...base,
      sessions: base.sessions.map((s) => (s === paired ? { ...s, pairing } : s)),
      orphan_activity: [{ ...orphan, ended: '2024-01-10T10:00:00.000Z' }, ...base.orphan_activity.slice(1)],
    };
    const model = buildRenderModel(pack, sealFor(pack, seal));
    const detail = [...model.sessions].find((s) => s.id === paired.id);
    expect(detail?.facts.find((f) => f.label === 'Pairing')?.value).toBe(
      'inferred, 87 ms apart: inferred, not logged: because',
    );
    const block = model.orphans.find((b) => b.host === orphan.host);
    const ended = block?.groups.headers.indexOf('Ended') ?? -1;
    expect(block?.groups.rows.map((r) => r[ended])).toContain(
      `${formatTime('2024-01-10T10:00:00.000Z')} (logoff)`,
    );
  });

  it('is pure: the same pack gives an equal model and the pack is not changed', () => {
    const pack = makeSamplePack({ sessions: 8, activityPerSession: 4, seed: 4 });
    const before = JSON.stringify(pack);
    const a = buildRenderModel(pack, sealFor(pack, seal));
    const b = buildRenderModel(pack, sealFor(pack, seal));
    expect(a).toEqual(b);
    // The session blocks are built as they are read: equal whenever they are read, and read twice.
    expect([...a.sessions]).toEqual([...b.sessions]);
    expect(a.sessions.at(3)).toEqual([...a.sessions][3]);
    expect(JSON.stringify(pack)).toBe(before);
  });

  it('gives one session block per session of the pack, in pack order, and no block outside it', () => {
    const pack = makeSamplePack({ sessions: 8, activityPerSession: 4, seed: 4 });
    const { sessions } = buildRenderModel(pack, sealFor(pack, seal));
    expect(sessions.length).toBe(pack.sessions.length);
    expect([...sessions].map((d) => d.id)).toEqual(pack.sessions.map((s) => s.id));
    expect(() => sessions.at(pack.sessions.length)).toThrow(/no session at index 8/);
  });
});

describe('buildRenderModel: what evidence.json holds about inputs and pairs', () => {
  it('shows records outside the window per source, as coverage counts them', () => {
    const pack = makeSamplePack({ sessions: 4, activityPerSession: 2, seed: 5 });
    const withOutside: EvidencePack = {
      ...pack,
      coverage: {
        ...pack.coverage,
        sources: pack.coverage.sources.map((s) => ({ ...s, records_outside_window: 17 })),
      },
    };
    const { sources } = buildRenderModel(withOutside, sealFor(withOutside, seal)).dataQuality;
    const column = sources.headers.indexOf('Outside window');
    expect(column).toBeGreaterThan(0);
    expect(sources.rows.map((r) => r[column])).toEqual(pack.coverage.sources.map(() => '17'));
  });

  it('lists every file not read in full with its status and reason, and says how many read files it leaves to evidence.json', () => {
    const sha = (n: number) => n.toString(16).padStart(64, '0');
    const read = Array.from({ length: MAX_READ_FILES_LISTED + 5 }, (_, i) => ({
      source: 'windows',
      key: `windows/dt=2024-01-01/part-${String(i).padStart(4, '0')}.json`,
      status: 'read' as const,
      reason: null,
      size: 1000 + i,
      sha256: sha(i + 1),
      s3: null,
      records: 10,
      range: { bytes: 1000 + i, last_line: 10 },
    }));
    const damaged = {
      source: 'windows',
      key: 'windows/dt=2024-01-02/cut.json.gz',
      status: 'damaged' as const,
      reason: 'truncated_gzip',
      size: 512,
      sha256: 'ab'.repeat(32),
      s3: null,
      records: 3,
      range: { bytes: 2048, last_line: 3 },
    };
    const skipped = {
      ...damaged,
      key: 'windows/notes.txt',
      status: 'skipped' as const,
      reason: 'not_a_log_name',
      size: null,
      sha256: null,
      records: null,
      range: null,
    };
    const pack = minimalPack({ inputs: [...read, damaged, skipped] });
    const { inputs } = buildRenderModel(pack, sealFor(pack, seal)).dataQuality;
    expect(inputs.table.rows).toHaveLength(MAX_READ_FILES_LISTED + 2);
    expect(inputs.table.rows).toContainEqual([
      'windows',
      damaged.key,
      'damaged',
      'truncated_gzip',
      '512',
      '3',
      '3',
      `${'ab'.repeat(8)}…`,
    ]);
    expect(inputs.table.rows).toContainEqual([
      'windows',
      skipped.key,
      'skipped',
      'not_a_log_name',
      '—',
      '—',
      '—',
      '—',
    ]);
    expect(inputs.note).toContain(
      `${read.length + 2} files found: ${read.length} read, 1 skipped, 0 unreadable, 1 damaged.`,
    );
    expect(inputs.note).toContain(`evidence.json (inputs) lists all ${read.length + 2}`);
  });

  it('gives each half of a UAC pair with the records it rests on', () => {
    const pack = makeSamplePack({ sessions: 30, activityPerSession: 1, seed: 3 });
    const index = pack.sessions.findIndex((s) => s.pairing !== null);
    const session = pack.sessions[index];
    if (session === undefined) throw new Error('the sample has a UAC pair');
    const facts = buildRenderModel(pack, sealFor(pack, seal)).sessions.at(index).facts ?? [];
    for (const h of session.halves) {
      const fact = facts.find((f) => f.label === `${h.elevated ? 'Elevated' : 'Filtered'} half`);
      expect(fact?.value).toContain(`logon id ${h.logon_id}`);
      if (h.logon_ref) expect(fact?.value).toContain(h.logon_ref);
    }
  });
});

describe('logIntegrity', () => {
  const trailEvent = (over: Partial<IntegrityEvent>): IntegrityEvent => ({
    time: '2024-01-01T12:00:00.000Z',
    host: '123456789012',
    event_code: 'cloudtrail.amazonaws.com:DeleteTrail',
    kind: 'logging_stopped',
    user_name: 'user/alice',
    logon_id: 'AKIAEXAMPLE',
    detail: 'main-trail',
    denied: false,
    raw_ref: 'ct.json#record=1',
    ...over,
  });
  const withIntegrity = (events: IntegrityEvent[], findings: Finding[] = []): EvidencePack => ({
    ...minimalPack(),
    integrity_events: events,
    findings,
  });
  const NONE_SENTENCE = /^No log clearing, logging stop/;

  it('says there is no log clearing or logging stop only when the pack holds neither event nor finding', () => {
    const r = logIntegrity(minimalPack());
    expect(r.statement).toMatch(NONE_SENTENCE);
    expect(r.gaps).toEqual([]);
  });

  it('names a successful logging stop as a gap, and counts a denied attempt without calling it one', () => {
    const r = logIntegrity(
      withIntegrity([
        trailEvent({}),
        trailEvent({
          time: '2024-01-01T12:05:00.000Z',
          event_code: 'cloudtrail.amazonaws.com:StopLogging',
          denied: true,
          raw_ref: 'ct.json#record=2',
        }),
      ]),
    );
    expect(r.gaps).toEqual([
      'activity on 123456789012 after audit logging was stopped (DeleteTrail at 2024-01-01 12:00:00Z)',
    ]);
    expect(r.statement).not.toMatch(NONE_SENTENCE);
    expect(r.statement).toContain('denied attempt: logging stopped 1');
    expect(r.statement).toContain('logging stopped 1');
  });

  it('groups repeated events of one host and code into one phrase', () => {
    const r = logIntegrity(
      withIntegrity(
        [1, 2, 3].map((i) =>
          trailEvent({
            event_code: '4719',
            host: 'DC01',
            kind: 'audit_policy_changed',
            time: `2024-01-01T12:0${i}:00.000Z`,
            raw_ref: `w.json#${i}`,
          }),
        ),
      ),
    );
    expect(r.gaps).toEqual([
      'events on DC01 that the audit-policy change (4719 ×3, first at 2024-01-01 12:01:00Z) may have stopped recording',
    ]);
  });

  it('never says "no log clearing" while a log-tampering finding stands, even without an integrity event', () => {
    const finding: Finding = {
      id: 'f1',
      rule_id: 'audit-log-cleared',
      category: 'log_tampering',
      severity: 'high',
      time: '2024-01-01T12:00:00.000Z',
      host: 'DC01',
      source: 'windows',
      account: null,
      statement: 'The Security log of DC01 was cleared',
      session: null,
      orphan: null,
      records: [{ time: '2024-01-01T12:00:00.000Z', event_code: '1102', raw_ref: 'w.json#9' }],
      suppressed_by: null,
      redacted: false,
    };
    const r = logIntegrity(withIntegrity([], [finding]));
    expect(r.statement).not.toMatch(NONE_SENTENCE);
    expect(r.statement).toContain('F1');
    expect(r.gaps).toEqual([
      'what the log tampering of finding F1 on DC01 at 2024-01-01 12:00:00Z may have hidden',
    ]);
    const withFinding = withIntegrity([], [finding]);
    const model = buildRenderModel(withFinding, sealFor(withFinding, seal));
    expect(model.summary.gaps).toContain('finding F1');
    expect(model.dataQuality.integrityStatement).toBe(r.statement);
  });
});

describe('activityRowBudget', () => {
  it.each([
    { sessions: 50, per: 200, total: 10_000, expected: 200 },
    { sessions: 1000, per: 200, total: 10_000, expected: 10 },
    { sessions: 100, per: 200, total: 10_000, expected: 100 },
    { sessions: 5000, per: 200, total: 10_000, expected: 10 },
    { sessions: 0, per: 200, total: 10_000, expected: 200 },
  ])('gives $expected rows per session for $sessions sessions', ({ sessions, per, total, expected }) => {
    expect(activityRowBudget(sessions, per, total)).toBe(expected);
  });
});

describe('formatTime', () => {
  it('drops milliseconds and marks UTC', () => {
    expect(formatTime('2020-09-14T12:06:03.852Z')).toBe('2020-09-14 12:06:03Z');
    expect(formatTime(null)).toBe('—');
  });
});
