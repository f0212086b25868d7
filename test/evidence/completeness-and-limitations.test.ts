/**
 * Every completeness verdict, missing reason, orphan reason and limitation sentence that
 * `assemblePack` produces, from hand-written normalised events run through the real reconstruction
 * builders on DuckDB: the rows `assemblePack` reads are those the engine gives, not made-up rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, DEFAULT_CONFIG, parseConfig } from '../../lib/config/config.ts';
import type { EvidencePack, Session } from '../../lib/evidence/model.ts';
import { validateEvidence } from '../../lib/evidence/schema.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { SourceTraits } from '../../lib/query/session-events.ts';
import {
  type EventRow,
  notEvent,
  packOf,
  planOf,
  reconstruct,
  T0,
  TO_MS,
  WINDOWS_TRAITS,
  win,
} from '../query/rules/event-table.ts';

let engine: DuckDbEngine;
beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 1 });
});
afterAll(async () => {
  await engine.close();
});

const NO_SUPPRESSION: Config = { ...DEFAULT_CONFIG, suppress: [] };
const CLOUD: SourceTraits = { privilegeEvents: false, logoffEvents: false };

async function packFrom(
  rows: readonly EventRow[],
  o: {
    traits?: SourceTraits;
    config?: Config;
    expiredRules?: string[];
    fileProblems?: { source: string; key: string; reason: string }[];
  } = {},
): Promise<EvidencePack> {
  const config = o.config ?? NO_SUPPRESSION;
  const r = await reconstruct(engine, rows, planOf({ config }));
  const pack = packOf(r, { ...o, config });
  // Every pack built here is a valid evidence.json: the rules never produce what the schema refuses.
  const valid = validateEvidence(pack);
  expect(valid.ok ? [] : valid.errors).toEqual([]);
  return pack;
}
const onlySession = (pack: EvidencePack): Session => {
  expect(pack.sessions).toHaveLength(1);
  return pack.sessions[0] as Session;
};

// An admin's session: a 4624 with its 4672 (privileged by SeDebugPrivilege).
const logon = (over: EventRow = {}) => win('4624', T0, over);
const priv = (over: EventRow = {}) => win('4672', T0, { privileges: 'SeDebugPrivilege', ...over });
/** A 1102 with no subject logon id (as the newer flat export writes it): no activity of any session. */
const CLEAR: EventRow = { session_uid: null, user_uid: null, user_name: null, user_domain: null };
/** An unprivileged session on the same host that logs off: the host audits logoffs. */
const otherLogoff = () => [
  win('4624', T0 - 60_000, { session_uid: '0x99', user_name: 'bob' }),
  win('4634', T0 - 50_000, { session_uid: '0x99', user_name: 'bob' }),
];

