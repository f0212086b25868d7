/**
 * The deployment settings: read once from the CDK context (`cdk.json` or `-c key=value`), checked,
 * and given defaults by profile. Precedence: `-c` option → `cdk.json` context → profile default.
 * Every key is documented in `infra/README.md`.
 */
import type { Node } from 'constructs';

export type Profile = 'dev' | 'prod';
export type RetentionMode = 'COMPLIANCE' | 'GOVERNANCE';

export interface Settings {
  /** Prefix of stack names, the workgroup, databases and alarms: lower-case letters, digits and -. */
  readonly name: string;
  readonly profile: Profile;
  /** The existing bucket that holds the logs under `logsPrefix` (layout per source: infra/README.md). */
  readonly logsBucket: string;
  /** Without leading or trailing `/`; empty when the sources sit at the bucket root. */
  readonly logsPrefix: string;
  /** A customer key the logs bucket is encrypted with, if any (the exporter needs kms:Decrypt on it). */
  readonly logsKmsKeyArn: string | undefined;
  /** Folder of the evidence bucket the packs go to (`<prefix>/<series>/<pack-id>/`). */
  readonly evidencePrefix: string;
  readonly retentionMode: RetentionMode;
  readonly retentionDays: number;
  /** Athena's per-query scan limit (BytesScannedCutoffPerQuery), at least 10 MB. */
  readonly scanCutoffBytes: number;
  /** Days the Athena results (and the packs' working tables' files) are kept. */
  readonly resultsExpiryDays: number;
  readonly logRetentionDays: number;
  /** Scheduler cron expression of the monthly review (runs on the 1st; reviews the previous month). */
  readonly reviewCron: string;
  /** Scheduler cron expression of the review's deadline check (same month as the review). */
  readonly reviewDeadlineCron: string;
  readonly scheduleTimeZone: string;
  /** Minutes the scheduler may delay the run to spread load (flexible time window). */
  readonly flexibleWindowMinutes: number;
  /** A configuration file (see lib/config/config.ts), relative to the project root; none = defaults. */
  readonly configFile: string | undefined;
  /** An SNS topic the alarms notify, if any. */
  readonly alarmTopicArn: string | undefined;
  /** Accounts whose CloudTrail (and OCSF Parquet) partitions are projected; none = the deploying account. */
  readonly logAccounts: readonly string[] | undefined;
  /** Regions whose CloudTrail (and OCSF Parquet) partitions are projected; none = the deploying region. */
  readonly logRegions: readonly string[] | undefined;
  /** An existing Amazon Security Lake table `<database>.<table>` the OCSF source reads instead of a Parquet table of ours. */
  readonly securityLakeTable: string | undefined;
  /** Its Security Lake version, when its name does not end in `_1_0` / `_2_0`. */
  readonly securityLakeVersion: 1 | 2 | undefined;
  /**
   * An IAM principal (role, user or account root ARN) that may read the signing key's public key and
   * verify signatures with it (`kms:GetPublicKey`, `kms:Verify`, `kms:DescribeKey`): the auditor.
   */
  readonly auditorPrincipalArn: string | undefined;
  /**
   * Reserved concurrency of the on-demand function (the scheduled review gets 1): caps parallel
   * builds and Athena load, and keeps other functions from starving them. 0: none reserved (an
   * account whose concurrency limit is 10 cannot reserve any).
   */
  readonly reservedConcurrency: number;
  /** The AWS Organizations id when the CloudTrail logs come from an organization trail (`AWSLogs/<org-id>/<account>/…`). */
  readonly trailOrganizationId: string | undefined;
}

/** Per-profile defaults: prod keeps evidence immutable for seven years; dev can be cleaned up. */
export const PROFILE_DEFAULTS: Readonly<
  Record<Profile, Pick<Settings, 'retentionMode' | 'retentionDays' | 'logRetentionDays' | 'scanCutoffBytes'>>
> = {
  // 2557 days = 7 years (SOX record keeping), leap days included.
  prod: {
    retentionMode: 'COMPLIANCE',
    retentionDays: 2557,
    logRetentionDays: 365,
    scanCutoffBytes: 1024 ** 4,
  },
  dev: {
    retentionMode: 'GOVERNANCE',
    retentionDays: 1,
    logRetentionDays: 30,
    scanCutoffBytes: 100 * 1024 ** 3,
  },
};

