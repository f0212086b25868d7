/**
 * The deployment settings: read once from the CDK context (`cdk.json` or `-c key=value`), checked,
 * with zod, and given defaults from one table ({@link SETTING_DEFAULTS}). Precedence: `-c` option →
 * `cdk.json` context → default. Every key is documented in `infra/README.md`.
 */
import type { Node } from 'constructs';
import { z } from 'zod';

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
   * `json`: the OCSF files under `<logsPrefix>/ocsf/` are JSON (lines, documents, arrays), read
   * through per-record staged copies (lib/sources/ocsf-raw-table.ts `OCSF_JSON_TABLE`); unset: Parquet.
   */
  readonly ocsfFormat: 'json' | undefined;
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
  /** Minutes one pack's execution may run before it times out (the state machine's deadline). */
  readonly packDeadlineMinutes: number;
  /** Bytes one pack's queries may scan; the finish stage refuses to seal above it. */
  readonly maxBytesScannedPerPack: number;
}

/** A default that depends on the profile. */
type ByProfile<T> = Readonly<Record<Profile, T>>;

/**
 * Every setting's default, the one table: `parseSettings` reads it, the constructs fall back to it
 * (their prod values: a construct used on its own keeps evidence immutable), `infra/README.md`'s
 * table states it (`test/infra/settings.test.ts` compares them) and `cdk.json` carries none, so
 * that no two places can disagree. Settings not in it have no default (`logsBucket` is required;
 * the others are off when unset).
 */
export const SETTING_DEFAULTS = {
  name: 'sessiontrail',
  profile: 'dev',
  logsPrefix: 'logs',
  evidencePrefix: 'packs',
  retentionMode: { prod: 'COMPLIANCE', dev: 'GOVERNANCE' },
  // 2557 days = 7 years (SOX record keeping), leap days included; dev packs can be cleaned up.
  retentionDays: { prod: 2557, dev: 1 },
  scanCutoffBytes: { prod: 1024 ** 4, dev: 100 * 1024 ** 3 },
  resultsExpiryDays: 7,
  logRetentionDays: { prod: 365, dev: 30 },
  reviewCron: 'cron(0 6 1 * ? *)',
  reviewDeadlineCron: 'cron(0 6 2 * ? *)',
  scheduleTimeZone: 'UTC',
  flexibleWindowMinutes: 60,
  reservedConcurrency: 2,
  // Each stage has a Lambda's 15 minutes; 6 hours bound a fleet's month with retries.
  packDeadlineMinutes: 360,
  // Ten statements at the per-query cutoff: a bound on the whole pack, not only on one statement.
  maxBytesScannedPerPack: { prod: 10 * 1024 ** 4, dev: 10 * 100 * 1024 ** 3 },
} as const satisfies { readonly [K in keyof Settings]?: Settings[K] | ByProfile<Settings[K]> };

type ProfileDefaulted = {
  [K in keyof typeof SETTING_DEFAULTS]: (typeof SETTING_DEFAULTS)[K] extends ByProfile<unknown> ? K : never;
}[keyof typeof SETTING_DEFAULTS];

/** The defaults that depend on the profile, per profile (from {@link SETTING_DEFAULTS}). */
export const PROFILE_DEFAULTS: ByProfile<Pick<Settings, ProfileDefaulted>> = {
  prod: profileDefaults('prod'),
  dev: profileDefaults('dev'),
};

function profileDefaults(profile: Profile): Pick<Settings, ProfileDefaulted> {
  const d = SETTING_DEFAULTS;
  return {
    retentionMode: d.retentionMode[profile],
    retentionDays: d.retentionDays[profile],
    scanCutoffBytes: d.scanCutoffBytes[profile],
    logRetentionDays: d.logRetentionDays[profile],
    maxBytesScannedPerPack: d.maxBytesScannedPerPack[profile],
  };
}

// At most 20: bucket names are `<name>-athena-results-<account>-<region>`, at most 63 characters.
const NAME = /^[a-z][a-z0-9-]{0,19}$/;
// S3 bucket naming rules (3-63 characters, lower case, digits, dots and hyphens).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
const CRON = /^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/;
/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Unset: absent, null or empty (`-c key=` gives ''). */
const unset = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : v);

