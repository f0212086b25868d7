import { describe, expect, it } from 'vitest';
import { awsRuntime, queryDeadlineMs, readEnvironment, runIdOf } from '../../functions/_shared/deps.ts';
import { tableLocator } from '../../lib/locate/table-locator.ts';
import { checkRunId } from '../../lib/query/athena/athena-dialect.ts';

const ENV = {
  SESSIONTRAIL_WORK_GROUP: 'sessiontrail',
  SESSIONTRAIL_SOURCE_TABLES: JSON.stringify({
    windows: {
      table: 'sessiontrail_raw.windows_raw',
      day: { column: 'dt', format: 'yyyy-MM-dd' },
      lagDays: 0,
      format: 'lines',
      keyPrefix: 's3://corp-security-logs/logs/',
    },
  }),
  SESSIONTRAIL_WORK_DATABASE: 'sessiontrail_work',
  SESSIONTRAIL_EVIDENCE_BUCKET: 'sessiontrail-evidence-123456789012-eu-west-1',
  SESSIONTRAIL_EVIDENCE_PREFIX: 'packs',
  SESSIONTRAIL_DATA_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/1111',
  SESSIONTRAIL_SIGNING_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/2222',
  SESSIONTRAIL_VERSION: '0.1.0',
};

describe('functions composition root', () => {
  it('locates a source as its deployed table over the days of the window, inclusive', async () => {
    // Act
    const located = await tableLocator(readEnvironment(ENV).sourceTables).locate(
      'windows',
      Date.parse('2024-02-29T00:00:00Z'),
      Date.parse('2024-04-01T00:00:00Z'),
    );
    // Assess
    expect(located.input).toEqual({
      kind: 'table',
      table: 'sessiontrail_raw.windows_raw',
      dtFrom: '2024-02-29',
      dtTo: '2024-03-31',
      format: 'lines',
      skipEmptyLines: true,
      keyPrefix: 's3://corp-security-logs/logs/',
    });
    expect(located.problems).toEqual([]);
  });

  it('refuses a source the deployment has no table for, naming the deployed ones', async () => {
    const locator = tableLocator(readEnvironment(ENV).sourceTables);
    await expect(locator.locate('cloudtrail', 0, 86_400_000)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/cloudtrail.*tables read are: windows/),
    });
  });

  it('refuses source tables that are not as the CDK app writes them', () => {
    expect(() =>
      readEnvironment({ ...ENV, SESSIONTRAIL_SOURCE_TABLES: '{"windows":{"table":"x"}}' }),
    ).toThrow(/windows\.table/);
  });

  it.each([
    '6f1c2d3e-aaaa-bbbb-cccc-0123456789ab',
    'A-B',
    '',
  ])('makes a run id Athena accepts from %j', (id) => {
    expect(checkRunId(runIdOf(id))).toBe(runIdOf(id));
  });

  it.each([
    [900_000, 600_000],
    [300_000, 240_000],
    [10_000, 30_000],
  ])('gives each query at most what the invocation has left (%i ms left → %i)', (left, deadline) => {
    expect(queryDeadlineMs(left)).toBe(deadline);
  });

  it('reads the environment the CDK app sets and names a missing variable', () => {
    expect(readEnvironment(ENV)).toMatchObject({
      workGroup: 'sessiontrail',
      evidencePrefix: 'packs',
      configPath: undefined,
    });
    const { SESSIONTRAIL_SIGNING_KEY_ARN: _omit, ...missing } = ENV;
    expect(() => readEnvironment(missing)).toThrow(/SESSIONTRAIL_SIGNING_KEY_ARN/);
  });

  it('reads nothing until asked: building the runtime touches neither env nor AWS', () => {
    expect(() => awsRuntime({})).not.toThrow();
    expect(() => awsRuntime({}).store()).toThrow(/SESSIONTRAIL_WORK_GROUP/);
  });
});