describe('completeness of a Windows session (logons, 4672 and logoffs logged)', () => {
  it.each<[string, () => EventRow[], object]>([
    [
      'logon, 4672 and logoff: complete',
      () => [logon(), priv(), win('4634', T0 + 1_000)],
      { privilege_assignment: 'observed', logoff: 'observed', verdict: 'complete', reasons: [] },
    ],
    [
      'a user-initiated logoff (4647): complete',
      () => [logon(), priv(), win('4647', T0 + 1_000)],
      { privilege_assignment: 'observed', logoff: 'observed', verdict: 'complete', reasons: [] },
    ],
    [
      'privileged by an elevated token without its 4672: no_privilege_event',
      () => [logon({ is_elevated: true }), win('4634', T0 + 1_000)],
      {
        privilege_assignment: 'missing',
        logoff: 'observed',
        verdict: 'incomplete',
        reasons: ['no_privilege_event'],
      },
    ],
    [
      'privileged by the account list without a 4672: no_privilege_event',
      () => [logon({ user_uid: 'S-1-5-21-1-2-3-500' }), win('4634', T0 + 1_000)],
      {
        privilege_assignment: 'missing',
        logoff: 'observed',
        verdict: 'incomplete',
        reasons: ['no_privilege_event'],
      },
    ],
    [
      'no logoff on a host that logs logoffs: open_at_window_end',
      () => [logon(), priv(), ...otherLogoff()],
      {
        privilege_assignment: 'observed',
        logoff: 'missing',
        verdict: 'incomplete',
        reasons: ['open_at_window_end'],
      },
    ],
    [
      'no logoff on a host that logs none: logoff_not_audited',
      () => [logon(), priv()],
      {
        privilege_assignment: 'observed',
        logoff: 'missing',
        verdict: 'incomplete',
        reasons: ['logoff_not_audited'],
      },
    ],
    [
      'a 4609 shutdown: shutdown',
      () => [logon(), priv(), win('4609', T0 + 1_000)],
      { logoff: 'missing', verdict: 'incomplete', reasons: ['shutdown'] },
    ],
    [
      'a 1100 then the next boot: shutdown',
      () => [logon(), priv(), win('1100', T0 + 1_000), win('4608', T0 + 2_000)],
      { logoff: 'missing', verdict: 'incomplete', reasons: ['shutdown'] },
    ],
    [
      'the next boot: reboot',
      () => [logon(), priv(), win('4608', T0 + 1_000)],
      { logoff: 'missing', verdict: 'incomplete', reasons: ['reboot'] },
    ],
    [
      'its logon id reused: reboot',
      () => [logon(), priv(), win('4624', T0 + 10_000, { user_name: 'bob' })],
      { logoff: 'missing', verdict: 'incomplete', reasons: ['reboot'] },
    ],
    [
      'the log cleared while it was open: log_cleared',
      () => [logon(), priv(), win('1102', T0 + 1_000, CLEAR)],
      { logoff: 'missing', verdict: 'incomplete', reasons: ['log_cleared', 'logoff_not_audited'] },
    ],
    [
      'the log cleared after its shutdown: not log_cleared',
      () => [logon(), priv(), win('4609', T0 + 1_000), win('1102', T0 + 2_000, CLEAR)],
      { logoff: 'missing', verdict: 'incomplete', reasons: ['shutdown'] },
    ],
    [
      'the log cleared after its logoff: complete',
      () => [logon(), priv(), win('4634', T0 + 1_000), win('1102', T0 + 2_000, CLEAR)],
      { logoff: 'observed', verdict: 'complete', reasons: [] },
    ],
    [
      'a UAC pair whose filtered half did not log off: incomplete',
      () => [
        logon({ session_uid: '0x10', linked_session_uid: '0x11', is_elevated: true }),
        priv({ session_uid: '0x10' }),
        win('4624', T0 + 1, { session_uid: '0x11', linked_session_uid: '0x10', is_elevated: false }),
        win('4634', T0 + 1_000, { session_uid: '0x10' }),
      ],
      {
        privilege_assignment: 'observed',
        logoff: 'missing',
        verdict: 'incomplete',
        reasons: ['open_at_window_end'],
      },
    ],
    [
      'a UAC pair, both halves logged off: complete',
      () => [
        logon({ session_uid: '0x10', linked_session_uid: '0x11', is_elevated: true }),
        priv({ session_uid: '0x10' }),
        win('4624', T0 + 1, { session_uid: '0x11', linked_session_uid: '0x10', is_elevated: false }),
        win('4634', T0 + 1_000, { session_uid: '0x10' }),
        win('4634', T0 + 2_000, { session_uid: '0x11' }),
      ],
      { privilege_assignment: 'observed', logoff: 'observed', verdict: 'complete', reasons: [] },
    ],
  ])('%s', async (_n, rows, expected) => {
    const s = onlySession(await packFrom(rows()));
    expect(s.completeness).toMatchObject({ logon: 'observed', ...expected });
  });
});

