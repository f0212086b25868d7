import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_ADMIN_ACTIONS } from '../../infra/constructs/evidence-storage.ts';
import { parseSourceTables } from '../../lib/locate/raw-input-plan.ts';
import { SOURCE_NAMES, SOURCES } from '../../lib/sources/index.ts';
import { placeholder } from '../../lib/sources/raw-table.ts';
import { type FlatStatement, flat, flatStatements, type Synthesised, synthApp } from './synth-app.ts';

const GLUE = 'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>';
const LOGS = 'arn:<AWS::Partition>:s3:::corp-security-logs';
const RESULTS = 'arn:<AWS::Partition>:s3:::sessiontrail-athena-results-<AWS::AccountId>-<AWS::Region>';
const EVIDENCE = 'arn:<AWS::Partition>:s3:::sessiontrail-evidence-<AWS::AccountId>-<AWS::Region>';

/**
 * The folders the default deployment's raw tables read: dt folders, and the projected account and
 * regions (the deploying one and us-east-1, where CloudTrail records global services' events).
 */
const READ_FOLDERS = [
  // CloudTrail: the staged per-record copies the table reads, then the delivered objects the staging reads.
  'logs/cloudtrail-staging/records/AWSLogs/<AWS::AccountId>/CloudTrail/<AWS::Region>',
  'logs/cloudtrail-staging/records/AWSLogs/<AWS::AccountId>/CloudTrail/us-east-1',
  'logs/cloudtrail/AWSLogs/<AWS::AccountId>/CloudTrail/<AWS::Region>',
  'logs/cloudtrail/AWSLogs/<AWS::AccountId>/CloudTrail/us-east-1',
  'logs/linux_auditd',
  'logs/linux_auth',
  'logs/ocsf/region=<AWS::Region>/accountId=<AWS::AccountId>',
  'logs/ocsf/region=us-east-1/accountId=<AWS::AccountId>',
  'logs/windows',
];

/** Every statement both exporter roles get, by sid: the least-privilege contract. */
function exporterStatements(logGroup: string): FlatStatement[] {
  return [
    {
      sid: 'RunAthenaQueries',
      effect: 'Allow',
      actions: [
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:GetWorkGroup',
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
      ],
      resources: ['arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/sessiontrail'],
    },
    {
      sid: 'ReadRawTables',
      effect: 'Allow',
      actions: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable'],
      resources: [
        `${GLUE}:catalog`,
        `${GLUE}:database/sessiontrail_raw`,
        ...SOURCE_NAMES.map((s) => `${GLUE}:table/sessiontrail_raw/${s}_raw`),
      ],
    },
    {
      sid: 'ManageWorkTables',
      effect: 'Allow',
      actions: [
        'glue:BatchDeletePartition',
        'glue:CreateTable',
        'glue:DeleteTable',
        'glue:GetDatabase',
        'glue:GetPartitions',
        'glue:GetTable',
      ],
      resources: [
        `${GLUE}:catalog`,
        `${GLUE}:database/sessiontrail_work`,
        `${GLUE}:table/sessiontrail_work/*`,
      ],
    },
    { sid: 'LocateLogsBucket', effect: 'Allow', actions: ['s3:GetBucketLocation'], resources: [LOGS] },
    {
      sid: 'ListLogFolders',
      effect: 'Allow',
      actions: ['s3:ListBucket'],
      resources: [LOGS],
      condition: { StringLike: { 's3:prefix': READ_FOLDERS.map((f) => `${f}/*`) } },
    },
    {
      sid: 'ReadLogs',
      effect: 'Allow',
      actions: ['s3:GetObject'],
      resources: READ_FOLDERS.map((f) => `${LOGS}/${f}/*`),
    },
    {
      sid: 'AthenaResultsBucket',
      effect: 'Allow',
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: [RESULTS],
    },
    {
      sid: 'AthenaResultsObjects',
      effect: 'Allow',
      actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
      resources: [`${RESULTS}/athena/*`],
    },
    {
      sid: 'ListEvidence',
      effect: 'Allow',
      actions: ['s3:ListBucket'],
      resources: [EVIDENCE],
      condition: { StringLike: { 's3:prefix': ['packs/*'] } },
    },
    {
      sid: 'WriteEvidence',
      effect: 'Allow',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [`${EVIDENCE}/packs/*`],
    },
    {
      sid: 'UseDataKey',
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [
        expect.stringMatching(
          /^<import:sessiontrail-storage:ExportsOutputFnGetAttStorageDataKey/,
        ) as unknown as string,
      ],
    },
    {
      sid: 'SignManifests',
      effect: 'Allow',
      actions: ['kms:GetPublicKey', 'kms:Sign'],
      resources: [
        expect.stringMatching(
          /^<import:sessiontrail-storage:ExportsOutputFnGetAttStorageSigningKey/,
        ) as unknown as string,
      ],
    },
    {
      sid: 'ListForStaging',
      effect: 'Allow',
      actions: ['s3:ListBucket'],
      resources: [LOGS],
      // Exact prefixes: the account folders, then the region folders of each projected account.
      condition: {
        StringLike: {
          's3:prefix': ['logs/cloudtrail/AWSLogs/', 'logs/cloudtrail/AWSLogs/<AWS::AccountId>/CloudTrail/'],
        },
      },
    },
    {
      sid: 'ListStaged',
      effect: 'Allow',
      actions: ['s3:ListBucket'],
      resources: [LOGS],
      condition: { StringLike: { 's3:prefix': ['logs/cloudtrail-staging/*'] } },
    },
    {
      sid: 'WriteStaged',
      effect: 'Allow',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [`${LOGS}/logs/cloudtrail-staging/*`],
    },
    {
      sid: 'WriteOwnLogs',
      effect: 'Allow',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [expect.stringMatching(new RegExp(`^<${logGroup}[A-F0-9]{8}\\.Arn>$`)) as unknown as string],
    },
  ];
}

