/**
 * The configuration: what counts as privileged, which accounts are suppressed (and why, by whom,
 * until when), and how far back to read for sessions that began before the window.
 *
 * A configuration file is JSON with exactly these keys (unknown keys are refused). Missing keys take
 * the defaults of {@link DEFAULT_CONFIG}; `suppress` rules in a file are added after the built-in
 * rules unless `builtin_rules` is `false`.
 */
import { readFile } from 'node:fs/promises';
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
   * People whose accounts in different sources are one person: each entry names the person and the
   * accounts (any spec matches) that are theirs. The pack says which spec tied each session.
   */
  readonly identities: readonly IdentitySpec[];
  /** Linux sources. Absent: syslog stamps (auth.log) are read as UTC. */
  readonly linux?: {
    /** IANA zone of zone-less syslog stamps (auth.log / secure). */
    readonly syslog_timezone: string;
  };
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
  identities: [],
};

const PRIVILEGE_NAME = /^Se[A-Za-z]+Privilege$/;
const RULE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses and validates a configuration object.
 * @throws SessiontrailError `BAD_CONFIG` naming the first bad key or value.
 */
export function parseConfig(input: unknown, origin = 'configuration'): Config {
  const bad = (what: string, got: unknown): never => {
    throw new SessiontrailError('BAD_CONFIG', `${origin}: ${what}, received ${JSON.stringify(got)}`);
  };
  if (!isObject(input)) return bad('expected a JSON object', input);
  refuseUnknown(
    input,
    ['privileged', 'suppress', 'builtin_rules', 'lookback_hours', 'identities', 'linux', '$schema'],
    origin,
    '',
  );

  let privileged = DEFAULT_CONFIG.privileged;
  if (input.privileged !== undefined) {
    const p = input.privileged;
    if (!isObject(p)) return bad('privileged must be an object', p);
    refuseUnknown(p, ['privileges', 'accounts', 'actions'], origin, 'privileged.');
    const privileges =
      p.privileges === undefined ? ADMIN_PRIVILEGES : stringList(p.privileges, 'privileged.privileges', bad);
    for (const name of privileges)
      if (!PRIVILEGE_NAME.test(name)) bad('privileged.privileges holds names like SeDebugPrivilege', name);
    const accounts =
      p.accounts === undefined
        ? DEFAULT_CONFIG.privileged.accounts
        : matchSpec(p.accounts, 'privileged.accounts', origin, bad);
    const actions =
      p.actions === undefined
        ? DEFAULT_CONFIG.privileged.actions
        : stringList(p.actions, 'privileged.actions', bad);
    privileged = { privileges, accounts, actions };
  }

  const builtin = input.builtin_rules === undefined ? true : input.builtin_rules;
  if (typeof builtin !== 'boolean') return bad('builtin_rules must be true or false', builtin);
  const own: SuppressionRule[] = [];
  if (input.suppress !== undefined) {
    if (!Array.isArray(input.suppress)) return bad('suppress must be a list of rules', input.suppress);
    for (const [i, r] of (input.suppress as unknown[]).entries()) {
      const where = `suppress[${i}]`;
      if (!isObject(r)) bad(`${where} must be an object`, r);
      if (!isObject(r)) continue;
      refuseUnknown(r, ['id', 'description', 'owner', 'reason', 'expires', 'match'], origin, `${where}.`);
      if (typeof r.id !== 'string' || !RULE_ID.test(r.id))
        bad(`${where}.id must be lower-case letters, digits and -`, r.id);
      if (typeof r.description !== 'string' || r.description === '')
        bad(`${where}.description must be a non-empty string`, r.description);
      for (const k of ['owner', 'reason'] as const)
        if (r[k] !== undefined && typeof r[k] !== 'string') bad(`${where}.${k} must be a string`, r[k]);
      if (
        r.expires !== undefined &&
        (typeof r.expires !== 'string' || !DAY.test(r.expires) || Number.isNaN(Date.parse(r.expires)))
      )
        bad(`${where}.expires must be a day YYYY-MM-DD`, r.expires);
      const match = matchSpec(r.match, `${where}.match`, origin, bad);
      if (Object.keys(match).length === 0) bad(`${where}.match must name at least one criterion`, r.match);
      own.push({
        id: r.id as string,
        description: r.description as string,
        ...(r.owner === undefined ? {} : { owner: r.owner as string }),
        ...(r.reason === undefined ? {} : { reason: r.reason as string }),
        ...(r.expires === undefined ? {} : { expires: r.expires as string }),
        match,
      });
    }
  }
  const suppress = [...(builtin ? BUILTIN_RULES : []), ...own];
  const ids = new Set<string>();
  for (const r of suppress) {
    if (ids.has(r.id)) bad('suppress rule ids must be unique', r.id);
    ids.add(r.id);
  }

  const lookback = input.lookback_hours ?? DEFAULT_CONFIG.lookback_hours;
  if (typeof lookback !== 'number' || !Number.isInteger(lookback) || lookback < 0 || lookback > 24 * 31)
    bad('lookback_hours must be a whole number from 0 to 744', lookback);

  const identities = parseIdentities(input.identities, origin, bad);

  const linux = parseLinux(input.linux, origin, bad);

  return {
    privileged,
    suppress,
    lookback_hours: lookback as number,
    identities,
    ...(linux === undefined ? {} : { linux }),
  };
}