export const CONTEXT_KEYS = [
  'name',
  'profile',
  'logsBucket',
  'logsPrefix',
  'logsKmsKeyArn',
  'evidencePrefix',
  'retentionMode',
  'retentionDays',
  'scanCutoffBytes',
  'resultsExpiryDays',
  'logRetentionDays',
  'reviewCron',
  'reviewDeadlineCron',
  'scheduleTimeZone',
  'flexibleWindowMinutes',
  'configFile',
  'alarmTopicArn',
  'logAccounts',
  'logRegions',
  'securityLakeTable',
  'securityLakeVersion',
  'auditorPrincipalArn',
  'reservedConcurrency',
  'trailOrganizationId',
] as const;

// At most 20: bucket names are `<name>-athena-results-<account>-<region>`, at most 63 characters.
const NAME = /^[a-z][a-z0-9-]{0,19}$/;
// S3 bucket naming rules (3-63 characters, lower case, digits, dots and hyphens).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Reads and checks the settings from the context of `node` (the app).
 * @throws Error naming the key, what it must be and what it was.
 */
export function readSettings(node: Node): Settings {
  const raw = (key: (typeof CONTEXT_KEYS)[number]): unknown => node.tryGetContext(key);
  return parseSettings(Object.fromEntries(CONTEXT_KEYS.map((k) => [k, raw(k)])));
}

