import { describe, expect, it } from 'vitest';
import { PROFILE_DEFAULTS, parseSettings } from '../../infra/settings.ts';

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
  ])('refuses %j naming the key', (context, message) => {
    expect(() => parseSettings(context)).toThrow(message);
  });
});
