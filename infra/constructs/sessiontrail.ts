/**
 * sessiontrail as one construct, for a CDK app of your own: evidence storage, signing key, Glue
 * tables, Athena workgroup, the exporter Lambdas, the monthly review schedule and the alarms.
 *
 * ```ts
 * new Sessiontrail(stack, 'Sessiontrail', { logsBucketName: 'corp-security-logs', logsPrefix: 'winlogs' });
 * ```
 *
 * This app itself deploys the same two parts as two stacks (infra/stacks/), so that the stateful
 * storage outlives redeployments of the functions.
 */
import type { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EvidenceStorage } from './evidence-storage.ts';
import { Exporter } from './exporter.ts';

export interface SessiontrailProps {
  /** The existing bucket that holds the logs, laid out as infra/README.md says (per source, under `logsPrefix`). */
  readonly logsBucketName: string;
  /** Key prefix of the sources' folders in the logs bucket, without slashes. @default 'logs' */
  readonly logsPrefix?: string;
  /** The customer-managed KMS key of the logs bucket, if it has one. @default - the logs are SSE-S3 */
  readonly logsKmsKeyArn?: string;
  /** Name prefix of the buckets, workgroup, Glue databases, key aliases and alarms (at most 20 characters). @default 'sessiontrail' */
  readonly name?: string;
  /** Key prefix of the packs in the evidence bucket. @default 'packs' */
  readonly evidencePrefix?: string;
  /** Object Lock default retention mode of the evidence bucket. @default 'COMPLIANCE' */
  readonly retentionMode?: 'COMPLIANCE' | 'GOVERNANCE';
  /** Object Lock default retention, in days. @default 2557 (seven years) */
  readonly retentionDays?: number;
  /** Days Athena results are kept. @default 7 */
  readonly resultsExpiryDays?: number;
  /** Athena's per-query scan limit, in bytes (at least 10 MB). @default 1 TiB */
  readonly scanCutoffBytes?: number;
  /** Retention of the functions' logs. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Scheduler expression of the monthly review of the previous month. @default 'cron(0 6 1 * ? *)' */
  readonly reviewSchedule?: string;
  /** Scheduler expression of the review's deadline check. @default 'cron(0 6 2 * ? *)' */
  readonly reviewDeadlineSchedule?: string;
  /** Time zone of the review schedule. @default 'UTC' */
  readonly scheduleTimeZone?: string;
  /** Flexible time window of the review schedule. @default Duration.hours(1) */
  readonly flexibleWindow?: Duration;
  /** A sessiontrail configuration file (privileged accounts, suppressions). @default - built-in defaults */
  readonly configFile?: string;
  /** SNS topic ARN the alarms notify. @default - alarms without actions */
  readonly alarmTopicArn?: string;
  /** Accounts the CloudTrail (and OCSF Parquet) tables project. @default - the stack's account */
  readonly logAccounts?: readonly string[];
  /** Regions the CloudTrail (and OCSF Parquet) tables project. @default - the stack's region */
  readonly logRegions?: readonly string[];
  /** An existing Security Lake table `<database>.<table>` for the OCSF source. @default - an OCSF Parquet table of ours */
  readonly securityLakeTable?: string;
  /** The Security Lake table's version. @default - from the table name */
  readonly securityLakeVersion?: 1 | 2;
  /** `json`: the OCSF files are JSON, read through per-record staged copies. @default - Parquet */
  readonly ocsfFormat?: 'json';
  /** An IAM principal ARN that may read the signing key's public key and verify with it. @default - none */
  readonly auditorPrincipalArn?: string;
  /** Reserved concurrency of the on-demand function (the review reserves 1); 0: none. @default 2 */
  readonly reservedConcurrency?: number;
  /** The organization id of an organization trail (`AWSLogs/<org-id>/<account>/…`). @default - a single-account trail */
  readonly trailOrganizationId?: string;
  /** The deadline of one pack's execution. @default 6 hours */
  readonly packDeadline?: Duration;
  /** Bytes one pack's queries may scan before the finish refuses to seal. @default 10 × scanCutoffBytes */
  readonly maxBytesScannedPerPack?: number;
}

/** Storage and exporter in one scope. */
export class Sessiontrail extends Construct {
  readonly storage: EvidenceStorage;
  readonly exporter: Exporter;

  constructor(scope: Construct, id: string, props: SessiontrailProps) {
    super(scope, id);
    const name = props.name ?? 'sessiontrail';
    this.storage = new EvidenceStorage(this, 'Storage', {
      name,
      ...pick(props, [
        'retentionMode',
        'retentionDays',
        'resultsExpiryDays',
        'evidencePrefix',
        'auditorPrincipalArn',
      ]),
    });
    this.exporter = new Exporter(this, 'Exporter', {
      storage: this.storage,
      name,
      logsBucketName: props.logsBucketName,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      ...pick(props, [
        'logsPrefix',
        'logsKmsKeyArn',
        'evidencePrefix',
        'scanCutoffBytes',
        'reviewSchedule',
        'reviewDeadlineSchedule',
        'scheduleTimeZone',
        'flexibleWindow',
        'configFile',
        'alarmTopicArn',
        'logAccounts',
        'logRegions',
        'securityLakeTable',
        'securityLakeVersion',
        'ocsfFormat',
        'reservedConcurrency',
        'trailOrganizationId',
        'packDeadline',
        'maxBytesScannedPerPack',
      ]),
    });
  }
}

/** The keys of `obj` that are set (exactOptionalPropertyTypes-friendly spreading). */
function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