describe('completeness where the source logs no logoff (CloudTrail, OCSF)', () => {
  const cloud = (over: EventRow = {}) =>
    win('4624', T0, {
      source: 'cloudtrail',
      user_uid: 'arn:aws:iam::111122223333:root',
      end_hint_ms: T0 + 3_600_000,
      end_hint: 'credentials_expired',
      ...over,
    });
  it.each<[string, SourceTraits, EventRow, object]>([
    [
      'no privilege events either: complete, nothing expected',
      CLOUD,
      {},
      { privilege_assignment: 'not_expected', logoff: 'not_expected', verdict: 'complete', reasons: [] },
    ],
    [
      'an end hint beyond the window: still complete (the end is not a logged logoff)',
      CLOUD,
      { end_hint_ms: TO_MS + 1 },
      { privilege_assignment: 'not_expected', logoff: 'not_expected', verdict: 'complete', reasons: [] },
    ],
    [
      'privilege events logged but missing: incomplete',
      { privilegeEvents: true, logoffEvents: false },
      {},
      {
        privilege_assignment: 'missing',
        logoff: 'not_expected',
        verdict: 'incomplete',
        reasons: ['no_privilege_event'],
      },
    ],
  ])('%s', async (_n, traits, over, expected) => {
    const s = onlySession(await packFrom([cloud(over)], { traits }));
    expect(s.completeness).toMatchObject(expected);
  });

  it('takes the end reason and end from the source end hint', async () => {
    const s = onlySession(await packFrom([cloud()], { traits: CLOUD }));
    expect([s.end_reason, s.end]).toEqual(['credentials_expired', new Date(T0 + 3_600_000).toISOString()]);
  });
});

describe('why activity has no session (orphan groups)', () => {
  const proc = (over: EventRow = {}) => win('4688', T0, { session_uid: '0x7', ...over });
  it.each<[string, () => EventRow[], SourceTraits, string]>([
    [
      'a host with logons in the data: began_before_data',
      () => [proc(), ...otherLogoff()],
      WINDOWS_TRAITS,
      'began_before_data',
    ],
    [
      'a host without logons in the data: logon_not_in_data',
      () => [proc()],
      WINDOWS_TRAITS,
      'logon_not_in_data',
    ],
    [
      'the log cleared before the activity: log_cleared',
      () => [win('1102', T0 - 1, CLEAR), proc(), ...otherLogoff()],
      WINDOWS_TRAITS,
      'log_cleared',
    ],
    [
      'the log cleared at the same millisecond: log_cleared',
      () => [win('1102', T0, CLEAR), proc()],
      WINDOWS_TRAITS,
      'log_cleared',
    ],
    [
      'the log cleared after the activity began: not log_cleared',
      () => [proc(), win('1102', T0 + 1, CLEAR)],
      WINDOWS_TRAITS,
      'logon_not_in_data',
    ],
    [
      'a session id the source marks as no login session: no_login_session',
      () => [proc({ session_uid: 'unset', source: 'linux_auditd' })],
      { privilegeEvents: false, logoffEvents: true, orphanMarkers: ['unset'] },
      'no_login_session',
    ],
  ])('%s', async (_n, rows, traits, reason) => {
    const pack = await packFrom(rows(), { traits });
    expect(pack.orphan_activity.map((g) => g.likely_reason)).toEqual([reason]);
  });
});

