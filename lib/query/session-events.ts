/**
 * The contract between the sources and the reconstruction (kept beside the reconstruction, which
 * reads it, so both sides import it without a folder cycle): what a source tells the rest of the
 * tool about itself. Each source (`lib/sources/<name>.ts`) maps its raw records to normalised
 * session events (DESIGN.md, decision 3) and declares its traits here.
 */

export interface SourceTraits {
  /** The source logs a privilege assignment at logon (Windows 4672). */
  readonly privilegeEvents: boolean;
  /** The source logs logoffs (Windows 4634/4647); else sessions end by the source's end hint. */
  readonly logoffEvents: boolean;
  /**
   * Prefixes of session ids the source gives activity that belongs to no login session (auditd's
   * unset `ses`, a sudo line no open session explains): their orphan groups say so.
   */
  readonly orphanMarkers?: readonly string[];
  /** An administrator's logon comes as two linked logons, a UAC split-token pair (Windows, MS-UAC). */
  readonly splitTokenPairs?: boolean;
  /** `linked_session_uid` names the credentials a session was assumed from (CloudTrail role chains). */
  readonly credentialChains?: boolean;
}

/**
 * What happened, in the reconstruction's words. A source maps each of its event codes to one kind;
 * the reconstruction never reads a source's codes (DESIGN.md, decision 3).
 */
export const SESSION_EVENT_KINDS = [
  'logon',
  'logoff',
  'privilege',
  'activity',
  'failed_logon',
  'boot',
  'shutdown',
  'integrity',
  'reconnect',
  'disconnect',
] as const;

export type SessionEventKind = (typeof SESSION_EVENT_KINDS)[number];

/** How a raw record was classified: used as a session event, skipped (not ours), or rejected (broken). */
export const LINE_STATUSES = ['event', 'skipped', 'rejected'] as const;

export type LineStatus = (typeof LINE_STATUSES)[number];

/** A column of the classified-lines table, its SQL type as DuckDB describes it, and what it holds. */
export interface ClassifiedColumn {
  readonly name: string;
  readonly type: 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'BOOLEAN';
  readonly meaning: string;
}

/**
 * The classified-lines table every source's normalising query produces (`<source>_lines`), in
 * this order: one row per raw record, whatever became of it. The reconstruction reads only these
 * columns; `test/sources/session-events-contract.test.ts` runs every source on DuckDB and compares
 * its table with this list, column by column. Names follow OCSF where one fits.
 */
export const CLASSIFIED_COLUMNS = [
  { name: 'status', type: 'VARCHAR', meaning: 'event, skipped or rejected (LINE_STATUSES)' },
  { name: 'reason', type: 'VARCHAR', meaning: 'why a record was skipped or rejected; NULL for an event' },
  { name: 'source', type: 'VARCHAR', meaning: 'the source name (windows, linux_auditd, …)' },
  {
    name: 'host',
    type: 'VARCHAR',
    meaning: 'where the session lives (computer; for CloudTrail the account)',
  },
  {
    name: 'record_no',
    type: 'BIGINT',
    meaning: "the source's record number, for order within a millisecond",
  },
  {
    name: 'record_uid',
    type: 'VARCHAR',
    meaning: "the source's natural unique key: duplicates collapse on it",
  },
  { name: 'event_code', type: 'VARCHAR', meaning: '4624, USER_LOGIN, AssumeRole, …' },
  { name: 'kind', type: 'VARCHAR', meaning: 'SESSION_EVENT_KINDS' },
  { name: 'time_ms', type: 'BIGINT', meaning: 'event time, UTC, milliseconds since the epoch' },
  {
    name: 'time_field',
    type: 'VARCHAR',
    meaning: 'which field of the record gave the time (the pack counts them)',
  },
  {
    name: 'session_uid',
    type: 'VARCHAR',
    meaning: 'what ties activity to its session on that host (logon id, ses, key)',
  },
  {
    name: 'linked_session_uid',
    type: 'VARCHAR',
    meaning: 'UAC partner logon, or the credentials a role session came from',
  },
  { name: 'user_uid', type: 'VARCHAR', meaning: 'SID, uid or ARN' },
  { name: 'user_name', type: 'VARCHAR', meaning: 'account name' },
  { name: 'user_domain', type: 'VARCHAR', meaning: 'domain, or the account the name belongs to' },
  { name: 'logon_type_id', type: 'INTEGER', meaning: 'OCSF logon type' },
  { name: 'is_elevated', type: 'BOOLEAN', meaning: 'elevated token' },
  { name: 'privileges', type: 'VARCHAR', meaning: 'privilege list' },
  { name: 'src_ip', type: 'VARCHAR', meaning: 'where the session came from' },
  { name: 'src_host', type: 'VARCHAR', meaning: 'the workstation it came from, where logged' },
  { name: 'process', type: 'VARCHAR', meaning: 'the process that acted' },
  { name: 'parent_process', type: 'VARCHAR', meaning: 'its parent' },
  { name: 'command_line', type: 'VARCHAR', meaning: 'its command line' },
  { name: 'action', type: 'VARCHAR', meaning: "what happened, in the reconstruction's vocabulary" },
  { name: 'target', type: 'VARCHAR', meaning: 'what it happened to (account, group, object, API resource)' },
  { name: 'logon_process', type: 'VARCHAR', meaning: 'logon process (Windows)' },
  { name: 'auth_package', type: 'VARCHAR', meaning: 'authentication package (Windows)' },
  {
    name: 'end_hint_ms',
    type: 'BIGINT',
    meaning: 'when the session ends if no logoff says so (credential expiry, …)',
  },
  { name: 'end_hint', type: 'VARCHAR', meaning: 'what that end is' },
  { name: 'details', type: 'VARCHAR', meaning: "a JSON object of the source's own facts, shown in the pack" },
  { name: 'raw_ref', type: 'VARCHAR', meaning: 'where the record came from: object key and record position' },
  { name: 'object_key', type: 'VARCHAR', meaning: 'the object (file) the record came from' },
] as const satisfies readonly ClassifiedColumn[];