/** The TableInput of the Glue table named `name`. */
function glueTable(s: Synthesised, name: string): Record<string, unknown> {
  const found = Object.values(s.exporterTemplate.findResources('AWS::Glue::Table'))
    .map((t) => (t as { Properties: { TableInput: Record<string, unknown> } }).Properties.TableInput)
    .filter((t) => t.Name === name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

/** A table's parameters with CloudFormation values flattened (`{ Ref: AWS::Region }` → `<AWS::Region>`). */
function flatParameters(table: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(table.Parameters as Record<string, unknown>).map(([k, v]) => [k, flat(v)]),
  );
}

function policyStatements(s: Synthesised, idPrefix: string): FlatStatement[] {
  const found = Object.entries(s.exporterTemplate.findResources('AWS::IAM::Policy')).filter(([id]) =>
    new RegExp(`^${idPrefix}[A-F0-9]{8}$`).test(id),
  );
  expect(found, idPrefix).toHaveLength(1);
  const doc = (found[0]?.[1] as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties
    .PolicyDocument;
  return flatStatements(doc.Statement);
}

describe('storage stack', () => {
  let prod: Synthesised;
  let dev: Synthesised;
  beforeAll(() => {
    prod = synthApp({ profile: 'prod' });
    dev = synthApp({ profile: 'dev' });
  });

  it.each([
    ['prod', 'COMPLIANCE', 2557],
    ['dev', 'GOVERNANCE', 1],
  ])('locks evidence with Object Lock: profile %s → %s for %i days, versioned', (profile, mode, days) => {
    const s = profile === 'prod' ? prod : dev;
    s.storageTemplate.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['sessiontrail-evidence-'])] }),
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: mode, Days: days } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('takes retention mode and days from the context over the profile', () => {
    synthApp({
      profile: 'dev',
      retentionMode: 'COMPLIANCE',
      retentionDays: 30,
    }).storageTemplate.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
    });
  });

  it('encrypts evidence and results with the customer data key (SSE-KMS, bucket keys), access logs with SSE-S3', () => {
    const buckets = Object.values(prod.storageTemplate.findResources('AWS::S3::Bucket')) as {
      Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: unknown[] }; BucketName: unknown };
    }[];
    const byName = new Map(
      buckets.map((b) => [flat(b.Properties.BucketName), b.Properties.BucketEncryption]),
    );
    const kms = {
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^StorageDataKey/), 'Arn'] },
            SSEAlgorithm: 'aws:kms',
          },
        },
      ],
    };
    expect(byName.get('sessiontrail-evidence-<AWS::AccountId>-<AWS::Region>')).toEqual(kms);
    expect(byName.get('sessiontrail-athena-results-<AWS::AccountId>-<AWS::Region>')).toEqual(kms);
    expect(byName.get('sessiontrail-access-logs-<AWS::AccountId>-<AWS::Region>')).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    prod.storageTemplate.hasResourceProperties('AWS::KMS::Key', {
      KeySpec: Match.absent(),
      EnableKeyRotation: true,
    });
  });

  it('blocks public access on every bucket and logs evidence and results access to the log bucket', () => {
    const buckets = Object.values(prod.storageTemplate.findResources('AWS::S3::Bucket')) as {
      Properties: Record<string, unknown>;
    }[];
    expect(buckets).toHaveLength(3);
    for (const b of buckets) {
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    for (const prefix of ['evidence/', 'athena-results/']) {
      prod.storageTemplate.hasResourceProperties('AWS::S3::Bucket', {
        LoggingConfiguration: {
          DestinationBucketName: { Ref: Match.stringLikeRegexp('^StorageAccessLogBucket') },
          LogFilePrefix: prefix,
        },
      });
    }
  });

  it('denies every request without TLS in every bucket policy', () => {
    const policies = Object.values(prod.storageTemplate.findResources('AWS::S3::BucketPolicy')) as {
      Properties: { PolicyDocument: { Statement: unknown[] } };
    }[];
    expect(policies).toHaveLength(3);
    for (const p of policies) {
      const deny = flatStatements(p.Properties.PolicyDocument.Statement).find(
        (st) =>
          st.effect === 'Deny' && JSON.stringify(st.condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
      );
      expect(deny?.actions).toEqual(['s3:*']);
      expect(deny?.resources).toHaveLength(2); // the bucket and its objects
    }
  });

  it('expires Athena results after 7 days', () => {
    prod.storageTemplate.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-athena-results',
            ExpirationInDays: 7,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      },
    });
  });

  it('creates an ECC P-256 signing key that only the two exporter roles may sign with or read', () => {
    const keys = prod.storageTemplate.findResources('AWS::KMS::Key', {
      Properties: { KeySpec: 'ECC_NIST_P256' },
    });
    const [key] = Object.values(keys) as {
      Properties: Record<string, unknown> & { KeyPolicy: { Statement: unknown[] } };
    }[];
    expect(key?.Properties.KeyUsage).toBe('SIGN_VERIFY');
    const statements = flatStatements(key?.Properties.KeyPolicy.Statement ?? []);
    expect(statements).toEqual([
      {
        sid: 'AccountAdministersTheKey',
        effect: 'Allow',
        actions: [...KEY_ADMIN_ACTIONS],
        resources: ['*'],
      },
      {
        sid: 'ExporterRolesSign',
        effect: 'Allow',
        actions: ['kms:GetPublicKey', 'kms:Sign'],
        resources: ['*'],
      },
    ]);
    const raw = key?.Properties.KeyPolicy.Statement as { Principal: { AWS: unknown } }[];
    expect(flat(raw[0]?.Principal.AWS)).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:root');
    expect((raw[1]?.Principal.AWS as unknown[]).map(flat)).toEqual([
      expect.stringMatching(/^<StorageReviewRole[A-F0-9]{8}\.Arn>$/),
      expect.stringMatching(/^<StorageOnDemandRole[A-F0-9]{8}\.Arn>$/),
    ]);
    // The administrator cannot use the key: no Sign, Verify, GetPublicKey, no kms:*.
    for (const a of KEY_ADMIN_ACTIONS)
      expect(['kms:*', 'kms:Get*', 'kms:Sign', 'kms:GetPublicKey']).not.toContain(a);
  });

  it('lets a configured auditor principal read the public key and verify, never sign', () => {
    const auditor = 'arn:aws:iam::210987654321:role/evidence-auditor';
    const keys = synthApp({ profile: 'prod', auditorPrincipalArn: auditor }).storageTemplate.findResources(
      'AWS::KMS::Key',
      { Properties: { KeySpec: 'ECC_NIST_P256' } },
    );
    const [key] = Object.values(keys) as { Properties: { KeyPolicy: { Statement: unknown[] } } }[];
    const raw = key?.Properties.KeyPolicy.Statement as { Sid: string; Principal: { AWS: unknown } }[];
    const statement = flatStatements(raw).find((st) => st.sid === 'AuditorReadsPublicKeyAndVerifies');
    expect(statement).toEqual({
      sid: 'AuditorReadsPublicKeyAndVerifies',
      effect: 'Allow',
      actions: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Verify'],
      resources: ['*'],
    });
    expect(raw.find((st) => st.Sid === 'AuditorReadsPublicKeyAndVerifies')?.Principal.AWS).toBe(auditor);
    expect(() => synthApp({ auditorPrincipalArn: 'alice' })).toThrow(/auditorPrincipalArn/);
  });

  it('refuses any PutObject under the packs folder without If-None-Match, multipart parts exempted', () => {
    const policies = Object.values(prod.storageTemplate.findResources('AWS::S3::BucketPolicy')) as {
      Properties: { Bucket: unknown; PolicyDocument: { Statement: unknown[] } };
    }[];
    const deny = policies
      .flatMap((p) => flatStatements(p.Properties.PolicyDocument.Statement))
      .filter((st) => st.sid === 'PacksAreWrittenOnlyIfAbsent');
    expect(deny).toHaveLength(1);
    expect(deny[0]).toMatchObject({
      effect: 'Deny',
      actions: ['s3:PutObject'],
      resources: [expect.stringMatching(/EvidenceBucket.*\/packs\/\*$/)],
      condition: { Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } },
    });
  });

  it('gives the exporter roles a Lambda trust and no managed policies', () => {
    const roles = Object.values(prod.storageTemplate.findResources('AWS::IAM::Role')) as {
      Properties: Record<string, unknown>;
    }[];
    expect(roles).toHaveLength(2);
    for (const r of roles) {
      expect(r.Properties.AssumeRolePolicyDocument).toEqual({
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ],
        Version: '2012-10-17',
      });
      expect(r.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('synthesises 12 resources', () => {
    expect(Object.keys(prod.storageTemplate.toJSON().Resources)).toHaveLength(12);
  });
});

describe('exporter stack', () => {
  let s: Synthesised;
  beforeAll(() => {
    s = synthApp({ profile: 'prod', logsPrefix: '/logs/' });
  });

  it.each([
    'windows',
    'linux_auditd',
    'linux_auth',
  ])('generates the %s raw table from its raw-table spec: raw lines, projected dt days', (source) => {
    const spec = SOURCES[source]!.rawTable;
    s.exporterTemplate.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'sessiontrail_raw',
      TableInput: {
        Name: spec.table,
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: [{ Name: 'dt', Type: 'string' }],
        Parameters: {
          EXTERNAL: 'TRUE',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2015-01-01,NOW',
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `s3://corp-security-logs/logs/${source}/dt=\${dt}`,
        },
        StorageDescriptor: Match.objectLike({
          Location: `s3://corp-security-logs/logs/${source}/`,
          Columns: [{ Name: 'line', Type: 'string' }],
          InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          SerdeInfo: {
            SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
            Parameters: { 'field.delim': '\u0001', 'serialization.format': '\u0001' },
          },
        }),
      },
    });
  });

  it("generates the CloudTrail table as AWS's partition-projection layout over the trail's own folders", () => {
    const table = glueTable(s, 'cloudtrail_raw');
    expect(table.PartitionKeys).toEqual([
      { Name: 'account', Type: 'string' },
      { Name: 'region', Type: 'string' },
      { Name: 'day', Type: 'string' },
    ]);
    expect(flatParameters(table)).toEqual({
      EXTERNAL: 'TRUE',
      'projection.enabled': 'true',
      'projection.account.type': 'enum',
      'projection.account.values': '<AWS::AccountId>',
      'projection.region.type': 'enum',
      'projection.region.values': '<AWS::Region>,us-east-1',
      'projection.day.type': 'date',
      'projection.day.format': 'yyyy/MM/dd',
      'projection.day.range': '2015/01/01,NOW',
      'projection.day.interval': '1',
      'projection.day.interval.unit': 'DAYS',
      'storage.location.template': `s3://corp-security-logs/logs/cloudtrail-staging/records/AWSLogs/\${account}/CloudTrail/\${region}/\${day}`,
    });
    expect(table.StorageDescriptor).toMatchObject({
      Location: 's3://corp-security-logs/logs/cloudtrail-staging/records/AWSLogs/',
      Columns: [{ Name: 'line', Type: 'string' }],
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    });
  });

  it('reads an organization trail under AWSLogs/<org-id>/ when trailOrganizationId is given', () => {
    const t = synthApp({
      trailOrganizationId: 'o-a1b2c3d4e5',
      logAccounts: '111122223333',
      logRegions: 'eu-west-1',
    });
    const table = glueTable(t, 'cloudtrail_raw');
    expect((table.StorageDescriptor as { Location: string }).Location).toBe(
      's3://corp-security-logs/logs/cloudtrail-staging/records/AWSLogs/o-a1b2c3d4e5/',
    );
    expect(flatParameters(table)['storage.location.template']).toBe(
      `s3://corp-security-logs/logs/cloudtrail-staging/records/AWSLogs/o-a1b2c3d4e5/\${account}/CloudTrail/\${region}/\${day}`,
    );
    const read = policyStatements(t, 'ExporterReviewPolicy').find((st) => st.sid === 'ReadLogs');
    expect(read?.resources.filter((r) => r.includes('/cloudtrail/'))).toEqual([
      `${LOGS}/logs/cloudtrail/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/*`,
      `${LOGS}/logs/cloudtrail/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/*`,
    ]);
    expect(() => synthApp({ trailOrganizationId: 'org-1' })).toThrow(/trailOrganizationId/);
  });

  it("reads OCSF written as JSON through staged copies when ocsfFormat is json: table, grants and the functions' table", () => {
    const t = synthApp({ ocsfFormat: 'json', logAccounts: '111122223333', logRegions: 'eu-west-1' });
    const table = glueTable(t, 'ocsf_raw');
    expect((table.StorageDescriptor as { Location: string }).Location).toBe(
      's3://corp-security-logs/logs/ocsf-staging/records/',
    );
    expect(flatParameters(table)['storage.location.template']).toBe(
      `s3://corp-security-logs/logs/ocsf-staging/records/region=\${region}/accountId=\${accountid}/eventDay=\${eventday}`,
    );
    const statements = policyStatements(t, 'ExporterReviewPolicy');
    const prefixes = (sid: string) =>
      (statements.find((st) => st.sid === sid)?.condition as Record<string, Record<string, string[]>>)
        ?.StringLike?.['s3:prefix'];
    expect(prefixes('ListForStaging')).toEqual([
      'logs/cloudtrail/AWSLogs/',
      'logs/cloudtrail/AWSLogs/111122223333/CloudTrail/',
      'logs/ocsf/',
      'logs/ocsf/region=eu-west-1/',
      'logs/ocsf/region=us-east-1/',
    ]);
    expect(statements.find((st) => st.sid === 'WriteStaged')?.resources).toEqual([
      `${LOGS}/logs/cloudtrail-staging/*`,
      `${LOGS}/logs/ocsf-staging/*`,
    ]);
    const fn = Object.values(t.exporterTemplate.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, string> } };
    };
    expect(
      parseSourceTables(fn.Properties.Environment.Variables.SESSIONTRAIL_SOURCE_TABLES!).ocsf,
    ).toMatchObject({
      format: 'records',
      stagedFrom: 'ocsf',
    });
    expect(() => synthApp({ ocsfFormat: 'xml' })).toThrow(/ocsfFormat/);
  });

  it('always projects us-east-1, where CloudTrail records IAM, STS and CloudFront events', () => {
    const t = synthApp({ logRegions: 'eu-west-1,eu-central-1' });
    expect(flatParameters(glueTable(t, 'cloudtrail_raw'))).toMatchObject({
      'projection.region.values': 'eu-west-1,eu-central-1,us-east-1',
    });
  });

  it('projects the CloudTrail accounts and regions given in the context, and reads only their folders', () => {
    const t = synthApp({ logAccounts: '111122223333,444455556666', logRegions: ['eu-west-1', 'us-east-1'] });
    expect(flatParameters(glueTable(t, 'cloudtrail_raw'))).toMatchObject({
      'projection.account.values': '111122223333,444455556666',
      'projection.region.values': 'eu-west-1,us-east-1',
    });
    const read = policyStatements(t, 'ExporterReviewPolicy').find((st) => st.sid === 'ReadLogs');
    expect(read?.resources.filter((r) => r.includes('/cloudtrail/'))).toEqual([
      `${LOGS}/logs/cloudtrail/AWSLogs/111122223333/CloudTrail/eu-west-1/*`,
      `${LOGS}/logs/cloudtrail/AWSLogs/111122223333/CloudTrail/us-east-1/*`,
      `${LOGS}/logs/cloudtrail/AWSLogs/444455556666/CloudTrail/eu-west-1/*`,
      `${LOGS}/logs/cloudtrail/AWSLogs/444455556666/CloudTrail/us-east-1/*`,
    ]);
  });

  it('generates the OCSF table as Parquet with typed columns in Security Lake custom-source folders', () => {
    const table = glueTable(s, 'ocsf_raw');
    expect(table.PartitionKeys).toEqual([
      { Name: 'region', Type: 'string' },
      { Name: 'accountid', Type: 'string' },
      { Name: 'eventday', Type: 'string' },
    ]);
    expect(flatParameters(table)).toMatchObject({
      classification: 'parquet',
      'projection.eventday.type': 'date',
      'projection.eventday.format': 'yyyyMMdd',
      'projection.eventday.range': '20150101,NOW',
      'storage.location.template': `s3://corp-security-logs/logs/ocsf/region=\${region}/accountId=\${accountid}/eventDay=\${eventday}`,
    });
    expect(table.StorageDescriptor).toMatchObject({
      Location: 's3://corp-security-logs/logs/ocsf/',
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      Columns: SOURCES.ocsf!.rawTable.columns.map((c) => ({ Name: c.name, Type: c.type })),
    });
  });

  it('tells the functions each source table, its day partition, lag and key prefix', () => {
    const fns = Object.values(s.exporterTemplate.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment: { Variables: Record<string, string> } };
    }[];
    for (const f of fns) {
      const tables = parseSourceTables(f.Properties.Environment.Variables.SESSIONTRAIL_SOURCE_TABLES!);
      expect(Object.keys(tables).sort()).toEqual([...SOURCE_NAMES]);
      expect(tables.cloudtrail).toEqual({
        table: 'sessiontrail_raw.cloudtrail_raw',
        day: { column: 'day', format: 'yyyy/MM/dd' },
        lagDays: 1,
        format: 'records',
        stagedFrom: 'cloudtrail/AWSLogs',
        stagedLayout: `${placeholder('accounts')}/CloudTrail/${placeholder('regions')}/${placeholder('day')}`,
        keyPrefix: 's3://corp-security-logs/logs/',
      });
    }
  });

  it('has a raw and a work database', () => {
    for (const name of ['sessiontrail_raw', 'sessiontrail_work'])
      s.exporterTemplate.hasResourceProperties('AWS::Glue::Database', {
        DatabaseInput: Match.objectLike({ Name: name }),
      });
  });

  it.each([
    ['prod', 1024 ** 4],
    ['dev', 100 * 1024 ** 3],
  ])('enforces the workgroup configuration: engine v3, encrypted results, scan cutoff (%s: %i bytes)', (profile, cutoff) => {
    const t = profile === 'prod' ? s.exporterTemplate : synthApp({ profile }).exporterTemplate;
    t.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'sessiontrail',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        BytesScannedCutoffPerQuery: cutoff,
        PublishCloudWatchMetricsEnabled: true,
        RequesterPaysEnabled: false,
        ResultConfiguration: {
          OutputLocation: Match.objectLike({
            'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('^s3://sessiontrail-athena-results-')])],
          }),
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
          ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        },
      },
    });
  });

  it('takes the scan cutoff from the context', () => {
    synthApp({ scanCutoffBytes: 50_000_000 }).exporterTemplate.hasResourceProperties(
      'AWS::Athena::WorkGroup',
      {
        WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 50_000_000 }),
      },
    );
  });

  it('runs the three Lambdas (review, on demand, pack stage) on Node.js 22, arm64, traced, 15 minutes, with the bundle two folders deep', () => {
    const fns = Object.entries(s.exporterTemplate.findResources('AWS::Lambda::Function')) as [
      string,
      { Properties: Record<string, unknown> },
    ][];
    expect(fns).toHaveLength(3);
    for (const [id, f] of fns) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Timeout: 900,
        MemorySize: 2048,
        Handler: 'functions/bundle/index.handler',
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      });
      // The starters know the state machine; the stage function it invokes knows where stage results go.
      const own = id.startsWith('ExporterPacksStage')
        ? 'SESSIONTRAIL_RESULTS_BUCKET'
        : 'SESSIONTRAIL_STATE_MACHINE_ARN';
      expect(Object.keys((f.Properties.Environment as { Variables: object }).Variables).sort()).toEqual(
        [
          'NODE_OPTIONS',
          'POWERTOOLS_METRICS_NAMESPACE',
          'POWERTOOLS_SERVICE_NAME',
          'SESSIONTRAIL_DATA_KEY_ARN',
          'SESSIONTRAIL_EVIDENCE_BUCKET',
          'SESSIONTRAIL_EVIDENCE_PREFIX',
          own,
          'SESSIONTRAIL_SIGNING_KEY_ARN',
          'SESSIONTRAIL_SOURCE_TABLES',
          'SESSIONTRAIL_VERSION',
          'SESSIONTRAIL_WORK_DATABASE',
          'SESSIONTRAIL_WORK_GROUP',
        ].sort(),
      );
    }
    // The three functions' logs and the state machine's.
    s.exporterTemplate.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 365 }, 4);
  });

  it('reserves concurrency: 1 for the monthly review, 2 (or the context value, 0 = none) on demand', () => {
    const reservedOf = (t: typeof s.exporterTemplate) =>
      Object.entries(t.findResources('AWS::Lambda::Function'))
        .map(([id, r]) => [
          id.replace(/[A-F0-9]{8}$/, ''),
          (r as { Properties: Record<string, unknown> }).Properties.ReservedConcurrentExecutions,
        ])
        .sort();
    // The stage function reserves none: each execution runs one stage at a time, and the starters'
    // concurrency bounds the executions.
    expect(reservedOf(s.exporterTemplate)).toEqual([
      ['ExporterOnDemandFunction', 2],
      ['ExporterPacksStageFunction', undefined],
      ['ExporterScheduledReviewFunction', 1],
    ]);
    expect(reservedOf(synthApp({ reservedConcurrency: 0 }).exporterTemplate)).toEqual([
      ['ExporterOnDemandFunction', undefined],
      ['ExporterPacksStageFunction', undefined],
      ['ExporterScheduledReviewFunction', undefined],
    ]);
  });

  it('retries asynchronous invocations twice, then sends them to the dead-letter queue', () => {
    s.exporterTemplate.resourcePropertiesCountIs(
      'AWS::Lambda::EventInvokeConfig',
      {
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 21600,
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExporterDeadLetterQueue'), 'Arn'] },
          },
        },
      },
      2,
    );
  });

  it('schedules the monthly review on the 1st with a flexible window, a retry policy and the dead-letter queue', () => {
    s.exporterTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 1 * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExporterScheduledReviewFunction'), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExporterScheduleRole'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 43200 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExporterDeadLetterQueue'), 'Arn'] },
        },
        Input: Match.stringLikeRegexp('"scheduledTime":"<aws.scheduler.scheduled-time>"'),
      },
    });
  });

  it('encrypts the dead-letter queue and refuses it over plain HTTP', () => {
    s.exporterTemplate.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    s.exporterTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('alarms on errors of each function, on any dead letter, on a failed or timed-out pack execution and on a review missing at its deadline', () => {
    const alarms = Object.values(s.exporterTemplate.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: {
        MetricName?: string;
        Namespace?: string;
        Metrics?: { MetricStat?: { Metric: { Namespace: string; MetricName: string } } }[];
        Threshold: number;
        ComparisonOperator: string;
      };
    }[];
    const metricsOf = (a: (typeof alarms)[number]) =>
      a.Properties.Metrics === undefined
        ? `${a.Properties.Namespace}/${a.Properties.MetricName}`
        : a.Properties.Metrics.flatMap((m) =>
            m.MetricStat ? [`${m.MetricStat.Metric.Namespace}/${m.MetricStat.Metric.MetricName}`] : [],
          ).join(' + ');
    expect(alarms.map(metricsOf).sort()).toEqual([
      'AWS/Lambda/Errors',
      'AWS/Lambda/Errors',
      'AWS/SQS/ApproximateNumberOfMessagesVisible',
      'AWS/States/ExecutionsFailed + AWS/States/ExecutionsTimedOut',
      'sessiontrail/ReviewDeadlineMissed',
    ]);
    for (const a of alarms) {
      expect(a.Properties.Threshold).toBe(1);
      expect(a.Properties.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    }
  });

  it('checks the review at its deadline: a second schedule invokes the review function with check: deadline', () => {
    const schedules = Object.values(s.exporterTemplate.findResources('AWS::Scheduler::Schedule')) as {
      Properties: { ScheduleExpression: string; Target: { Input: string; Arn: unknown } };
    }[];
    const deadline = schedules.find((x) => x.Properties.Target.Input.includes('"check":"deadline"'));
    expect(deadline?.Properties.ScheduleExpression).toBe('cron(0 6 2 * ? *)');
    expect(JSON.parse(deadline?.Properties.Target.Input ?? '{}')).toMatchObject({
      check: 'deadline',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
    expect(flat(deadline?.Properties.Target.Arn)).toMatch(
      /^<ExporterScheduledReviewFunction[A-F0-9]{8}\.Arn>$/,
    );
  });

  it.each([
    ['ExporterReviewPolicy', 'ExporterScheduledReviewLogs'],
    ['ExporterOnDemandPolicy', 'ExporterOnDemandLogs'],
  ])('gives %s exactly these statements', (policy, logGroup) => {
    expect(policyStatements(s, policy)).toEqual(exporterStatements(logGroup));
  });

  it.each([
    'ExporterReviewStartPolicy',
    'ExporterOnDemandStartPolicy',
  ])('lets %s start the pack state machine, read and redrive its executions, nothing else', (policy) => {
    const executions =
      'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:sessiontrail-pack:*';
    expect(policyStatements(s, policy)).toEqual([
      {
        sid: 'StartPackExecutions',
        effect: 'Allow',
        actions: ['states:StartExecution'],
        resources: [expect.stringMatching(/^<ExporterPacksStateMachine[A-F0-9]{8}>$/)],
      },
      {
        sid: 'DescribePackExecutions',
        effect: 'Allow',
        actions: ['states:DescribeExecution'],
        resources: [executions],
      },
      {
        sid: 'RedriveFailedPackExecutions',
        effect: 'Allow',
        actions: ['states:RedriveExecution'],
        resources: [executions],
      },
    ]);
  });

  it('lets the pack stages write their own logs and only the stages/ folder of the results bucket', () => {
    expect(policyStatements(s, 'ExporterStagePolicy')).toEqual([
      {
        sid: 'WriteStageLogs',
        effect: 'Allow',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [expect.stringMatching(/^<ExporterPacksStageLogs[A-F0-9]{8}\.Arn>$/)],
      },
      {
        sid: 'StageResults',
        effect: 'Allow',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [
          'arn:<AWS::Partition>:s3:::sessiontrail-athena-results-<AWS::AccountId>-<AWS::Region>/stages/*',
        ],
      },
    ]);
  });

  it.each([
    'ExporterReviewRoleRefPolicy',
    'ExporterOnDemandRoleRefPolicy',
  ])('lets %s write traces and dead letters only (added by the Lambda construct)', (policy) => {
    expect(policyStatements(s, policy)).toEqual([
      { effect: 'Allow', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] },
      {
        effect: 'Allow',
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [expect.stringMatching(/^<ExporterDeadLetterQueue[A-F0-9]{8}\.Arn>$/)],
      },
    ]);
  });

  it('lets the scheduler invoke only the review function and write only to the dead-letter queue', () => {
    expect(policyStatements(s, 'ExporterScheduleRoleDefaultPolicy')).toEqual([
      {
        effect: 'Allow',
        actions: ['lambda:InvokeFunction'],
        resources: [
          expect.stringMatching(/^<ExporterScheduledReviewFunction[A-F0-9]{8}\.Arn>$/),
          expect.stringMatching(/^<ExporterScheduledReviewFunction[A-F0-9]{8}\.Arn>:\*$/),
        ],
      },
      {
        effect: 'Allow',
        actions: ['sqs:SendMessage'],
        resources: [expect.stringMatching(/^<ExporterDeadLetterQueue/)],
      },
    ]);
    s.exporterTemplate.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
  });

  it('grants no delete, no retention change and no service-wide action anywhere', () => {
    const all = Object.values(s.exporterTemplate.findResources('AWS::IAM::Policy')).flatMap((p) =>
      flatStatements(
        (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
          .Statement,
      ),
    );
    const actions = all.flatMap((st) => st.actions);
    expect(
      actions.filter((a) =>
        /Delete(Object|Bucket)|PutObjectRetention|PutObjectLegalHold|Bypass|:\*$/.test(a),
      ),
    ).toEqual([]);
    // Resource "*" only where the service has no resource-level permissions: X-Ray, and the log
    // delivery the state machine's logging needs (Step Functions developer guide).
    expect(
      all
        .filter((st) => st.resources.includes('*'))
        .flatMap((st) => st.actions)
        .sort(),
    ).toEqual(
      [
        ...['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        ...['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        ...[
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
        ],
        ...[
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
      ].sort(),
    );
  });

  it('adds kms:Decrypt on the logs key when the logs bucket has one, and GenerateDataKey for the staging to write', () => {
    const withKey = synthApp({
      logsKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/0c1f9d2a-1111-2222-3333-444455556666',
    });
    expect(policyStatements(withKey, 'ExporterReviewPolicy').find((st) => st.sid === 'DecryptLogs')).toEqual({
      sid: 'DecryptLogs',
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['arn:aws:kms:eu-west-1:123456789012:key/0c1f9d2a-1111-2222-3333-444455556666'],
    });
  });

  describe('with an Amazon Security Lake table for OCSF', () => {
    const LAKE_DB = 'amazon_security_lake_glue_db_eu_west_1';
    const LAKE_TABLE = 'amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0';
    let lake: Synthesised;
    beforeAll(() => {
      lake = synthApp({ securityLakeTable: `${LAKE_DB}.${LAKE_TABLE}` });
    });

    it('creates no OCSF table and reads the named one on time_dt', () => {
      const names = Object.values(lake.exporterTemplate.findResources('AWS::Glue::Table')).map(
        (t) => (t as { Properties: { TableInput: { Name: string } } }).Properties.TableInput.Name,
      );
      expect(names.sort()).toEqual(['cloudtrail_raw', 'linux_auditd_raw', 'linux_auth_raw', 'windows_raw']);
      const fn = Object.values(lake.exporterTemplate.findResources('AWS::Lambda::Function'))[0] as {
        Properties: { Environment: { Variables: Record<string, string> } };
      };
      expect(parseSourceTables(fn.Properties.Environment.Variables.SESSIONTRAIL_SOURCE_TABLES!).ocsf).toEqual(
        {
          table: `${LAKE_DB}.${LAKE_TABLE}`,
          day: { column: 'time_dt', format: 'timestamp' },
          lagDays: 0,
          format: 'parquet',
        },
      );
    });

    it('grants Glue reads on that table and Lake Formation data access, and no S3 read of an ocsf folder', () => {
      const statements = policyStatements(lake, 'ExporterReviewPolicy');
      expect(
        statements.filter((st) => st.sid === 'ReadSecurityLakeTable' || st.sid === 'LakeFormationDataAccess'),
      ).toEqual([
        {
          sid: 'ReadSecurityLakeTable',
          effect: 'Allow',
          actions: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable'],
          resources: [
            `${GLUE}:catalog`,
            `${GLUE}:database/${LAKE_DB}`,
            `${GLUE}:table/${LAKE_DB}/${LAKE_TABLE}`,
          ],
        },
        {
          sid: 'LakeFormationDataAccess',
          effect: 'Allow',
          actions: ['lakeformation:GetDataAccess'],
          resources: ['*'],
        },
      ]);
      const read = statements.find((st) => st.sid === 'ReadLogs');
      expect(read?.resources.some((r) => r.includes('/ocsf'))).toBe(false);
      expect(statements.find((st) => st.sid === 'ReadRawTables')?.resources).not.toContain(
        `${GLUE}:table/sessiontrail_raw/ocsf_raw`,
      );
    });

    it('synthesises one Glue table fewer', () => {
      expect(Object.keys(lake.exporterTemplate.toJSON().Resources)).toHaveLength(
        33 + SOURCE_NAMES.length - 1,
      );
    });
  });

  it(`synthesises ${33 + SOURCE_NAMES.length} resources (${SOURCE_NAMES.length} raw tables)`, () => {
    // 2 databases + tables + workgroup + DLQ and its policy + 2 × (log group, function, invoke
    // config) + 5 policies + schedule role + 2 schedules (review, deadline) + 5 alarms; the pack
    // state machine: its role and policy, its log group, the stage function and its log group, and
    // the stage and two start policies.
    expect(Object.keys(s.exporterTemplate.toJSON().Resources)).toHaveLength(33 + SOURCE_NAMES.length);
  });
});
