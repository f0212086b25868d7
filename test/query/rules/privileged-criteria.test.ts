/**
 * The privileged-session decisions of `lib/config/config.ts` as the reconstruction applies them:
 * special privileges, elevated tokens, the privileged-account list (SIDs, names, globs, logon
 * types), privileged actions, and the default lists (admin privileges, the built-in Administrator
 * RID 500, AWS root and AdministratorAccess, IAM writes). Each row is one session of hand-written
 * events, run through the real builders on DuckDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PRIVILEGES,
  type Config,
  DEFAULT_CONFIG,
  type MatchSpec,
  parseConfig,
} from '../../../lib/config/config.ts';
import { DuckDbEngine } from '../../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../../lib/query/query-engine.ts';
import { type EventRow, planOf, reconstruct, T0, win } from './event-table.ts';

let engine: DuckDbEngine;
beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 1 });
});
afterAll(async () => {
  await engine.close();
});

const NO_SUPPRESSION: Config = { ...DEFAULT_CONFIG, suppress: [] };
const withAccounts = (accounts: MatchSpec): Config => ({
  ...NO_SUPPRESSION,
  privileged: { ...NO_SUPPRESSION.privileged, accounts },
});

async function judge(rows: readonly EventRow[], config: Config = NO_SUPPRESSION): Promise<Row> {
  const r = await reconstruct(engine, rows, planOf({ config, includeUnprivileged: true }));
  expect(r.halves).toHaveLength(1);
  return r.halves[0] as Row;
}
const because = (h: Row) =>
  (['priv_by_privilege', 'priv_by_elevation', 'priv_by_account', 'priv_by_action'] as const).filter(
    (k) => h[k] === true,
  );

describe('special privileges (4672 PrivilegeList)', () => {
  it('lists the nine admin-equivalent privileges of the domain notes (§1.5) by default', () => {
    expect([...ADMIN_PRIVILEGES].sort()).toEqual([
      'SeBackupPrivilege',
      'SeDebugPrivilege',
      'SeEnableDelegationPrivilege',
      'SeImpersonatePrivilege',
      'SeLoadDriverPrivilege',
      'SeRestorePrivilege',
      'SeSecurityPrivilege',
      'SeTakeOwnershipPrivilege',
      'SeTcbPrivilege',
    ]);
    expect(parseConfig({}).privileged.privileges).toEqual(ADMIN_PRIVILEGES);
  });

  it.each<[string, string, boolean]>([
    ['one admin privilege', 'SeDebugPrivilege', true],
    ['an admin privilege among others', 'SeChangeNotifyPrivilege SeBackupPrivilege SeAuditPrivilege', true],
    ['only ordinary privileges', 'SeChangeNotifyPrivilege SeAuditPrivilege', false],
    ['a longer name that contains an admin privilege', 'SeDebugPrivilegeX', false],
    ['a name that an admin privilege ends with', 'XSeDebugPrivilege', false],
  ])('%s', async (_n, privileges, privileged) => {
    const h = await judge([win('4624', T0), win('4672', T0 + 1, { privileges })]);
    expect(because(h)).toEqual(privileged ? ['priv_by_privilege'] : []);
    expect(h.privileged).toBe(privileged);
  });

  // Skipped: parseConfig moved to zod on main minutes before the deadline; to re-check against it.
  it('follows a configured list instead of the default when builtin_privileged is false', async () => {
    const config = parseConfig({
      builtin_rules: false,
      builtin_privileged: false,
      privileged: { privileges: ['SeAuditPrivilege'] },
    });
    const rows = [win('4624', T0), win('4672', T0 + 1, { privileges: 'SeAuditPrivilege' })];
    expect(because(await judge(rows, config))).toEqual(['priv_by_privilege']);
    const admin = [win('4624', T0), win('4672', T0 + 1, { privileges: 'SeDebugPrivilege' })];
    expect(because(await judge(admin, config))).toEqual([]);
  });
});

describe('elevated tokens', () => {
  it.each<[string, EventRow[], boolean]>([
    ['an elevated logon (ElevatedToken %%1842)', [win('4624', T0, { is_elevated: true })], true],
    ['a logon that is not elevated (%%1843)', [win('4624', T0, { is_elevated: false })], false],
    ['a logon that does not say', [win('4624', T0)], false],
    [
      'a process run as administrator in it',
      [win('4624', T0), win('4688', T0 + 1, { is_elevated: true })],
      true,
    ],
    ['a limited process in it', [win('4624', T0), win('4688', T0 + 1, { is_elevated: false })], false],
    [
      'an elevating privilege event in it (sudo)',
      [win('4624', T0), win('4672', T0 + 1, { is_elevated: true })],
      true,
    ],
  ])('%s', async (_n, rows, privileged) => {
    const h = await judge(rows);
    expect(because(h)).toEqual(privileged ? ['priv_by_elevation'] : []);
  });
});

describe('privileged accounts', () => {
  const logonAs = (over: EventRow, type = 2) => [win('4624', T0, { logon_type_id: type, ...over })];
  it.each<[string, MatchSpec, EventRow, boolean]>([
    [
      'the built-in Administrator (RID 500) by default',
      DEFAULT_CONFIG.privileged.accounts,
      { user_uid: 'S-1-5-21-1-2-3-500' },
      true,
    ],
    [
      'RID 5000 is not RID 500',
      DEFAULT_CONFIG.privileged.accounts,
      { user_uid: 'S-1-5-21-1-2-3-5000' },
      false,
    ],
    [
      'RID 1500 is not RID 500',
      DEFAULT_CONFIG.privileged.accounts,
      { user_uid: 'S-1-5-21-1-2-3-1500' },
      false,
    ],
    [
      'a local SID of RID 500 outside a domain',
      DEFAULT_CONFIG.privileged.accounts,
      { user_uid: 'S-1-5-32-500' },
      false,
    ],
    [
      'the AWS root user by default',
      DEFAULT_CONFIG.privileged.accounts,
      { user_uid: 'arn:aws:iam::111122223333:root' },
      true,
    ],
    [
      'an Identity Center AdministratorAccess session by default',
      DEFAULT_CONFIG.privileged.accounts,
      {
        user_uid: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123abcd/alice',
      },
      true,
    ],
    [
      'an Identity Center ReadOnly session',
      DEFAULT_CONFIG.privileged.accounts,
      { user_uid: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnlyAccess_0123abcd/alice' },
      false,
    ],
    ['a listed SID, in another case', { sids: ['s-1-5-21-1-2-3-1001'] }, {}, true],
    ['a listed name', { names: ['ALICE'] }, {}, true],
    ['a listed DOMAIN\\name', { names: ['corp\\alice'] }, {}, true],
    ['a listed DOMAIN\\name of another domain', { names: ['OTHER\\alice'] }, {}, false],
    ['a name glob', { name_patterns: ['adm-*'] }, { user_name: 'ADM-alice' }, true],
    [
      'a name glob that must match the whole name',
      { name_patterns: ['adm-*'] },
      { user_name: 'x-adm-alice' },
      false,
    ],
    ['a name and a logon type, both matching', { names: ['alice'], logon_types: [2, 10] }, {}, true],
    ['a name and a logon type, the type not matching', { names: ['alice'], logon_types: [10] }, {}, false],
    ['an empty list', {}, {}, false],
  ])('%s', async (_n, accounts, over, privileged) => {
    const h = await judge(logonAs(over), withAccounts(accounts));
    expect(because(h)).toEqual(privileged ? ['priv_by_account'] : []);
  });
});

describe('privileged actions (globs over source:event_code)', () => {
  const ct = (code: string) => ({
    source: 'cloudtrail',
    event_code: code,
    record_uid: `ct|${code}`,
    session_uid: 'ASIAEXAMPLE',
    user_uid: 'arn:aws:sts::111122223333:assumed-role/dev/alice',
  });
  it.each<[string, string, boolean]>([
    ['an IAM create (default list)', 'iam.amazonaws.com:CreateUser', true],
    ['an IAM put, any case', 'iam.amazonaws.com:PUTUSERPOLICY', true],
    ['an IAM read', 'iam.amazonaws.com:ListUsers', false],
    ['StopLogging on CloudTrail', 'cloudtrail.amazonaws.com:StopLogging', true],
    ['LookupEvents on CloudTrail', 'cloudtrail.amazonaws.com:LookupEvents', false],
    ['a KMS key deletion schedule', 'kms.amazonaws.com:ScheduleKeyDeletion', true],
    ['a KMS decrypt', 'kms.amazonaws.com:Decrypt', false],
    ['GetFederationToken', 'sts.amazonaws.com:GetFederationToken', true],
    ['AssumeRole', 'sts.amazonaws.com:AssumeRole', false],
  ])('%s', async (_n, code, privileged) => {
    const logon = win('4624', T0, { ...ct('logon'), event_code: 'sts.amazonaws.com:AssumeRole' });
    const call = win('4688', T0 + 1, { ...ct(code), kind: 'activity' });
    const h = await judge([logon, call]);
    expect(because(h)).toEqual(privileged ? ['priv_by_action'] : []);
  });

  it('does not apply a cloudtrail: glob to another source', async () => {
    const rows = [win('4624', T0), win('4688', T0 + 1, { event_code: 'iam.amazonaws.com:CreateUser' })];
    expect(because(await judge(rows))).toEqual([]);
  });

  it('a failed privileged call still counts (the attempt is the evidence)', async () => {
    const logon = win('4624', T0, { ...ct('x'), event_code: 'sts.amazonaws.com:AssumeRole' });
    const call = win('4688', T0 + 1, { ...ct('iam.amazonaws.com:AttachUserPolicy'), target: 'AccessDenied' });
    expect(because(await judge([logon, call]))).toEqual(['priv_by_action']);
  });

  // Skipped: parseConfig moved to zod on main minutes before the deadline; to re-check against it.
  it('takes no action as privileged when the configured list is empty and the built-in one is off', async () => {
    const config = parseConfig({
      builtin_rules: false,
      builtin_privileged: false,
      privileged: { actions: [] },
    });
    const logon = win('4624', T0, { ...ct('x'), event_code: 'sts.amazonaws.com:AssumeRole' });
    const call = win('4688', T0 + 1, ct('iam.amazonaws.com:CreateUser'));
    expect(because(await judge([logon, call], config))).toEqual([]);
  });
});

describe('scope: which sessions are candidates for the pack', () => {
  it.each<[string, EventRow, boolean, boolean]>([
    ['a privileged session in a review', { is_elevated: true }, false, true],
    ['an unprivileged session in a review', {}, false, false],
    ['an unprivileged session in an incident (include_unprivileged)', {}, true, true],
  ])('%s', async (_n, over, includeUnprivileged, inPack) => {
    const r = await reconstruct(
      engine,
      [win('4624', T0, over)],
      planOf({ config: NO_SUPPRESSION, includeUnprivileged }),
    );
    expect(r.halves.map((h) => h.in_pack)).toEqual([inPack]);
  });

  it.each<[string, string, boolean]>([
    ['by name in another case', 'ALICE', true],
    ['by DOMAIN\\name', 'corp\\alice', true],
    ['by SID', 's-1-5-21-1-2-3-1001', true],
    ['another user', 'bob', false],
  ])('a requested user %s: in the pack %s', async (_n, user, inPack) => {
    const r = await reconstruct(
      engine,
      [win('4624', T0, { is_elevated: true })],
      planOf({ config: NO_SUPPRESSION, users: [user] }),
    );
    expect(r.halves.map((h) => h.in_pack)).toEqual([inPack]);
  });
});

describe('configuring the criteria (parseConfig)', () => {
  it('takes every default for a file that names none', () => {
    const config = parseConfig({});
    expect(config.privileged).toEqual(DEFAULT_CONFIG.privileged);
    expect(config.privileged.accounts.sid_patterns).toEqual([
      'S-1-5-21-*-500',
      'arn:aws:iam::*:root',
      '*:assumed-role/AWSReservedSSO_AdministratorAccess_*',
    ]);
  });

  // Skipped: parseConfig moved to zod on main minutes before the deadline; to re-check against it.
  it("adds a file's criteria to the built-in ones, keeping every built-in key", () => {
    const config = parseConfig({ privileged: { accounts: { names: ['CORP\\admin'] } } });
    expect(config.privileged).toEqual({
      ...DEFAULT_CONFIG.privileged,
      accounts: { ...DEFAULT_CONFIG.privileged.accounts, names: ['CORP\\admin'] },
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['a privilege that is not a privilege name', { privileges: ['Debug'] }, /privileged\.privileges/],
    ['a privilege given as a number', { privileges: [7] }, /privileged\.privileges/],
    ['an unknown key', { groups: ['Domain Admins'] }, /unknown key privileged\.groups/],
    ['a logon type beyond 13', { accounts: { logon_types: [14] } }, /logon_types/],
    ['an empty account name', { accounts: { names: [' '] } }, /privileged\.accounts\.names/],
    ['actions that are not a list', { actions: 'iam:*' }, /privileged\.actions/],
  ])('refuses %s', (_n, privileged, message) => {
    expect(() => parseConfig({ privileged })).toThrow(message);
  });
});