/** `linux.syslog_timezone`: an IANA zone the runtime knows (default UTC). */
function parseLinux(
  value: unknown,
  origin: string,
  bad: (w: string, g: unknown) => never,
): Config['linux'] | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return bad('linux must be an object', value);
  refuseUnknown(value, ['syslog_timezone'], origin, 'linux.');
  const zone = value.syslog_timezone ?? 'UTC';
  let known = typeof zone === 'string' && zone !== '';
  try {
    if (known) new Intl.DateTimeFormat('en', { timeZone: zone as string });
  } catch {
    known = false;
  }
  if (!known) bad('linux.syslog_timezone must be an IANA time zone such as UTC or Europe/Paris', zone);
  return { syslog_timezone: zone as string };
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

function parseIdentities(
  value: unknown,
  origin: string,
  bad: (w: string, g: unknown) => never,
): IdentitySpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return bad('identities must be a list of { person, accounts }', value);
  const people = new Set<string>();
  return value.map((entry: unknown, i: number) => {
    const where = `identities[${i}]`;
    if (!isObject(entry)) return bad(`${where} must be an object`, entry);
    refuseUnknown(entry, ['person', 'accounts'], origin, `${where}.`);
    if (typeof entry.person !== 'string' || entry.person.trim() === '')
      bad(`${where}.person must be a non-empty string`, entry.person);
    const person = (entry.person as string).trim();
    if (people.has(person)) bad('identities must name each person once', person);
    people.add(person);
    if (!Array.isArray(entry.accounts) || entry.accounts.length === 0)
      bad(`${where}.accounts must be a non-empty list`, entry.accounts);
    const accounts = (entry.accounts as unknown[]).map((a, j) => {
      const at = `${where}.accounts[${j}]`;
      if (!isObject(a)) return bad(`${at} must be an object`, a);
      refuseUnknown(
        a,
        ['sids', 'sid_patterns', 'names', 'name_patterns', 'sources', 'details'],
        origin,
        `${at}.`,
      );
      const { details, sources, ...rest } = a;
      const spec: Record<string, unknown> = { ...matchSpec(rest, at, origin, bad) };
      if (sources !== undefined) spec.sources = stringList(sources, `${at}.sources`, bad);
      if (details !== undefined) {
        if (!isObject(details)) bad(`${at}.details must map a detail name to a list of values`, details);
        spec.details = Object.fromEntries(
          Object.entries(details as Record<string, unknown>).map(([k, v]) => [
            k,
            stringList(v, `${at}.details.${k}`, bad),
          ]),
        );
      }
      if (Object.keys(spec).filter((k) => k !== 'sources').length === 0)
        bad(`${at} must name at least one account criterion`, a);
      return spec as IdentityMatch;
    });
    return { person, accounts };
  });
}

function matchSpec(
  value: unknown,
  where: string,
  origin: string,
  bad: (w: string, g: unknown) => never,
): MatchSpec {
  if (!isObject(value)) return bad(`${where} must be an object`, value);
  refuseUnknown(
    value,
    ['sids', 'sid_patterns', 'names', 'name_patterns', 'logon_types'],
    origin,
    `${where}.`,
  );
  const spec: Record<string, unknown> = {};
  for (const k of ['sids', 'sid_patterns', 'names', 'name_patterns'] as const) {
    if (value[k] !== undefined) spec[k] = stringList(value[k], `${where}.${k}`, bad);
  }
  if (value.logon_types !== undefined) {
    const types = value.logon_types;
    if (!Array.isArray(types) || types.some((t) => !Number.isInteger(t) || t < 0 || t > 13))
      bad(`${where}.logon_types must be a list of logon types 0-13`, types);
    spec.logon_types = types;
  }
  return spec as MatchSpec;
}

function stringList(value: unknown, where: string, bad: (w: string, g: unknown) => never): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === ''))
    return bad(`${where} must be a list of non-empty strings`, value);
  return value as string[];
}

function refuseUnknown(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  origin: string,
  prefix: string,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new SessiontrailError(
        'BAD_CONFIG',
        `${origin}: unknown key ${prefix}${key}; allowed: ${allowed.join(', ')}`,
      );
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
