/**
 * The reconstruction rules of `lib/query/reconstruct.ts`, one table per rule, on hand-written
 * normalised events in a real DuckDB. Every bound is tested just inside and just outside, with the
 * bound written here as the documented value (not read from the module), so that changing a rule's
 * constant turns these tests red.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../../lib/query/query-engine.ts';
import { CLASSIFIED_COLUMNS } from '../../../lib/query/session-events.ts';
import {
  type EventRow,
  FROM_MS,
  loadEvents,
  notEvent,
  planOf,
  reconstruct,
  T0,
  TO_MS,
  win,
} from './event-table.ts';

/** A 4672 may be written up to 5 s before its 4624 (reconstruct.ts, PRIVILEGE_LEAD_MS). */
const LEAD_MS = 5_000;
/** The two 4624 of a UAC pair are at most 60 s apart (reconstruct.ts, UAC_PAIR_MAX_GAP_MS). */
const UAC_GAP_MS = 60_000;

let engine: DuckDbEngine;
beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 1 });
});
afterAll(async () => {
  await engine.close();
});

const halvesOf = async (rows: readonly EventRow[]) => (await reconstruct(engine, rows)).halves;
const uidOf = (row: EventRow) => row.record_uid as string;

describe('the hand-written event table', () => {
  it('has the columns and types of the session-events contract', async () => {
    await loadEvents(engine, 'rule_lines', []);
    const { rows } = await engine.select({ name: 'describe', sql: 'DESCRIBE rule_lines', params: [] });
    expect(rows.map((r) => [r.column_name, r.column_type])).toEqual(
      CLASSIFIED_COLUMNS.map((c) => [c.name, c.type]),
    );
  });

  it('refuses a column the contract does not have', async () => {
    await expect(loadEvents(engine, 'rule_lines', [{ logon_id: '0x1' }])).rejects.toThrow(/logon_id/);
  });
});

describe('privilege lead: a 4672 written before its 4624 belongs to it within the lead', () => {
  it.each<[string, number, boolean]>([
    ['after the logon', -1_000, true],
    ['at the same millisecond', 0, true],
    ['1 ms inside the lead', LEAD_MS - 1, true],
    ['exactly at the lead', LEAD_MS, true],
    ['1 ms beyond the lead', LEAD_MS + 1, false],
  ])('4672 %s', async (_name, leadMs, belongs) => {
    const logon = win('4624', T0);
    const priv = win('4672', T0 - leadMs, { privileges: 'SeDebugPrivilege' });
    const r = await reconstruct(engine, [logon, priv]);
    expect(r.halves).toHaveLength(1);
    const half = r.halves[0] as Row;
    expect(half.privilege_ref).toBe(belongs ? priv.raw_ref : null);
    expect(half.priv_by_privilege).toBe(belongs);
    expect(half.privileged).toBe(belongs);
    // Outside the lead the 4672 is activity of no known logon: an orphan, never dropped.
    expect(r.results.orphans.map((o) => o.record_uid)).toEqual(belongs ? [] : [uidOf(priv)]);
  });

  it('a 4672 within the lead of a reused logon id belongs to the later logon', async () => {
    const first = win('4624', T0);
    const second = win('4624', T0 + 10_000);
    const priv = win('4672', T0 + 10_000 - LEAD_MS, { privileges: 'SeDebugPrivilege' });
    const halves = await halvesOf([first, second, priv]);
    expect(halves.map((h) => [h.instance_uid, h.privilege_ref])).toEqual([
      [uidOf(first), null],
      [uidOf(second), priv.raw_ref],
    ]);
  });

  it('other activity is never moved forward: a 4688 1 ms before its logon is an orphan', async () => {
    const logon = win('4624', T0);
    const proc = win('4688', T0 - 1, { process: 'C:\\Windows\\System32\\cmd.exe' });
    const r = await reconstruct(engine, [logon, proc]);
    expect(r.attributed.map((a) => [a.record_uid, a.instance_uid])).toEqual([[uidOf(proc), null]]);
  });
});

