/**
 * The configuration: what counts as privileged, which accounts are suppressed (and why, by whom,
 * until when), and how far back to read for sessions that began before the window.
 *
 * A configuration file is JSON with exactly these keys (unknown keys are refused). Missing keys take
 * the defaults of {@link DEFAULT_CONFIG}; `suppress` rules in a file are added after the built-in
 * rules unless `builtin_rules` is `false`, and `privileged` criteria are added to the built-in ones
 * unless `builtin_privileged` is `false`.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SessiontrailError } from '../errors.ts';

export interface MatchSpec {
  /** Exact SIDs (case-insensitive). */
  readonly sids?: readonly string[];
  /** SID globs, `*` matching any run of characters, e.g. `S-1-5-90-*`. */
  readonly sid_patterns?: readonly string[];
  /** Account names, `name` or `DOMAIN\name` (case-insensitive). */
  readonly names?: readonly string[];
  /** Account-name globs, e.g. `*$` for machine accounts. */
  readonly name_patterns?: readonly string[];
  /** Logon types (4624 `LogonType`); a rule with this key never matches activity without a logon. */
  readonly logon_types?: readonly number[];
}

export interface SuppressionRule {
  readonly id: string;
  readonly description: string;
  readonly owner?: string;
  readonly reason?: string;
  /** `YYYY-MM-DD`: the rule applies only to windows that end on or before this day. */
  readonly expires?: string;
  /** Every key present must match (and within a key, any value). */
  readonly match: MatchSpec;
}

export interface Config {
  readonly privileged: {
    /** Privileges (4672 `PrivilegeList`) that make a session admin-equivalent. */
    readonly privileges: readonly string[];
    /** Accounts privileged by membership (from a directory snapshot): SIDs, names, SID globs. */
    readonly accounts: MatchSpec;
    /**
     * Actions that make the session that performs them privileged: globs over `source:event_code`
     * (e.g. `cloudtrail:iam.amazonaws.com:create*`). Empty by default.
     */
    readonly actions: readonly string[];
  };
  readonly suppress: readonly SuppressionRule[];
  /** Hours read before the window start, for sessions that began earlier. */
  readonly lookback_hours: number;
  /**
   * Hours without any record from a host that make a coverage gap: reported per host, and a session
   * still open when its host's data stops this long before the window end ends with the data.
   */
  readonly coverage_gap_hours: number;
  /**
   * People whose accounts in different sources are one person: each entry names the person and the
   * accounts (any spec matches) that are theirs. The pack says which spec tied each session.
   */
  readonly identities: readonly IdentitySpec[];
  /** Findings rules' thresholds, redaction and the workpaper's control reference. Absent: {@link DEFAULT_FINDINGS}. */
  readonly findings?: FindingsSettings;
  /** Linux sources. Absent: syslog stamps (auth.log) are read as UTC. */
  readonly linux?: {
    /** IANA zone of zone-less syslog stamps (auth.log / secure). */
    readonly syslog_timezone: string;
  };
}

/** Settings of the findings rules (`lib/findings/rules`). */
export interface FindingsSettings {
  /**
   * Failed logons from one source whose consecutive attempts are at most this far apart form one
   * burst (spray and brute-force findings).
   * @default 60
   */
  readonly burst_gap_seconds: number;
  /** A burst that tried at least this many distinct accounts is a password spray. @default 3 */
  readonly spray_accounts: number;
  /** A burst of at least this many attempts on fewer accounts is a brute force. @default 10 */
  readonly brute_force_attempts: number;
  /** Secrets found on command lines are replaced by `[REDACTED]` in evidence.json and the PDF. @default true */
  readonly redact_secrets: boolean;
  /** Break-glass accounts whose every logon is a finding (as root is). @default none */
  readonly break_glass: MatchSpec;
  /** The control this review evidences, printed in the PDF's sign-off block (a request may override it). @default null */
  readonly control_reference: string | null;
}

/** The findings settings a configuration without a `findings` key uses. */
export const DEFAULT_FINDINGS: FindingsSettings = {
  burst_gap_seconds: 60,
  spray_accounts: 3,
  brute_force_attempts: 10,
  redact_secrets: true,
  break_glass: {},
  control_reference: null,
};

