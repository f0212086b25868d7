import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, PROFILE_DEFAULTS, parseSettings, SETTING_DEFAULTS } from '../../infra/settings.ts';

describe('infra settings', () => {
  it('defaults to the dev profile and the documented values', () => {
    expect(parseSettings({ logsBucket: 'corp-security-logs' })).toEqual({
      name: 'sessiontrail',
      profile: 'dev',
      logsBucket: 'corp-security-logs',
      logsPrefix: 'logs',
      logsKmsKeyArn: undefined,
      evidencePrefix: 'packs',
      ...PROFILE_DEFAULTS.dev,
      resultsExpiryDays: 7,
      reviewCron: 'cron(0 6 1 * ? *)',
      reviewDeadlineCron: 'cron(0 6 2 * ? *)',
      scheduleTimeZone: 'UTC',
      flexibleWindowMinutes: 60,
      configFile: undefined,
      alarmTopicArn: undefined,
      auditorPrincipalArn: undefined,
      reservedConcurrency: 2,
      packDeadlineMinutes: 360,
      // Ten statements at dev's per-query cutoff (100 GiB).
      maxBytesScannedPerPack: 10 * 100 * 1024 ** 3,
    });
  });

  it('takes prod defaults and lets -c values (strings) override them', () => {
    const s = parseSettings({
      logsBucket: 'b-1.logs',
      profile: 'prod',
      retentionDays: '3650',
      logsPrefix: '/sec/win/',
    });
    expect(s).toMatchObject({
      retentionMode: 'COMPLIANCE',
      retentionDays: 3650,
      logsPrefix: 'sec/win',
      logRetentionDays: 365,
    });
  });

  it.each([
    [{}, 'context logsBucket: expected the name of the bucket'],
    [{ logsBucket: 'Bad_Bucket' }, 'context logsBucket: expected an S3 bucket name'],
    [{ logsBucket: 'b12', profile: 'staging' }, 'context profile: expected dev or prod'],
    [{ logsBucket: 'b12', retentionMode: 'LEGAL' }, 'context retentionMode'],
    [{ logsBucket: 'b12', scanCutoffBytes: 1000 }, 'context scanCutoffBytes'],
    [{ logsBucket: 'b12', logRetentionDays: 42 }, "one of CloudWatch's periods"],
    [{ logsBucket: 'b12', scheduleTimeZone: 'Mars/Base' }, 'context scheduleTimeZone'],
    [{ logsBucket: 'b12', auditorPrincipalArn: 'arn:aws:iam::1:role/x' }, 'context auditorPrincipalArn'],
    [{ logsBucket: 'b12', reservedConcurrency: -1 }, 'context reservedConcurrency'],
    [{ logsBucket: 'b12', name: 'a-name-that-is-far-too-long' }, 'context name'],
    [
      { logsBucket: 'b12', logAccounts: '1234,5678' },
      'context logAccounts: expected 12-digit AWS account ids',
    ],
    [
      { logsBucket: 'b12', securityLakeTable: 'db.my_table' },
      'context securityLakeVersion: expected 1 or 2 (the name of db.my_table does not say)',
    ],
  ])('refuses %j naming the key', (context, message) => {
    expect(() => parseSettings(context)).toThrow(message);
  });

  it('names every bad key at once', () => {
    expect(() => parseSettings({ logsBucket: 'Bad_Bucket', profile: 'staging' })).toThrow(
      'context profile: expected dev or prod, received "staging"; context logsBucket: expected an S3 bucket name, received "Bad_Bucket"',
    );
  });

  it('reads lists comma-separated (-c) or as JSON lists (cdk.json), de-duplicated', () => {
    expect(
      parseSettings({ logsBucket: 'b12', logAccounts: '111122223333, 444455556666,111122223333' })
        .logAccounts,
    ).toEqual(['111122223333', '444455556666']);
    expect(parseSettings({ logsBucket: 'b12', logRegions: ['eu-west-1'] }).logRegions).toEqual(['eu-west-1']);
  });

  describe('the defaults have one table', () => {
    const readme = readFileSync(new URL('../../infra/README.md', import.meta.url), 'utf8');
    const rows = new Map(
      [...readme.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)].map((m) => [
        m[1] as string,
        (m[2] as string).trim(),
      ]),
    );

    it('infra/README.md documents every context key', () => {
      expect([...rows.keys()].filter((k) => (CONTEXT_KEYS as readonly string[]).includes(k)).sort()).toEqual(
        [...CONTEXT_KEYS].sort(),
      );
    });

    it.each(Object.entries(SETTING_DEFAULTS))('infra/README.md states the default of %s', (key, value) => {
      const cell = rows.get(key) ?? '';
      if (typeof value === 'object')
        for (const [profile, v] of Object.entries(value)) expect(cell).toContain(`\`${v}\` (${profile}`);
      else expect(cell).toContain(`\`${value}\``);
    });

    it('cdk.json repeats none of them', () => {
      const cdk = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
      expect(Object.keys(cdk.context).filter((k) => k in SETTING_DEFAULTS)).toEqual([]);
    });
  });
});