describe('UAC pairing: two linked 4624 are one session within the pairing gap', () => {
  const pair = (gapMs: number) => {
    const elevated = win('4624', T0, { session_uid: '0x10', linked_session_uid: '0x11', is_elevated: true });
    const filtered = win('4624', T0 + gapMs, {
      session_uid: '0x11',
      linked_session_uid: '0x10',
      is_elevated: false,
    });
    return { elevated, filtered };
  };

  it.each<[string, number, boolean]>([
    ['logged together', 0, true],
    ['1 ms inside the gap', UAC_GAP_MS - 1, true],
    ['exactly at the gap', UAC_GAP_MS, true],
    ['1 ms beyond the gap', UAC_GAP_MS + 1, false],
  ])('partners %s', async (_name, gapMs, paired) => {
    const { elevated, filtered } = pair(gapMs);
    const halves = await halvesOf([elevated, filtered]);
    expect(halves.map((h) => [h.instance_uid, h.partner_uid, h.group_uid])).toEqual(
      paired
        ? // One session, named after its elevated half (the one Windows gives the 4672).
          [
            [uidOf(elevated), uidOf(filtered), uidOf(elevated)],
            [uidOf(filtered), uidOf(elevated), uidOf(elevated)],
          ]
        : [
            [uidOf(elevated), null, uidOf(elevated)],
            [uidOf(filtered), null, uidOf(filtered)],
          ],
    );
    // The filtered half is privileged through its elevated partner, and only then.
    expect(halves.map((h) => h.privileged)).toEqual([true, paired]);
  });

  it('does not pair logons that name each other across a reboot', async () => {
    const { elevated, filtered } = pair(1_000);
    const boot = win('4608', T0 + 500);
    const halves = await halvesOf([elevated, boot, filtered]);
    expect(halves.map((h) => h.partner_uid)).toEqual([null, null]);
  });

  it('without the elevation flag, names the pair after the half with the 4672', async () => {
    const a = win('4624', T0, { session_uid: '0x21', linked_session_uid: '0x20' });
    const b = win('4624', T0 + 1, { session_uid: '0x20', linked_session_uid: '0x21' });
    const priv = win('4672', T0 + 2, { session_uid: '0x21', privileges: 'SeDebugPrivilege' });
    const halves = await halvesOf([a, b, priv]);
    expect(halves.map((h) => h.group_uid)).toEqual([uidOf(a), uidOf(a)]);
  });
});

describe('logon-id reuse in one boot epoch: a new 4624 of the same id starts a new session', () => {
  it('splits the activity between the two logons at the second 4624', async () => {
    const first = win('4624', T0);
    const before = win('4688', T0 + 1_000);
    const second = win('4624', T0 + 2_000);
    const after = win('4688', T0 + 3_000);
    const r = await reconstruct(engine, [first, before, second, after]);
    expect(r.halves.map((h) => [h.instance_uid, h.end_reason, h.end_ms, h.activity_count])).toEqual([
      // A reused id says a reboot happened that the data does not show: the first session's end is unknown.
      [uidOf(first), 'id_reused', null, 1],
      [uidOf(second), 'open_at_window_end', null, 1],
    ]);
    expect(r.attributed.map((a) => [a.record_uid, a.instance_uid])).toEqual([
      [uidOf(before), uidOf(first)],
      [uidOf(after), uidOf(second)],
    ]);
  });

  it('at the same millisecond, orders by record number', async () => {
    const first = win('4624', T0, { record_no: 10 });
    const act = win('4688', T0, { record_no: 11 });
    const second = win('4624', T0, { record_no: 12 });
    const r = await reconstruct(engine, [second, act, first]);
    expect(r.attributed.map((a) => a.instance_uid)).toEqual([uidOf(first)]);
  });

  it('collapses a duplicate record (same record_uid) before counting it as a reuse', async () => {
    const logon = win('4624', T0);
    const copy = { ...logon, raw_ref: 'copy.json#record=1', object_key: 'copy.json' };
    const halves = await halvesOf([logon, copy]);
    expect(halves.map((h) => [h.instance_uid, h.end_reason])).toEqual([[uidOf(logon), 'open_at_window_end']]);
  });
});

describe('boot epochs: a 4608 starts a new epoch per host; ids of different epochs are different sessions', () => {
  it('gives events before the first boot epoch -1 and later events the time of their boot', async () => {
    const early = win('4624', T0);
    const boot = win('4608', T0 + 1_000);
    const late = win('4624', T0 + 2_000);
    const act = win('4688', T0 + 3_000);
    const r = await reconstruct(engine, [early, boot, late, act]);
    expect(r.halves.map((h) => [h.instance_uid, h.boot_ms, h.end_reason, h.end_ms])).toEqual([
      [uidOf(early), -1, 'reboot', T0 + 1_000],
      [uidOf(late), T0 + 1_000, 'open_at_window_end', null],
    ]);
    expect(r.attributed.map((a) => a.instance_uid)).toEqual([uidOf(late)]);
  });

  it('keeps the epochs of each host apart', async () => {
    const a = win('4624', T0, { host: 'WS01' });
    const bootB = win('4608', T0 + 1_000, { host: 'WS02' });
    const actA = win('4688', T0 + 2_000, { host: 'WS01' });
    const r = await reconstruct(engine, [a, bootB, actA]);
    expect(r.halves.map((h) => [h.boot_ms, h.end_reason])).toEqual([[-1, 'open_at_window_end']]);
    expect(r.attributed.map((x) => x.instance_uid)).toEqual([uidOf(a)]);
  });

  it('does not attribute activity of an id after a reboot to the logon before it', async () => {
    const logon = win('4624', T0);
    const boot = win('4608', T0 + 1_000);
    const act = win('4688', T0 + 2_000);
    const r = await reconstruct(engine, [logon, boot, act]);
    expect(r.attributed.map((x) => [x.instance_uid, x.boot_ms])).toEqual([[null, T0 + 1_000]]);
  });
});

