/**
 * The stateful half of sessiontrail: the write-once evidence bucket, its access-log bucket, the
 * customer key that encrypts the data, the KMS signing key, the Athena results bucket, and the two
 * exporter roles the signing key trusts.
 *
 * The roles live here, with the key, on purpose: KMS and S3 policies pin a role by its unique id,
 * so a role deleted and recreated with the stateless stack would silently lose the key's trust.
 */
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SETTING_DEFAULTS } from '../settings.ts';

/** Actions of a key administrator: manage the key, never use it (no Sign, no GetPublicKey, no Decrypt). */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:Create*',
  'kms:Delete*',
  'kms:Describe*',
  'kms:Disable*',
  'kms:Enable*',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:List*',
  'kms:Put*',
  'kms:Revoke*',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:Update*',
] as const;

/** The only actions anyone may use the signing key for. */
export const SIGNING_ACTIONS = ['kms:GetPublicKey', 'kms:Sign'] as const;

/** What an auditor may do with the signing key: read it and its public key, check a signature; never sign. */
export const AUDITOR_ACTIONS = ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Verify'] as const;

export interface EvidenceStorageProps {
  /**
   * Object Lock default retention mode of the evidence bucket. COMPLIANCE: nobody, root included,
   * can delete or shorten it; GOVERNANCE: principals with s3:BypassGovernanceRetention can.
   * @default 'COMPLIANCE'
   */
  readonly retentionMode?: 'COMPLIANCE' | 'GOVERNANCE';
  /** Object Lock default retention in days. @default 2557 (seven years) */
  readonly retentionDays?: number;
  /** Days Athena results and working-table files are kept. @default 7 */
  readonly resultsExpiryDays?: number;
  /** Days server access logs are kept. @default 365 */
  readonly accessLogExpiryDays?: number;
  /**
   * Prefix of the bucket names (`<name>-evidence-<account>-<region>`) and key aliases
   * (`alias/<name>-signing`): lower-case letters, digits and -, at most 20.
   * @default 'sessiontrail'
   */
  readonly name?: string;
  /** Folder of the evidence bucket the packs go to; writes there must be conditional. @default 'packs' */
  readonly evidencePrefix?: string;
  /**
   * An IAM principal ARN (role, user or account root) the signing key lets read its public key and
   * verify signatures: the auditor, who then needs no exporter role. @default - none
   */
  readonly auditorPrincipalArn?: string;
}

/**
 * The evidence bucket's refusal of any object creation under the packs' folder that does not carry
 * `If-None-Match` (S3 user guide, "Enforce conditional writes on Amazon S3 buckets", example 1):
 * even a role allowed `s3:PutObject` cannot put a new current version over a pack's file. The
 * multipart operations that accept no conditional header (CreateMultipartUpload, UploadPart,
 * UploadPartCopy) are exempted by `s3:ObjectCreationOperation` being false for them; the upload's
 * CompleteMultipartUpload is an object creation and needs the header. It applies to every principal.
 */
export function conditionalWriteStatement(
  evidenceBucketArn: string,
  evidencePrefix: string,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'PacksAreWrittenOnlyIfAbsent',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:PutObject'],
    resources: [`${evidenceBucketArn}/${evidencePrefix}/*`],
    conditions: {
      Null: { 's3:if-none-match': 'true' },
      Bool: { 's3:ObjectCreationOperation': 'true' },
    },
  });
}

/**
 * The buckets' names: fixed, so that operators can type them and policies in another stack can
 * name them without a cross-stack reference. Account and region make them globally unique.
 */
export function storageBucketNames(name: string): { evidence: string; results: string; accessLogs: string } {
  const suffix = `${Aws.ACCOUNT_ID}-${Aws.REGION}`;
  return {
    evidence: `${name}-evidence-${suffix}`,
    results: `${name}-athena-results-${suffix}`,
    accessLogs: `${name}-access-logs-${suffix}`,
  };
}

/** Buckets, keys and exporter roles. */
export class EvidenceStorage extends Construct {
  readonly evidenceBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly resultsBucket: s3.Bucket;
  /** Encrypts the evidence and results buckets (SSE-KMS with S3 Bucket Keys). */
  readonly dataKey: kms.Key;
  /** ECDSA P-256 key that signs each pack's manifest. */
  readonly signingKey: kms.Key;
  /** The buckets' physical names (see {@link storageBucketNames}). */
  readonly bucketNames: { readonly evidence: string; readonly results: string; readonly accessLogs: string };
  /** Execution role of the scheduled-review function. */
  readonly reviewRole: iam.Role;
  /** Execution role of the on-demand function. */
  readonly onDemandRole: iam.Role;