/**
 * The start of the `record_uid` part of a record that carries no record number of its own (a
 * Windows layout without one) and is identified by its file and line instead: such a record is
 * never collapsed with another (two identical lines are two records), so a copy delivered twice is
 * counted twice. The pack counts these records and says so.
 */
export const LINE_IDENTITY_PREFIX = 'line:';

/**
 * The `action` of a logon that no record logged but a source derived from activity (a CloudTrail
 * long-term key's first call): its session's start is inferred, and the verdict says so.
 */
export const INFERRED_LOGON_ACTION = 'logon_inferred_from_activity';

/** The name of every classified column, in order. */
export type ClassifiedColumnName = (typeof CLASSIFIED_COLUMNS)[number]['name'];

/** SQL expressions for some classified columns, by name; the others are NULL. */
export type ClassifiedValues = Readonly<Partial<Record<ClassifiedColumnName, string>>>;

/**
 * A SELECT list in contract order: each column's expression from `values`, else a typed NULL, each
 * aliased to its name. Sources write the columns they know and nothing positional.
 * @throws Error naming a key that is not a classified column (a bug in the source; the type
 * already refuses it where the keys are literal).
 */
export function classifiedRow(values: ClassifiedValues): string {
  const names = new Set<string>(CLASSIFIED_COLUMNS.map((c) => c.name));
  for (const key of Object.keys(values))
    if (!names.has(key)) throw new Error(`${key} is not a classified-lines column`);
  return CLASSIFIED_COLUMNS.map((c) => `${values[c.name] ?? `CAST(NULL AS ${c.type})`} AS ${c.name}`).join(
    ',\n  ',
  );
}

/**
 * What a skipped or rejected record can say about itself: why, and where it is (`raw_ref`,
 * `object_key`, required: the pack counts it and shows examples), plus whatever of its identity
 * and time could be read, and in `details` a measure the pack reports over such records (Windows:
 * a Sysmon record's own UTC time against its time; never shown as an event's facts). It carries no
 * session, user or activity: it is no event.
 */
export type ProblemValues = Readonly<
  Pick<
    ClassifiedValues,
    'host' | 'record_no' | 'record_uid' | 'event_code' | 'time_ms' | 'time_field' | 'details'
  > & {
    /** `'skipped'`, `'rejected'`, or an expression giving one of them. */
    status: string;
    reason: string;
    source: string;
    raw_ref: string;
    object_key: string;
  }
>;

/** The SELECT list of a skipped or rejected record's row ({@link classifiedRow} restricted to {@link ProblemValues}). */
export function problemRow(values: ProblemValues): string {
  return classifiedRow(values);
}

/**
 * The SELECT list of a row that is an event or a problem, told by its `status` column (`'event'`
 * or not): each column is the event's expression on an event and the problem's otherwise, so a
 * source classifies every line in one pass. A UNION of an events query and a problems query over
 * the same lines makes an engine materialise those lines, raw text included, to read them twice:
 * memory that grows with the input (DuckDB's CTE materialisation; issue 15). The problem's
 * expressions must not need the event's work: on an engine that evaluates CASE lazily (DuckDB,
 * Trino) the event's expressions run on event rows only.
 */
export function eventOrProblemRow(event: ClassifiedValues, problem: ProblemValues): string {
  const names = new Set<string>(CLASSIFIED_COLUMNS.map((c) => c.name));
  for (const key of [...Object.keys(event), ...Object.keys(problem)])
    if (!names.has(key)) throw new Error(`${key} is not a classified-lines column`);
  const status = problem.status;
  const side = problem as ClassifiedValues;
  return CLASSIFIED_COLUMNS.map((c) => {
    if (c.name === 'status') return `${status} AS status`;
    const nul = `CAST(NULL AS ${c.type})`;
    const ev = event[c.name] ?? nul;
    const pr = side[c.name] ?? nul;
    return ev === pr
      ? `${ev} AS ${c.name}`
      : `CASE WHEN ${status} = 'event' THEN ${ev} ELSE ${pr} END AS ${c.name}`;
  }).join(',\n  ');
}