describe('end reasons: each way a session ends, and which wins', () => {
  const logon = () => win('4624', T0);
  const cases: readonly (readonly [string, (l: EventRow) => EventRow[], string, number | null])[] = [
    ['a 4634 logoff', () => [win('4634', T0 + 100)], 'logoff', T0 + 100],
    ['a 4647 user-initiated logoff', () => [win('4647', T0 + 100)], 'user_logoff', T0 + 100],
    [
      'the first of two logoffs',
      () => [win('4634', T0 + 200), win('4647', T0 + 100)],
      'user_logoff',
      T0 + 100,
    ],
    ['a 4609 shutdown', () => [win('4609', T0 + 100)], 'shutdown', T0 + 100],
    ['a logoff before a shutdown', () => [win('4634', T0 + 100), win('4609', T0 + 50)], 'logoff', T0 + 100],
    ['the next boot', () => [win('4608', T0 + 100)], 'reboot', T0 + 100],
    [
      'a 1100 (audit service stopped) before the next boot: a shutdown at the 1100',
      () => [win('1100', T0 + 100), win('4608', T0 + 300)],
      'shutdown',
      T0 + 100,
    ],
    [
      'a 1100 with no next boot in the data: still open',
      () => [win('1100', T0 + 100)],
      'open_at_window_end',
      null,
    ],
    [
      'a 1100 before the logon: the next boot',
      () => [win('1100', T0 - 100), win('4608', T0 + 300)],
      'reboot',
      T0 + 300,
    ],
    [
      'a shutdown of another host: still open',
      () => [win('4609', T0 + 100, { host: 'WS02' })],
      'open_at_window_end',
      null,
    ],
    [
      'a logoff of another logon id: still open',
      () => [win('4634', T0 + 100, { session_uid: '0x2' })],
      'open_at_window_end',
      null,
    ],
    ['nothing: open at the window end', () => [], 'open_at_window_end', null],
  ];
  it.each(cases)('ends by %s', async (_name, more, reason, endMs) => {
    const l = logon();
    const halves = await halvesOf([l, ...more(l)]);
    expect(halves.map((h) => [h.instance_uid, h.end_reason, h.end_ms])).toEqual([[uidOf(l), reason, endMs]]);
  });

  it.each<[string, number, string, number | null]>([
    ['1 ms before the window end', TO_MS - 1, 'credentials_expired', TO_MS - 1],
    ['at the window end', TO_MS, 'open_at_window_end', null],
  ])('ends at a source end hint %s only if it falls inside the window', async (_n, hintMs, reason, endMs) => {
    const l = win('4624', T0, { end_hint_ms: hintMs, end_hint: 'credentials_expired' });
    const halves = await halvesOf([l]);
    expect(halves.map((h) => [h.end_reason, h.end_ms])).toEqual([[reason, endMs]]);
  });

  it('a logged logoff wins over an end hint', async () => {
    const l = win('4624', T0, { end_hint_ms: T0 + 500, end_hint: 'credentials_expired' });
    const halves = await halvesOf([l, win('4634', T0 + 900)]);
    expect(halves.map((h) => [h.end_reason, h.end_ms])).toEqual([['logoff', T0 + 900]]);
  });

  it('records the clear of the host log after the logon, and none before it', async () => {
    const l = win('4624', T0);
    const halves = await halvesOf([win('1102', T0 - 10), l, win('1102', T0 + 10, { session_uid: '0x9' })]);
    expect(halves.map((h) => h.cleared_ms)).toEqual([T0 + 10]);
  });
});

