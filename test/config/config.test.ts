import { describe, expect, it } from 'vitest';
import {
  ADMIN_PRIVILEGES,
  AWS_PRIVILEGED_ACTIONS,
  AWS_PRIVILEGED_PRINCIPALS,
  BUILTIN_RULES,
  DEFAULT_CONFIG,
  parseConfig,
} from '../../lib/config/config.ts';
import { isSessiontrailError } from '../../lib/errors.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

/** The `privileged` block of the README's configuration example. */
const README_PRIVILEGED = {
  privileges: ['SeDebugPrivilege', 'SeBackupPrivilege'],
  accounts: {
    sids: ['S-1-5-21-1-2-3-1105'],
    names: ['CORP\\adm.alice'],
    sid_patterns: ['S-1-5-21-*-500'],
  },
};

function codeOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (err) {
    if (isSessiontrailError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a SessiontrailError');
}

describe('parseConfig', () => {
  it('adds a file’s privileged accounts to the built-in ones instead of replacing them', () => {
    const c = parseConfig({ privileged: README_PRIVILEGED });
    // the AWS root and SSO administrator patterns stay, as built-in suppression rules do
    for (const p of AWS_PRIVILEGED_PRINCIPALS) expect(c.privileged.accounts.sid_patterns).toContain(p);
    expect(c.privileged.accounts.sid_patterns).toEqual([
      ...(DEFAULT_CONFIG.privileged.accounts.sid_patterns ?? []),
    ]);
    expect(c.privileged.accounts.sids).toEqual(['S-1-5-21-1-2-3-1105']);
    expect(c.privileged.accounts.names).toEqual(['CORP\\adm.alice']);
    expect(c.privileged.privileges).toEqual(ADMIN_PRIVILEGES);
    expect(c.privileged.actions).toEqual(AWS_PRIVILEGED_ACTIONS);
  });

  it('keeps only the file’s criteria when builtin_privileged is false', () => {
    const c = parseConfig({ privileged: README_PRIVILEGED, builtin_privileged: false });
    expect(c.privileged).toEqual({ ...README_PRIVILEGED, actions: [] });
  });

  it('keeps the built-in suppression rules before the file’s, unless builtin_rules is false', () => {
    const rule = { id: 'svc', description: 'svc', match: { names: ['CORP\\svc'] } };
    expect(parseConfig({ suppress: [rule] }).suppress.map((r) => r.id)).toEqual([
      ...BUILTIN_RULES.map((r) => r.id),
      'svc',
    ]);
    expect(parseConfig({ suppress: [rule], builtin_rules: false }).suppress.map((r) => r.id)).toEqual([
      'svc',
    ]);
  });

  it.each([
    ['a top-level typo', { privilegd: {} }, /unknown key privilegd/],
    ['a nested typo', { privileged: { account: {} } }, /unknown key privileged\.account\b/],
    [
      'a typo in a rule match',
      { suppress: [{ id: 'a', description: 'a', match: { name: ['x'] } }] },
      /unknown key suppress\[0\]\.match\.name/,
    ],
    [
      'a bad privilege name',
      { privileged: { privileges: ['Debug'] } },
      /privileged\.privileges\[0\] holds names like SeDebugPrivilege, received "Debug"/,
    ],
    [
      'an empty rule match',
      { suppress: [{ id: 'a', description: 'a', match: {} }] },
      /suppress\[0\]\.match must name at least one criterion/,
    ],
    ['a bad look-back', { lookback_hours: 1000 }, /lookback_hours/],
    [
      'an unknown zone',
      { linux: { syslog_timezone: 'Mars/Olympus' } },
      /linux\.syslog_timezone must be an IANA time zone/,
    ],
    [
      'a duplicate rule id',
      { suppress: [{ id: 'system-accounts', description: 'x', match: { sids: ['S-1-5-18'] } }] },
      /ids must be unique/,
    ],
    [
      'a person twice',
      {
        identities: [
          { person: 'a', accounts: [{ sids: ['S-1'] }] },
          { person: 'a', accounts: [{ sids: ['S-2'] }] },
        ],
      },
      /each person once/,
    ],
  ])('refuses %s with BAD_CONFIG naming it', (_what, input, message) => {
    const { code, message: text } = codeOf(() => parseConfig(input, 'my.json'));
    expect(code).toBe('BAD_CONFIG');
    expect(text).toMatch(/^my\.json: /);
    expect(text).toMatch(message);
  });
});

describe('the effective privileged criteria in evidence.json', () => {
  it('lists the built-in and the configured criteria merged', async () => {
    const config = parseConfig({ privileged: README_PRIVILEGED });
    const { result } = await localExport(
      dataset(
        'windows',
        'evtx-to-mitre-attack',
        'jsonl',
        'TA0008-Lateral Movement',
        'T1550-Use Alternate Authentication Material',
        'ID4624-Mimikatz Pass the hash.jsonl',
      ),
      { kind: 'review', sources: ['windows'], from: '2021-10-20', to: '2021-10-21' },
      { config, keyPath: await makeKey() },
    );
    expect(result.pack.privileged_criteria).toEqual({
      privileges: config.privileged.privileges,
      accounts: {
        sids: ['S-1-5-21-1-2-3-1105'],
        sid_patterns: DEFAULT_CONFIG.privileged.accounts.sid_patterns,
        names: ['CORP\\adm.alice'],
        name_patterns: [],
        logon_types: [],
      },
      actions: AWS_PRIVILEGED_ACTIONS,
    });
  });
});