/** The findings settings of a configuration, defaults filled in. */
export function findingsSettings(config: Config): FindingsSettings {
  return config.findings ?? DEFAULT_FINDINGS;
}

/** One person and the accounts that are theirs, across sources. */
export interface IdentitySpec {
  readonly person: string;
  readonly accounts: readonly IdentityMatch[];
}

/** An account of a person: every key present must match (within a key, any value). */
export interface IdentityMatch extends Omit<MatchSpec, 'logon_types'> {
  /** Only sessions of these sources. */
  readonly sources?: readonly string[];
  /** Source-specific session details, by name (e.g. `{ "source_identity": ["alice@corp.example"] }`). */
  readonly details?: Readonly<Record<string, readonly string[]>>;
}

/** Built-in rules: accounts that are never a person. Counted in every pack, never silently dropped. */
export const BUILTIN_RULES: readonly SuppressionRule[] = [
  {
    id: 'system-accounts',
    description: 'SYSTEM, LOCAL SERVICE, NETWORK SERVICE and ANONYMOUS LOGON (S-1-5-18/19/20/7)',
    match: { sids: ['S-1-5-18', 'S-1-5-19', 'S-1-5-20', 'S-1-5-7'] },
  },
  {
    id: 'machine-accounts',
    description: 'computer accounts (names ending in $)',
    match: { name_patterns: ['*$'] },
  },
  {
    id: 'window-manager',
    description:
      'Desktop Window Manager and font driver host sessions (DWM-*, UMFD-*; S-1-5-90-*, S-1-5-96-*)',
    match: { sid_patterns: ['S-1-5-90-*', 'S-1-5-96-*'] },
  },
];

/** Admin-equivalent privileges (domain notes §1.5, MS-4672). */
export const ADMIN_PRIVILEGES: readonly string[] = [
  'SeBackupPrivilege',
  'SeDebugPrivilege',
  'SeEnableDelegationPrivilege',
  'SeImpersonatePrivilege',
  'SeLoadDriverPrivilege',
  'SeRestorePrivilege',
  'SeSecurityPrivilege',
  'SeTakeOwnershipPrivilege',
  'SeTcbPrivilege',
];

/**
 * AWS principals privileged by name (matched against the session's ARN): the root user and IAM Identity
 * Center administrator permission sets (`AWSReservedSSO_<PermissionSet>_<suffix>`, domain notes §3.5).
 */
export const AWS_PRIVILEGED_PRINCIPALS: readonly string[] = [
  'arn:aws:iam::*:root',
  '*:assumed-role/AWSReservedSSO_AdministratorAccess_*',
];

/** Writes to IAM, STS federation, Organizations, CloudTrail and KMS (domain notes §3.5), as `cloudtrail:` and `ocsf:` globs. */
export const AWS_PRIVILEGED_ACTIONS: readonly string[] = [
  ...[
    'create',
    'delete',
    'attach',
    'detach',
    'put',
    'update',
    'add',
    'remove',
    'upload',
    'set',
    'change',
    'reset',
    'enable',
    'deactivate',
  ].map((verb) => `iam.amazonaws.com:${verb}*`),
  'sts.amazonaws.com:getfederationtoken',
  ...[
    'create',
    'delete',
    'leave',
    'remove',
    'invite',
    'attach',
    'detach',
    'update',
    'enable',
    'disable',
    'move',
    'register',
    'deregister',
  ].map((verb) => `organizations.amazonaws.com:${verb}*`),
  ...['stop', 'delete', 'update', 'put', 'create'].map((verb) => `cloudtrail.amazonaws.com:${verb}*`),
  ...['schedule', 'disable', 'put', 'create', 'delete', 'revoke', 'update', 'import'].map(
    (verb) => `kms.amazonaws.com:${verb}*`,
  ),
].flatMap((action) => [`cloudtrail:${action}`, `ocsf:${action}`]);

export const DEFAULT_CONFIG: Config = {
  privileged: {
    privileges: ADMIN_PRIVILEGES,
    accounts: { sid_patterns: ['S-1-5-21-*-500', ...AWS_PRIVILEGED_PRINCIPALS] },
    actions: AWS_PRIVILEGED_ACTIONS,
  },
  suppress: BUILTIN_RULES,
  lookback_hours: 24,
  coverage_gap_hours: 24,
  identities: [],
};