describe('the window: what is read and what is in the pack', () => {
  it('reads the lookback before the window but not the window end', async () => {
    const plan = planOf();
    const before = win('4624', plan.dataFromMs - 1, { session_uid: '0x1' });
    const first = win('4624', plan.dataFromMs, { session_uid: '0x2' });
    const last = win('4624', TO_MS - 1, { session_uid: '0x3' });
    const after = win('4624', TO_MS, { session_uid: '0x4' });
    const halves = await halvesOf([before, first, last, after]);
    expect(halves.map((h) => h.session_uid)).toEqual(['0x2', '0x3']);
  });

  const HOUR = 3_600_000;
  it.each<[string, number, number | null, boolean]>([
    ['ending 1 ms before the window start is not in the pack', -2 * HOUR, -1, false],
    ['ending at the window start is in the pack', -2 * HOUR, 0, true],
    ['open, begun in the lookback, is in the pack', -2 * HOUR, null, true],
    ['beginning 1 ms before the window end is in the pack', TO_MS - 1 - FROM_MS, null, true],
  ])('a privileged session %s', async (_n, start, end, inPack) => {
    const rows = [
      win('4624', FROM_MS + start, { is_elevated: true }),
      ...(end === null ? [] : [win('4634', FROM_MS + end)]),
      // The host's data runs to the window end (else its sessions end where its data ends).
      win('4688', TO_MS - 1, { session_uid: '0xff' }),
    ];
    const halves = await halvesOf(rows);
    expect(halves.map((h) => h.in_pack)).toEqual([inPack]);
  });
});

describe('coverage: every record counted, at most five example references per reason', () => {
  it.each<[number, number]>([
    [4, 4],
    [5, 5],
    [6, 5],
  ])('%i rejected records: %i examples', async (n, shown) => {
    const rows = Array.from({ length: n }, () => notEvent('rejected', 'malformed_json'));
    const r = await reconstruct(engine, [win('4624', T0), ...rows]);
    const rejected = r.results.coverageRecords.filter((c) => c.status === 'rejected');
    expect(rejected.map((c) => c.n)).toEqual(Array(shown).fill(n));
    // The first references in order, so that the same records always give the same examples.
    expect(rejected.map((c) => c.example)).toEqual(
      rows
        .map((x) => x.raw_ref as string)
        .sort()
        .slice(0, shown),
    );
  });
});

describe('orphan activity: only what falls in the window, of every kind that names a session', () => {
  it.each<[string, number, boolean]>([
    ['1 ms before the window start (read for the lookback only)', FROM_MS - 1, false],
    ['at the window start', FROM_MS, true],
    ['1 ms before the window end', TO_MS - 1, true],
  ])('a 4688 with no logon %s', async (_n, timeMs, shown) => {
    const proc = win('4688', timeMs, { session_uid: '0x7' });
    const r = await reconstruct(engine, [proc]);
    expect(r.results.orphans.map((o) => o.record_uid)).toEqual(shown ? [uidOf(proc)] : []);
  });

  it.each<[string, string, boolean]>([
    ['a process (4688)', '4688', true],
    ['a reconnect (4778)', '4778', true],
    ['a log clear by a session (1102)', '1102', true],
    ['a 4672 with no logon', '4672', true],
    // A logoff of a logon not in the data is shown and ends its orphan group (README, Ends).
    ['a logoff with no logon (4634)', '4634', true],
  ])('%s', async (_n, code, orphan) => {
    const e = win(code, T0, { session_uid: '0x7' });
    const r = await reconstruct(engine, [e]);
    expect(r.results.orphans.map((o) => o.record_uid)).toEqual(orphan ? [uidOf(e)] : []);
  });
});

describe("a session's activity: what counts and what does not", () => {
  it('counts processes, reconnects and integrity events of the session, not its 4672 or logoff', async () => {
    const rows = [
      win('4624', T0),
      win('4672', T0, { privileges: 'SeDebugPrivilege' }),
      win('4688', T0 + 1),
      win('4778', T0 + 2),
      win('1102', T0 + 3),
      win('4634', T0 + 4),
    ];
    const r = await reconstruct(engine, rows);
    expect(r.halves.map((h) => h.activity_count)).toEqual([3]);
    expect(r.results.activity.map((a) => a.event_code)).toEqual(['4688', '4778', '1102']);
  });

  it('scopes hosts by full name or first label, in any case', async () => {
    const rows = [
      win('4624', T0, { host: 'ws01.corp.example', is_elevated: true }),
      win('4624', T0, { host: 'WS02', is_elevated: true }),
    ];
    const r = await reconstruct(engine, rows, { ...planOf(), hosts: ['WS01'] });
    expect(r.halves.map((h) => h.host)).toEqual(['ws01.corp.example']);
  });
});