/** {@link readSettings} over a plain object of context values (`undefined` = not set). */
export function parseSettings(context: Readonly<Record<string, unknown>>): Settings {
  const bad = (key: string, what: string): never => {
    throw new Error(`context ${key}: expected ${what}, received ${JSON.stringify(context[key])}`);
  };
  const text = (key: string): string | undefined => {
    const v = context[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return bad(key, 'a string');
    return v;
  };
  const int = (key: string, min: number, max: number): number | undefined => {
    const v = context[key];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
      return bad(key, `a whole number from ${min} to ${max}`);
    return n;
  };

  const name = text('name') ?? 'sessiontrail';
  if (!NAME.test(name)) bad('name', 'lower-case letters, digits and -, starting with a letter, at most 20');
  const profile = text('profile') ?? 'dev';
  if (profile !== 'dev' && profile !== 'prod') bad('profile', 'dev or prod');
  const defaults = PROFILE_DEFAULTS[profile as Profile];

  const logsBucket = text('logsBucket');
  if (logsBucket === undefined)
    return bad('logsBucket', 'the name of the bucket that holds the logs (-c logsBucket=my-log-bucket)');
  if (!BUCKET.test(logsBucket)) bad('logsBucket', 'an S3 bucket name');
  const logsPrefix = trimSlashes(text('logsPrefix') ?? 'logs');
  if (logsPrefix !== '' && !PREFIX.test(logsPrefix))
    bad('logsPrefix', 'an S3 key prefix such as logs or security/windows');
  const logsKmsKeyArn = text('logsKmsKeyArn');
  if (
    logsKmsKeyArn !== undefined &&
    !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-f0-9-]+$/.test(logsKmsKeyArn)
  )
    bad('logsKmsKeyArn', 'a KMS key ARN');
  const evidencePrefix = trimSlashes(text('evidencePrefix') ?? 'packs');
  if (!PREFIX.test(evidencePrefix)) bad('evidencePrefix', 'a non-empty S3 key prefix such as packs');

  const retentionMode = text('retentionMode') ?? defaults.retentionMode;
  if (retentionMode !== 'COMPLIANCE' && retentionMode !== 'GOVERNANCE')
    bad('retentionMode', 'COMPLIANCE or GOVERNANCE');
  const retentionDays = int('retentionDays', 1, 36_500) ?? defaults.retentionDays;
  // Athena refuses a cutoff below 10 MB (API reference, WorkGroupConfiguration).
  const scanCutoffBytes =
    int('scanCutoffBytes', 10_000_000, Number.MAX_SAFE_INTEGER) ?? defaults.scanCutoffBytes;
  const resultsExpiryDays = int('resultsExpiryDays', 1, 365) ?? 7;
  const logRetentionDays = int('logRetentionDays', 1, 3653) ?? defaults.logRetentionDays;
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays))
    bad('logRetentionDays', `one of CloudWatch's periods ${LOG_RETENTION_DAYS.join(', ')}`);

  const reviewCron = text('reviewCron') ?? 'cron(0 6 1 * ? *)';
  if (!/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/.test(reviewCron))
    bad('reviewCron', 'a scheduler expression cron(minutes hours day-of-month month day-of-week year)');
  const reviewDeadlineCron = text('reviewDeadlineCron') ?? 'cron(0 6 2 * ? *)';
  if (!/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/.test(reviewDeadlineCron))
    bad(
      'reviewDeadlineCron',
      'a scheduler expression cron(minutes hours day-of-month month day-of-week year)',
    );
  const scheduleTimeZone = text('scheduleTimeZone') ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: scheduleTimeZone });
  } catch {
    bad('scheduleTimeZone', 'an IANA time zone such as UTC or Europe/Berlin');
  }
  const flexibleWindowMinutes = int('flexibleWindowMinutes', 1, 1440) ?? 60;
  const configFile = text('configFile');
  const alarmTopicArn = text('alarmTopicArn');
  if (
    alarmTopicArn !== undefined &&
    !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(alarmTopicArn)
  )
    bad('alarmTopicArn', 'an SNS topic ARN');

  const list = (key: string, item: RegExp, what: string): string[] | undefined => {
    const v = context[key];
    if (v === undefined || v === null || v === '') return undefined;
    const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((x) => x.trim()) : null;
    if (items === null || items.length === 0 || !items.every((x) => typeof x === 'string' && item.test(x)))
      return bad(key, `${what}, comma-separated or a JSON list`);
    return [...new Set(items as string[])];
  };
  const logAccounts = list('logAccounts', /^\d{12}$/, '12-digit AWS account ids');
  const logRegions = list('logRegions', /^[a-z]{2}(-[a-z]+)+-\d+$/, 'AWS region names such as eu-west-1');
  const securityLakeTable = text('securityLakeTable');
  if (securityLakeTable !== undefined && !/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(securityLakeTable))
    bad(
      'securityLakeTable',
      '<database>.<table>, e.g. amazon_security_lake_glue_db_eu_west_1.amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0',
    );
  const securityLakeVersion = int('securityLakeVersion', 1, 2) as 1 | 2 | undefined;
  if (
    securityLakeTable !== undefined &&
    securityLakeVersion === undefined &&
    !/_[12]_0$/.test(securityLakeTable)
  )
    bad('securityLakeVersion', `1 or 2 (the name of ${securityLakeTable} does not say)`);

  const auditorPrincipalArn = text('auditorPrincipalArn');
  if (
    auditorPrincipalArn !== undefined &&
    !/^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/.test(auditorPrincipalArn)
  )
    bad('auditorPrincipalArn', 'an IAM role, user or account root ARN');
  const reservedConcurrency = int('reservedConcurrency', 0, 1000) ?? 2;
  const trailOrganizationId = text('trailOrganizationId');
  if (trailOrganizationId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(trailOrganizationId))
    bad('trailOrganizationId', 'an AWS Organizations id such as o-a1b2c3d4e5');

  return {
    name,
    profile: profile as Profile,
    logsBucket,
    logsPrefix,
    logsKmsKeyArn,
    evidencePrefix,
    retentionMode: retentionMode as RetentionMode,
    retentionDays,
    scanCutoffBytes,
    resultsExpiryDays,
    logRetentionDays,
    reviewCron,
    reviewDeadlineCron,
    scheduleTimeZone,
    flexibleWindowMinutes,
    configFile,
    alarmTopicArn,
    logAccounts,
    logRegions,
    securityLakeTable,
    securityLakeVersion,
    auditorPrincipalArn,
    reservedConcurrency,
    trailOrganizationId,
  };
}

function trimSlashes(value: string): string {
  return value.replace(/^\/+|\/+$/g, '');
}
