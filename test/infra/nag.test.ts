import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.ts';
import { Sessiontrail } from '../../infra/constructs/sessiontrail.ts';
import { CDK_CONTEXT, synthApp } from './synth-app.ts';

interface Report {
  readonly pluginReports: {
    readonly summary?: { readonly status?: string };
    readonly violations?: unknown[];
  }[];
}

describe('cdk-nag AwsSolutions checks', () => {
  it.each([
    ['prod', {}],
    ['dev', {}],
    [
      'prod (Security Lake, several accounts and regions)',
      {
        securityLakeTable:
          'amazon_security_lake_glue_db_eu_west_1.amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0',
        logAccounts: '111122223333,444455556666',
        logRegions: 'eu-west-1,us-east-1',
      },
    ],
  ])('leave zero unacknowledged findings on the %s app', (profile, extra) => {
    // Act: app.synth() runs the nag plugin and throws "Validation failed" on any open finding.
    const s = synthApp({
      profile: profile.split(' ')[0],
      logsKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/0c1f9d2a-1111-2222-3333-444455556666',
      ...extra,
    });
    // Assess
    const report = JSON.parse(
      readFileSync(join(s.assembly.directory, 'validation-report.json'), 'utf8'),
    ) as Report;
    const violations = report.pluginReports.flatMap((r) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  it('are active: an unacknowledged finding fails the synth', () => {
    // Prepare: the app plus a bucket that breaks AwsSolutions-S1/S10.
    const built = buildApp({
      context: { ...CDK_CONTEXT, logsBucket: 'corp-security-logs', 'aws:cdk:bundling-stacks': [] },
    });
    new s3.Bucket(built.exporter as Stack, 'CarelessBucket');
    // Act / Assess
    expect(() => built.app.synth()).toThrow(/server access logs/);
  });

  it('leave zero findings on the Sessiontrail construct in one stack of another app', () => {
    // Prepare
    const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Audit', { env: { account: '123456789012', region: 'eu-west-1' } });
    new Sessiontrail(stack, 'Sessiontrail', {
      logsBucketName: 'corp-security-logs',
      name: 'st',
      retentionDays: 400,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // Act
    const assembly = app.synth();
    // Assess
    const template = Template.fromJSON(assembly.getStackByName('Audit').template);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: {
        'Fn::Join': ['', ['st-evidence-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
      },
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } },
      },
    });
    template.resourceCountIs('AWS::Lambda::Function', 3);
  });
});