  constructor(scope: Construct, id: string, props: EvidenceStorageProps = {}) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? SETTING_DEFAULTS.retentionDays.prod;
    if (!Number.isInteger(retentionDays) || retentionDays < 1)
      throw new Error(
        `EvidenceStorage retentionDays: expected a whole number >= 1, received ${retentionDays}`,
      );
    const aliasPrefix = props.name ?? SETTING_DEFAULTS.name;
    if (!/^[a-z][a-z0-9-]{0,19}$/.test(aliasPrefix))
      throw new Error(
        `EvidenceStorage name: expected at most 20 lower-case letters, digits and -, received ${aliasPrefix}`,
      );
    this.bucketNames = storageBucketNames(aliasPrefix);

    const lambdaPrincipal = new iam.ServicePrincipal('lambda.amazonaws.com');
    this.reviewRole = new iam.Role(this, 'ReviewRole', {
      assumedBy: lambdaPrincipal,
      description: 'sessiontrail scheduled review: runs Athena queries, signs and writes evidence packs',
    });
    this.onDemandRole = new iam.Role(this, 'OnDemandRole', {
      assumedBy: lambdaPrincipal,
      description: 'sessiontrail on-demand export: runs Athena queries, signs and writes evidence packs',
    });

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'sessiontrail: encrypts evidence packs and Athena results',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      alias: `alias/${aliasPrefix}-data`,
    });

    this.signingKey = new kms.Key(this, 'SigningKey', {
      description: 'sessiontrail: signs evidence-pack manifests (ECDSA P-256, SHA-256)',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      alias: `alias/${aliasPrefix}-signing`,
      // A custom policy replaces CDK's default (kms:* for the account): the account administers the
      // key, and only the two exporter roles can sign with it or read its public key.
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountAdministersTheKey',
            principals: [new iam.AccountRootPrincipal()],
            actions: [...KEY_ADMIN_ACTIONS],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'ExporterRolesSign',
            principals: [this.reviewRole, this.onDemandRole],
            actions: [...SIGNING_ACTIONS],
            resources: ['*'],
          }),
          // `aws kms get-public-key` / `aws kms verify` for the auditor (infra/README.md), who must
          // not depend on an exporter role to check a pack's origin.
          ...(props.auditorPrincipalArn === undefined
            ? []
            : [
                new iam.PolicyStatement({
                  sid: 'AuditorReadsPublicKeyAndVerifies',
                  principals: [new iam.ArnPrincipal(props.auditorPrincipalArn)],
                  actions: [...AUDITOR_ACTIONS],
                  resources: ['*'],
                }),
              ]),
        ],
      }),
    });

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      bucketName: this.bucketNames.accessLogs,
      // S3 server access logging delivers only to SSE-S3 buckets (S3 user guide, "Enabling server access logging").
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(props.accessLogExpiryDays ?? 365),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server-access-log destination of the evidence and results buckets; logging it into itself would loop and another log bucket would only move the question.',
    });

    this.evidenceBucket = new s3.Bucket(this, 'EvidenceBucket', {
      bucketName: this.bucketNames.evidence,
      objectLockEnabled: true,
      objectLockDefaultRetention:
        (props.retentionMode ?? SETTING_DEFAULTS.retentionMode.prod) === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(Duration.days(retentionDays))
          : s3.ObjectLockRetention.governance(Duration.days(retentionDays)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'evidence/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const evidencePrefix = (props.evidencePrefix ?? SETTING_DEFAULTS.evidencePrefix).replace(
      /^\/+|\/+$/g,
      '',
    );
    this.evidenceBucket.addToResourcePolicy(
      conditionalWriteStatement(this.evidenceBucket.bucketArn, evidencePrefix),
    );

    this.resultsBucket = new s3.Bucket(this, 'AthenaResultsBucket', {
      bucketName: this.bucketNames.results,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        {
          id: 'expire-athena-results',
          expiration: Duration.days(props.resultsExpiryDays ?? SETTING_DEFAULTS.resultsExpiryDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
