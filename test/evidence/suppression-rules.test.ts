/**
 * Suppression rules: when a rule applies (its expiry against the window end, `applicableRules`) and what
 * an applied rule keeps out of the pack (sessions, orphan activity), counted per rule. Hand-written
 * normalised events through the real builders on DuckDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_RULES, DEFAULT_CONFIG, type SuppressionRule } from '../../lib/config/config.ts';
import { applicableRules } from '../../lib/export/plan-pack.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { planOf, reconstruct, T0, win } from '../query/rules/event-table.ts';

const rule = (id: string, expires?: string): SuppressionRule => ({
  id,
  description: `rule ${id}`,
  ...(expires === undefined ? {} : { expires }),
  match: { names: ['svc-backup'] },
});
const applies = (expires: string | undefined, to: string) => {
  const { active, expired } = applicableRules([rule('r', expires)], to);
  expect(active.length + expired.length).toBe(1);
  return active.length === 1;
};

describe('rule expiry: a rule applies only if it covers the whole window [from, to)', () => {
  // A window ending at midnight: its last instant is 23:59:59.999 of the day before `to`.
  const MIDNIGHT = '2024-03-05T00:00:00.000Z';
  it.each<[string, string | undefined, string, boolean]>([
    ['no expiry', undefined, MIDNIGHT, true],
    ['expiring two days before the window end', '2024-03-03', MIDNIGHT, false],
    ['expiring on the last day of a window that ends at midnight', '2024-03-04', MIDNIGHT, true],
    ['expiring on the day of a window end at midnight', '2024-03-05', MIDNIGHT, true],
    ['expiring after the window end', '2024-03-06', MIDNIGHT, true],
    // 1 ms later the window's last instant is on 2024-03-05: a rule ending on 03-04 no longer covers it.
    [
      'expiring the day before a window end 1 ms after midnight',
      '2024-03-04',
      '2024-03-05T00:00:00.001Z',
      false,
    ],
    ['expiring the day of a window end 1 ms after midnight', '2024-03-05', '2024-03-05T00:00:00.001Z', true],
    ['expiring the day before a window end at noon', '2024-03-04', '2024-03-05T12:00:00.000Z', false],
    ['expiring the day of a window end at noon', '2024-03-05', '2024-03-05T12:00:00.000Z', true],
    ['expiring the day after a window end at noon', '2024-03-06', '2024-03-05T12:00:00.000Z', true],
    // `to` with an offset is the same instant as in UTC: 2024-03-05T01:00+02:00 = 2024-03-04T23:00Z.
    [
      'expiring the UTC day of a window end written with an offset',
      '2024-03-04',
      '2024-03-05T01:00:00+02:00',
      true,
    ],
  ])('%s', (_n, expires, to, active) => {
    expect(applies(expires, to)).toBe(active);
  });

  it('keeps the configured order within active and expired rules', () => {
    const { active, expired } = applicableRules(
      [rule('a', '2024-01-01'), rule('b'), rule('c', '2023-01-01'), rule('d', '2030-01-01')],
      '2024-03-05T00:00:00.000Z',
    );
    expect(active.map((r) => r.id)).toEqual(['b', 'd']);
    expect(expired.map((r) => r.id)).toEqual(['a', 'c']);
  });
});

describe('what an applied rule keeps out of the pack', () => {
  let engine: DuckDbEngine;
  beforeAll(async () => {
    engine = await DuckDbEngine.open({ threads: 1 });
  });
  afterAll(async () => {
    await engine.close();
  });

  const config = { ...DEFAULT_CONFIG, suppress: [] };
  const svc = { user_name: 'svc-backup', user_uid: 'S-1-5-21-1-2-3-2001', is_elevated: true };

  it('counts a suppressed privileged session per rule instead of showing it', async () => {
    const rules = [rule('backup')];
    const r = await reconstruct(
      engine,
      [win('4624', T0, { ...svc, session_uid: '0x5' }), win('4624', T0, { is_elevated: true })],
      planOf({ config, activeRules: rules }),
    );
    expect(r.results.halves.map((h) => h.user_name)).toEqual(['alice']);
    expect(r.results.suppressionCounts).toEqual([{ what: 'session', rule_id: 'backup', n: 1 }]);
  });

  it('an expired rule (not among the active rules) hides nothing', async () => {
    const r = await reconstruct(engine, [win('4624', T0, svc)], planOf({ config, activeRules: [] }));
    expect(r.results.halves.map((h) => h.user_name)).toEqual(['svc-backup']);
    expect(r.results.suppressionCounts).toEqual([]);
  });

  it('suppresses both halves of a UAC pair when either half matches, under the smallest rule id of its halves', async () => {
    const rules = [
      { ...rule('zz-backup'), match: { names: ['svc-backup'], logon_types: [2] } },
      { ...rule('aa-filtered'), match: { logon_types: [11] } },
    ];
    const elevated = win('4624', T0, { ...svc, session_uid: '0x10', linked_session_uid: '0x11' });
    const filtered = win('4624', T0 + 1, {
      ...svc,
      is_elevated: false,
      logon_type_id: 11,
      session_uid: '0x11',
      linked_session_uid: '0x10',
    });
    const r = await reconstruct(engine, [elevated, filtered], planOf({ config, activeRules: rules }));
    expect(r.halves.map((h) => [h.suppressed_by, h.group_suppressed_by, h.in_pack])).toEqual([
      ['zz-backup', 'aa-filtered', false],
      ['aa-filtered', 'aa-filtered', false],
    ]);
    expect(r.results.suppressionCounts).toEqual([{ what: 'session', rule_id: 'aa-filtered', n: 1 }]);
  });

  it('counts suppressed orphan activity; a rule on logon types never matches activity without a logon', async () => {
    const rules = [
      { ...rule('by-type'), match: { names: ['alice'], logon_types: [2] } },
      { ...rule('by-name'), match: { names: ['svc-backup'] } },
    ];
    const rows = [
      win('4688', T0, { session_uid: '0x7' }),
      win('4688', T0 + 1, { ...svc, session_uid: '0x8' }),
    ];
    const r = await reconstruct(engine, rows, planOf({ config, activeRules: rules }));
    expect(r.results.orphans.map((o) => o.user_name)).toEqual(['alice']);
    expect(r.results.suppressionCounts).toEqual([{ what: 'orphan_event', rule_id: 'by-name', n: 1 }]);
  });

  it.each<[string, Record<string, string>, string | null]>([
    ['SYSTEM', { user_uid: 'S-1-5-18', user_name: 'SYSTEM' }, 'system-accounts'],
    ['ANONYMOUS LOGON', { user_uid: 'S-1-5-7', user_name: 'ANONYMOUS LOGON' }, 'system-accounts'],
    ['a machine account', { user_uid: 'S-1-5-21-1-2-3-1105', user_name: 'WS01$' }, 'machine-accounts'],
    ['a Desktop Window Manager session', { user_uid: 'S-1-5-90-0-1', user_name: 'DWM-1' }, 'window-manager'],
    ['a font driver host session', { user_uid: 'S-1-5-96-0-1', user_name: 'UMFD-1' }, 'window-manager'],
    ['a person', { user_uid: 'S-1-5-21-1-2-3-1001', user_name: 'alice' }, null],
    ['a name with a $ inside', { user_uid: 'S-1-5-21-1-2-3-1002', user_name: 'a$b' }, null],
  ])('the built-in rules: %s', async (_n, who, ruleId) => {
    const r = await reconstruct(
      engine,
      [win('4624', T0, { ...who, is_elevated: true })],
      planOf({ config, activeRules: BUILTIN_RULES }),
    );
    expect(r.halves.map((h) => h.suppressed_by)).toEqual([ruleId]);
  });
});