describe('the limitations the pack states', () => {
  const ALWAYS = [
    'Sessions are rebuilt only from the events of the sources read (windows); activity that these logs do not record (for example processes when process auditing is off) is not shown.',
    'Privilege is decided from the logs (special privileges, elevated tokens) and the configured account list; group membership from a directory is not consulted.',
    // The default lookback is 24 hours (DEFAULT_CONFIG.lookback_hours).
    'Sessions that began more than 24 hours before the window start have no logon in the data read; their activity in the window is shown as orphan activity.',
  ];
  const audited = () => [logon(), priv(), win('4634', T0 + 1_000)];

  it('says only what always holds for a plain pack', async () => {
    expect((await packFrom(audited())).limitations).toEqual(ALWAYS);
  });

  it('says that an empty read shows nothing either way', async () => {
    expect((await packFrom([])).limitations).toEqual([
      'No log files were found for the window: this pack shows no evidence either way.',
      ...ALWAYS,
    ]);
  });

  it('follows the configured lookback', async () => {
    const config = parseConfig({ builtin_rules: false, lookback_hours: 72 });
    const pack = await packFrom(audited(), { config });
    expect(pack.limitations[2]).toBe(
      'Sessions that began more than 72 hours before the window start have no logon in the data read; their activity in the window is shown as orphan activity.',
    );
  });

  it.each<[string, () => EventRow[], Parameters<typeof packFrom>[1], string[]]>([
    [
      'orphan activity, counted',
      () => [
        ...audited(),
        win('4688', T0, { session_uid: '0x7' }),
        win('4688', T0 + 1, { session_uid: '0x8' }),
      ],
      {},
      [
        '2 activity events in the window could not be tied to a logon in the data; they are listed as orphan activity.',
      ],
    ],
    [
      "records timed by the collector's receipt time",
      () => [
        ...audited(),
        win('4688', T0 + 10, {
          time_field: '@timestamp (collector receipt time, UTC; EventTime has no zone)',
        }),
      ],
      {},
      [
        // no record carries its local EventTime here: the lag is said to be unmeasured, never guessed
        "1 windows logons and activity events of this pack carry only the collector's receipt time (@timestamp, UTC), which comes after the event; their local EventTime has no zone and was not used as their time. How late the receipt came could not be measured in this data.",
      ],
    ],
    [
      'hosts that log no logoff',
      () => [...audited(), win('4624', T0, { host: 'WS03' }), win('4624', T0, { host: 'WS02' })],
      {},
      [
        'No logoff events were logged by WS02, WS03: session ends there are unknown (logoff auditing may be off).',
      ],
    ],
    [
      'each log clear',
      () => [...audited(), win('1102', T0 + 5_000, CLEAR)],
      {},
      [
        `The Security log of WS01 was cleared at ${new Date(T0 + 5_000).toISOString()}: events written before then may be missing.`,
      ],
    ],
    [
      'records and files that could not be read, counted together',
      () => [...audited(), notEvent('rejected', 'malformed_json'), notEvent('rejected', 'no_time')],
      { fileProblems: [{ source: 'windows', key: 'broken.json.gz', reason: 'unreadable_file' }] },
      ['3 records or files could not be read or mapped; they are counted by reason in the coverage section.'],
    ],
    [
      'configured suppression rules',
      audited,
      { config: parseConfig({}) },
      ['Sessions and activity of accounts matched by suppression rules are counted per rule, not shown.'],
    ],
    [
      'expired suppression rules, by id',
      audited,
      { config: parseConfig({}), expiredRules: ['old-rule', 'older-rule'] },
      [
        'Sessions and activity of accounts matched by suppression rules are counted per rule, not shown.',
        'Suppression rules old-rule, older-rule expired before the window end and were not applied.',
      ],
    ],
  ])('adds a sentence for %s', async (_n, rows, o, extra) => {
    const pack = await packFrom(rows(), o);
    expect(pack.limitations).toEqual([...ALWAYS, ...extra]);
  });

  it('skipped records are counted in coverage but are no limitation', async () => {
    const pack = await packFrom([...audited(), notEvent('skipped', 'other_event_id')]);
    expect(pack.limitations).toEqual(ALWAYS);
    expect(pack.coverage.skipped).toEqual([
      { source: 'windows', reason: 'other_event_id', count: 1, examples: [expect.any(String)] },
    ]);
  });
});

describe('coverage examples: at most five references per reason', () => {
  it.each<[number, number]>([
    [4, 4],
    [5, 5],
    [6, 5],
  ])('%i rejected records give %i examples, and are all counted', async (n, shown) => {
    const rejected = Array.from({ length: n }, () => notEvent('rejected', 'malformed_json'));
    const pack = await packFrom(rejected);
    expect(pack.coverage.rejected.map((r) => [r.count, r.examples.length])).toEqual([[n, shown]]);
  });

  it.each<[number, number]>([
    [5, 5],
    [6, 5],
  ])('%i unreadable files give %i examples, and are all counted', async (n, shown) => {
    const fileProblems = Array.from({ length: n }, (_, i) => ({
      source: 'windows',
      key: `f${i}.json.gz`,
      reason: 'unreadable_file',
    }));
    const pack = await packFrom([], { fileProblems });
    expect(pack.coverage.rejected.map((r) => [r.count, r.examples.length])).toEqual([[n, shown]]);
  });
});