/** An optional text; `what` is the message's "expected …". */
function text(what: string, valid: (v: string) => boolean = () => true) {
  return z.preprocess(unset, z.string({ invalid_type_error: 'a string' }).refine(valid, what).optional());
}

/** An optional whole number in [min, max]; `-c` gives it as a string. */
function int(min: number, max: number, what = `a whole number from ${min} to ${max}`) {
  return z.preprocess(
    (v) => (typeof unset(v) === 'string' ? Number(v) : unset(v)),
    z
      .number({ invalid_type_error: what })
      .refine((n) => Number.isInteger(n) && n >= min && n <= max, what)
      .optional(),
  );
}

/** An optional list, comma-separated (`-c`) or a JSON list (`cdk.json`); de-duplicated. */
function list(item: RegExp, what: string) {
  const message = `${what}, comma-separated or a JSON list`;
  return z.preprocess(
    (v) => (typeof unset(v) === 'string' ? (v as string).split(',').map((x) => x.trim()) : unset(v)),
    z
      .array(z.string({ invalid_type_error: message }).regex(item, message), { invalid_type_error: message })
      .min(1, message)
      .transform((items) => [...new Set(items)])
      .optional(),
  );
}

const CRON_WHAT = 'a scheduler expression cron(minutes hours day-of-month month day-of-week year)';

/**
 * The context keys and the check of each (unset: the default applies). Messages are the "expected
 * …" of the refusal.
 */
const CONTEXT_SCHEMA = z
  .object({
    name: text('lower-case letters, digits and -, starting with a letter, at most 20', (v) => NAME.test(v)),
    profile: z.preprocess(unset, z.enum(['dev', 'prod'], { message: 'dev or prod' }).optional()),
    logsBucket: z.preprocess(
      unset,
      z
        .string({
          required_error: 'the name of the bucket that holds the logs (-c logsBucket=my-log-bucket)',
          invalid_type_error: 'a string',
        })
        .regex(BUCKET, 'an S3 bucket name'),
    ),
    logsPrefix: text('an S3 key prefix such as logs or security/windows', (v) => {
      const t = trimSlashes(v);
      return t === '' || PREFIX.test(t);
    }),
    logsKmsKeyArn: text('a KMS key ARN', (v) =>
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-f0-9-]+$/.test(v),
    ),
    evidencePrefix: text('a non-empty S3 key prefix such as packs', (v) => PREFIX.test(trimSlashes(v))),
    retentionMode: z.preprocess(
      unset,
      z.enum(['COMPLIANCE', 'GOVERNANCE'], { message: 'COMPLIANCE or GOVERNANCE' }).optional(),
    ),
    retentionDays: int(1, 36_500),
    // Athena refuses a cutoff below 10 MB (API reference, WorkGroupConfiguration).
    scanCutoffBytes: int(10_000_000, Number.MAX_SAFE_INTEGER),
    resultsExpiryDays: int(1, 365),
    logRetentionDays: int(1, 3653, `one of CloudWatch's periods ${LOG_RETENTION_DAYS.join(', ')}`).refine(
      (n) => n === undefined || LOG_RETENTION_DAYS.includes(n),
      `one of CloudWatch's periods ${LOG_RETENTION_DAYS.join(', ')}`,
    ),
    reviewCron: text(CRON_WHAT, (v) => CRON.test(v)),
    reviewDeadlineCron: text(CRON_WHAT, (v) => CRON.test(v)),
    scheduleTimeZone: text('an IANA time zone such as UTC or Europe/Berlin', isTimeZone),
    flexibleWindowMinutes: int(1, 1440),
    configFile: text('a file path'),
    alarmTopicArn: text('an SNS topic ARN', (v) =>
      /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(v),
    ),
    logAccounts: list(/^\d{12}$/, '12-digit AWS account ids'),
    logRegions: list(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'AWS region names such as eu-west-1'),
    securityLakeTable: text(
      '<database>.<table>, e.g. amazon_security_lake_glue_db_eu_west_1.amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0',
      (v) => /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(v),
    ),
    securityLakeVersion: int(1, 2),
    ocsfFormat: text('json (unset: Parquet)', (v) => v === 'json'),
    auditorPrincipalArn: text('an IAM role, user or account root ARN', (v) =>
      /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/.test(v),
    ),
    reservedConcurrency: int(0, 1000),
    trailOrganizationId: text('an AWS Organizations id such as o-a1b2c3d4e5', (v) =>
      /^o-[a-z0-9]{10,32}$/.test(v),
    ),
    packDeadlineMinutes: int(15, 1440),
    maxBytesScannedPerPack: int(10_000_000, Number.MAX_SAFE_INTEGER),
  })
  .superRefine((c, ctx) => {
    if (
      c.securityLakeTable !== undefined &&
      c.securityLakeVersion === undefined &&
      !/_[12]_0$/.test(c.securityLakeTable)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['securityLakeVersion'],
        message: `1 or 2 (the name of ${c.securityLakeTable} does not say)`,
      });
  });