const PRIVILEGE_NAME = /^Se[A-Za-z]+Privilege$/;
const RULE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const text = z.string().refine((v) => v.trim() !== '', 'must be a non-empty string');
const texts = z.array(text);
const MATCH_KEYS = {
  sids: texts.optional(),
  sid_patterns: texts.optional(),
  names: texts.optional(),
  name_patterns: texts.optional(),
};
const matchSchema = z
  .object({ ...MATCH_KEYS, logon_types: z.array(z.number().int().min(0).max(13)).optional() })
  .strict();
const knownZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/**
 * The configuration file's shape: every object strict (an unknown key is refused, so a typo never
 * silently drops a criterion), every value checked.
 */
export const CONFIG_FILE_SCHEMA = z
  .object({
    $schema: z.string().optional(),
    privileged: z
      .object({
        privileges: z.array(z.string().regex(PRIVILEGE_NAME, 'holds names like SeDebugPrivilege')).optional(),
        accounts: matchSchema.optional(),
        actions: texts.optional(),
      })
      .strict()
      .optional(),
    builtin_privileged: z.boolean().optional(),
    suppress: z
      .array(
        z
          .object({
            id: z.string().regex(RULE_ID, 'must be lower-case letters, digits and -'),
            description: text,
            owner: z.string().optional(),
            reason: z.string().optional(),
            expires: z
              .string()
              .regex(DAY, 'must be a day YYYY-MM-DD')
              .refine((d) => !Number.isNaN(Date.parse(d)), 'must be a day YYYY-MM-DD')
              .optional(),
            match: matchSchema.refine((m) => Object.keys(m).length > 0, 'must name at least one criterion'),
          })
          .strict(),
      )
      .optional(),
    builtin_rules: z.boolean().optional(),
    lookback_hours: z
      .number()
      .int()
      .min(0)
      .max(24 * 31)
      .optional(),
    coverage_gap_hours: z
      .number()
      .positive()
      .max(24 * 366)
      .optional(),
    identities: z
      .array(
        z
          .object({
            person: text,
            accounts: z
              .array(
                z
                  .object({ ...MATCH_KEYS, sources: texts.optional(), details: z.record(texts).optional() })
                  .strict()
                  .refine(
                    (a) => Object.keys(a).some((k) => k !== 'sources'),
                    'must name at least one account criterion',
                  ),
                {
                  required_error: 'must be a non-empty list',
                  invalid_type_error: 'must be a non-empty list',
                },
              )
              .min(1, 'must be a non-empty list'),
          })
          .strict(),
      )
      .optional(),
    linux: z
      .object({
        syslog_timezone: z
          .string()
          .refine(knownZone, 'must be an IANA time zone such as UTC or Europe/Paris')
          .optional(),
      })
      .strict()
      .optional(),
    findings: z
      .object({
        burst_gap_seconds: z.number().int().min(1).max(86_400).optional(),
        spray_accounts: z.number().int().min(1).max(86_400).optional(),
        brute_force_attempts: z.number().int().min(1).max(86_400).optional(),
        redact_secrets: z.boolean().optional(),
        break_glass: matchSchema.optional(),
        control_reference: text.nullable().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Values of the built-in list first, then the file's, each once. */
function union(builtin: readonly string[] | undefined, own: readonly string[] | undefined): string[] {
  return [...new Set([...(builtin ?? []), ...(own ?? [])])];
}

/** The built-in account criteria with the file's added, key by key (values within a key are ORed). */
function mergeAccounts(builtin: MatchSpec, own: MatchSpec | undefined): MatchSpec {
  if (own === undefined) return builtin;
  const out: Record<string, unknown> = {};
  for (const k of ['sids', 'sid_patterns', 'names', 'name_patterns'] as const) {
    const values = union(builtin[k], own[k]);
    if (values.length > 0) out[k] = values;
  }
  const types = [...new Set([...(builtin.logon_types ?? []), ...(own.logon_types ?? [])])];
  if (types.length > 0) out.logon_types = types;
  return out as MatchSpec;
}

/**
 * Parses and validates a configuration object. Built-in privileged criteria (admin privileges, the
 * RID-500 and AWS root / SSO-administrator patterns, the privileged AWS actions) are kept and the
 * file's criteria added to them, as built-in suppression rules are, unless the file says
 * `builtin_privileged: false` (then only its own criteria count).
 * @throws SessiontrailError `BAD_CONFIG` naming the first bad key or value.
 */
export function parseConfig(input: unknown, origin = 'configuration'): Config {
  const parsed = CONFIG_FILE_SCHEMA.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.ZodIssue;
    // `identities[0].accounts`, as a reader of the file names the place
    const where = issue.path
      .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`))
      .join('');
    const got = issue.path.reduce<unknown>(
      (v, k) =>
        v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined,
      input,
    );
    const what =
      issue.code === 'unrecognized_keys'
        ? `unknown key ${issue.keys.map((k) => (where === '' ? k : `${where}.${k}`)).join(', ')}`
        : `${where === '' ? 'the configuration' : where} ${issue.message}`;
    throw new SessiontrailError('BAD_CONFIG', `${origin}: ${what}, received ${JSON.stringify(got)}`, {
      cause: parsed.error,
    });
  }
  const file = parsed.data;
  const bad = (what: string, got: unknown): never => {
    throw new SessiontrailError('BAD_CONFIG', `${origin}: ${what}, received ${JSON.stringify(got)}`);
  };

  const builtinPrivileged = file.builtin_privileged ?? true;
  const base = builtinPrivileged
    ? DEFAULT_CONFIG.privileged
    : ({ privileges: [], accounts: {}, actions: [] } satisfies Config['privileged']);
  const privileged: Config['privileged'] = {
    privileges: union(base.privileges, file.privileged?.privileges),
    accounts: builtinPrivileged
      ? mergeAccounts(base.accounts, file.privileged?.accounts as MatchSpec | undefined)
      : ((file.privileged?.accounts ?? {}) as MatchSpec),
    actions: union(base.actions, file.privileged?.actions),
  };

  const own = (file.suppress ?? []).map(
    (r): SuppressionRule => ({
      id: r.id,
      description: r.description,
      ...(r.owner === undefined ? {} : { owner: r.owner }),
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      ...(r.expires === undefined ? {} : { expires: r.expires }),
      match: r.match as MatchSpec,
    }),
  );
  const suppress = [...((file.builtin_rules ?? true) ? BUILTIN_RULES : []), ...own];
  const ids = new Set<string>();
  for (const r of suppress) {
    if (ids.has(r.id)) bad('suppress rule ids must be unique', r.id);
    ids.add(r.id);
  }

  const people = new Set<string>();
  const identities = (file.identities ?? []).map((entry): IdentitySpec => {
    const person = entry.person.trim();
    if (people.has(person)) bad('identities must name each person once', person);
    people.add(person);
    return { person, accounts: entry.accounts as IdentityMatch[] };
  });

  return {
    privileged,
    suppress,
    lookback_hours: file.lookback_hours ?? DEFAULT_CONFIG.lookback_hours,
    coverage_gap_hours: file.coverage_gap_hours ?? DEFAULT_CONFIG.coverage_gap_hours,
    identities,
    ...(file.findings === undefined
      ? {}
      : {
          findings: {
            burst_gap_seconds: file.findings.burst_gap_seconds ?? DEFAULT_FINDINGS.burst_gap_seconds,
            spray_accounts: file.findings.spray_accounts ?? DEFAULT_FINDINGS.spray_accounts,
            brute_force_attempts: file.findings.brute_force_attempts ?? DEFAULT_FINDINGS.brute_force_attempts,
            redact_secrets: file.findings.redact_secrets ?? DEFAULT_FINDINGS.redact_secrets,
            break_glass: (file.findings.break_glass ?? {}) as MatchSpec,
            control_reference: file.findings.control_reference ?? null,
          },
        }),
    ...(file.linux === undefined ? {} : { linux: { syslog_timezone: file.linux.syslog_timezone ?? 'UTC' } }),
  };
}

/**
 * Reads a configuration file.
 * @throws SessiontrailError `BAD_CONFIG` when unreadable, not JSON, or invalid.
 */
export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SessiontrailError('BAD_CONFIG', `cannot read configuration file ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SessiontrailError('BAD_CONFIG', `${path} is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseConfig(json, path);
}

/** Turns a `*` glob into an anchored, case-insensitive-by-lowering regular expression. */
export function globToRegex(glob: string): string {
  return `^${glob
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')}$`;
}