/** The context keys the settings read (`cdk.json` or `-c key=value`), each documented in `infra/README.md`. */
export const CONTEXT_KEYS = Object.keys(CONTEXT_SCHEMA.innerType().shape) as readonly (keyof Settings)[];

/**
 * Reads and checks the settings from the context of `node` (the app).
 * @throws Error naming each bad key, what it must be and what it was.
 */
export function readSettings(node: Node): Settings {
  return parseSettings(Object.fromEntries(CONTEXT_KEYS.map((k) => [k, node.tryGetContext(k)])));
}

/** {@link readSettings} over a plain object of context values (`undefined` = not set). */
export function parseSettings(context: Readonly<Record<string, unknown>>): Settings {
  const parsed = CONTEXT_SCHEMA.safeParse(context);
  if (!parsed.success)
    throw new Error(
      parsed.error.issues
        .map((i) => {
          const key = String(i.path[0]);
          return `context ${key}: expected ${i.message}, received ${JSON.stringify(context[key])}`;
        })
        .join('; '),
    );
  const c = parsed.data;
  const d = SETTING_DEFAULTS;
  const profile = c.profile ?? d.profile;
  return {
    name: c.name ?? d.name,
    profile,
    logsBucket: c.logsBucket,
    logsPrefix: trimSlashes(c.logsPrefix ?? d.logsPrefix),
    logsKmsKeyArn: c.logsKmsKeyArn,
    evidencePrefix: trimSlashes(c.evidencePrefix ?? d.evidencePrefix),
    retentionMode: c.retentionMode ?? d.retentionMode[profile],
    retentionDays: c.retentionDays ?? d.retentionDays[profile],
    scanCutoffBytes: c.scanCutoffBytes ?? d.scanCutoffBytes[profile],
    resultsExpiryDays: c.resultsExpiryDays ?? d.resultsExpiryDays,
    logRetentionDays: c.logRetentionDays ?? d.logRetentionDays[profile],
    reviewCron: c.reviewCron ?? d.reviewCron,
    reviewDeadlineCron: c.reviewDeadlineCron ?? d.reviewDeadlineCron,
    scheduleTimeZone: c.scheduleTimeZone ?? d.scheduleTimeZone,
    flexibleWindowMinutes: c.flexibleWindowMinutes ?? d.flexibleWindowMinutes,
    configFile: c.configFile,
    alarmTopicArn: c.alarmTopicArn,
    logAccounts: c.logAccounts,
    logRegions: c.logRegions,
    securityLakeTable: c.securityLakeTable,
    securityLakeVersion: c.securityLakeVersion as 1 | 2 | undefined,
    ocsfFormat: c.ocsfFormat as 'json' | undefined,
    auditorPrincipalArn: c.auditorPrincipalArn,
    reservedConcurrency: c.reservedConcurrency ?? d.reservedConcurrency,
    trailOrganizationId: c.trailOrganizationId,
    packDeadlineMinutes: c.packDeadlineMinutes ?? d.packDeadlineMinutes,
    maxBytesScannedPerPack: c.maxBytesScannedPerPack ?? d.maxBytesScannedPerPack[profile],
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function trimSlashes(value: string): string {
  return value.replace(/^\/+|\/+$/g, '');
}
