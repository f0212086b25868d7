/**
 * The evidence pack's data model: what `evidence.json` holds. Everything here is plain data derived
 * from the request, the query results and the tool and configuration versions; no wall-clock time.
 *
 * Conventions:
 * - Times are ISO 8601 UTC strings with milliseconds (`2020-09-14T12:06:03.852Z`), or `null` when
 *   the evidence does not show them.
 * - Arrays are in a defined order (documented on each field), so that serialisation is deterministic.
 * - Fields that the logs left empty are `null`, never an empty string or a guess.
 * - This file is the one source of truth: `schema/evidence.schema.json` is generated from it
 *   (`npm run generate:schema`), TSDoc becoming descriptions and tags (`@pattern`, `@format`,
 *   `@minimum`, `@minItems`) constraints; a test fails when the committed schema is stale.
 */

import type { FindingCategory, FindingSeverity } from '../findings/finding-rule.ts';
import type { IntegrityKind } from '../findings/integrity-kind.ts';

export type { FindingCategory, FindingSeverity } from '../findings/finding-rule.ts';

export const EVIDENCE_SCHEMA_ID = 'https://sessiontrail.dev/schemas/evidence/v1.json';

/**
 * ISO 8601 UTC with milliseconds, e.g. `2020-09-14T12:06:03.852Z`.
 * @format date-time
 * @pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$
 */
export type Time = string;

/**
 * Lower-case hex SHA-256.
 * @pattern ^[0-9a-f]{64}$
 */
export type Sha256 = string;

/**
 * A count of things.
 * @asType integer
 * @minimum 0
 */
export type Count = number;

/**
 * Used as a folder name in the store: `<series>/<pack-id>/`.
 * @pattern ^[A-Za-z0-9][A-Za-z0-9._-]*$
 * @maxLength 128
 */
export type PathSegment = string;

/**
 * A calendar day, `YYYY-MM-DD`.
 * @format date
 * @pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}$
 */
export type Day = string;

export type PackKind = 'review' | 'audit' | 'incident';

export interface EvidencePack {
  readonly schema: typeof EVIDENCE_SCHEMA_ID;
  readonly pack: PackInfo;
  readonly tool: ToolInfo;
  readonly summary: Summary;
  /** Sorted by account key. */
  readonly accounts: readonly AccountSummary[];
  /** Sorted by start time (sessions without a start last), host, logon id. */
  readonly sessions: readonly Session[];
  /** Activity that cannot be tied to a logon in the data: the blind spots. Sorted by host, first seen. */
  readonly orphan_activity: readonly OrphanGroup[];
  /** Log cleared, audit service stopped, time changed, boots and shutdowns. Sorted by time, host. */
  readonly integrity_events: readonly IntegrityEvent[];
  /**
   * What a reviewer must act on, from the rule catalogue: sorted by severity (high first), time,
   * rule id, id. Suppression never removes one: it is marked with the rule instead.
   */
  readonly findings: readonly Finding[];
  /** Every rule that ran, with how many findings it raised (zero says the check ran and passed). In catalogue order. */
  readonly finding_rules: readonly FindingRuleRecord[];
  /** What the review's sign-off block cites: the control this pack evidences (configuration `findings.control_reference`). */
  readonly workpaper: {
    /** The control this pack evidences: the request's (`--control-reference`), else the configuration's (`findings.control_reference`), else null. */
    readonly control_reference: string | null;
  };
  readonly coverage: Coverage;
  /** One entry per suppression rule in the configuration, in configuration order. */
  readonly suppressions: readonly SuppressionCount[];
  /** The privileged criteria in effect (built-in and configured, merged), as the configuration lists them. */
  readonly privileged_criteria: PrivilegedCriteria;
  /** The queries that produced this pack, in the order they ran. */
  readonly queries: readonly QueryRecord[];
  /**
   * Every input object found for the pack, one entry per file or object, sorted by source then key:
   * what was read of it (status, records, range) and what it was as stored (size, sha256 or S3
   * version), so that an auditor can re-read exactly these inputs (`sessiontrail rederive`). Absent
   * where the engine lists the objects itself and the locator cannot (Trino tables): never a
   * partial list. S3 objects (Athena) are those the engine read (`"$path"`): an empty object gives
   * no row and is not listed.
   */
  readonly inputs?: readonly InputRecord[];
  /** What this pack does not show, one sentence each. */
  readonly limitations: readonly string[];
}

export interface PrivilegedCriteria {
  /** Privileges (4672) that make a session privileged. */
  readonly privileges: readonly string[];
  /** Accounts privileged by SID, name, pattern or logon type: every key, empty when unused. */
  readonly accounts: {
    readonly sids: readonly string[];
    readonly sid_patterns: readonly string[];
    readonly names: readonly string[];
    readonly name_patterns: readonly string[];
    readonly logon_types: readonly number[];
  };
  /** Globs over `source:event_code` whose action makes a session privileged. */
  readonly actions: readonly string[];
}

export interface PackInfo {
  /** Derived from the request's content: the same request gives the same id. */
  readonly id: PathSegment;
  readonly kind: PackKind;
  /** Packs of one series form a chain (e.g. `review-monthly`). */
  readonly series: PathSegment;
  readonly window: { readonly from: Time; readonly to: Time };
  /** Start of the data read: the window start less the look-back for sessions that began earlier. */
  readonly data_from: Time;
  readonly scope: Scope;
  readonly sources: readonly string[];
}

export interface Scope {
  /** Account names, `DOMAIN\name`, or SIDs, as requested; sorted. Empty means all. */
  readonly users: readonly string[];
  /** Host names as requested; sorted. Empty means all. */
  readonly hosts: readonly string[];
  readonly incident_id: string | null;
  readonly requester: string | null;
  readonly reason: string | null;
  /** Whether sessions that are not privileged are included (incident packs). */
  readonly include_unprivileged: boolean;
  /**
   * Account forms the scope took in only because the logs give them the SID of a requested user
   * (e.g. `CORP.EXAMPLE\adm.alice` requested, `CORP\adm.alice` joined): the NetBIOS and DNS domain
   * forms of one account. Sorted by user, sid, form. Absent when no form was joined.
   */
  readonly user_ties?: readonly ScopeTie[];
}

/** One account form joined to a requested user, and the evidence for it. */
export interface ScopeTie {
  /** The user as requested. */
  readonly user: string;
  /** `DOMAIN\name` (or the name) as the logs write the joined form. */
  readonly form: string;
  /** What ties them: the logs give the requested form and this form the same SID. */
  readonly basis: 'same_sid';
  /** The SID both forms carry. */
  readonly sid: string;
  /** Events of the data read (after de-duplication) that name the joined form with that SID. */
  readonly events: Count;
}

/**
 * The tool that built the pack. evidence.json says what the logs show; how it was computed (the
 * engine that ran the SQL, the digest of each dialect's SQL text) is in the signed manifest
 * (`predicate.tool.engine`, one subject per `queries/*.sql`), so that the same logs give the same
 * evidence.json bytes on DuckDB, Trino and Athena.
 */
export interface ToolInfo {
  readonly name: 'sessiontrail';
  /** @minLength 1 */
  readonly version: string;
  /** sha256 of the canonical configuration (rules, privileged lists, time settings). */
  readonly config_sha256: Sha256;
}

export interface Summary {
  readonly sessions: Count;
  readonly privileged_sessions: Count;
  readonly accounts: Count;
  readonly hosts: Count;
  readonly activity_events: Count;
  readonly orphan_groups: Count;
  readonly orphan_events: Count;
  readonly verdicts: { readonly complete: Count; readonly incomplete: Count };
  readonly suppressed_sessions: Count;
  readonly integrity_events: Count;
  readonly rejected_records: Count;
}

export interface AccountSummary {
  /** The configured person when the sessions are tied to one, else `DOMAIN\name`, or the SID when there is no name. */
  readonly account: string;
  /** The SID / uid / ARN when all sessions share one, else null. */
  readonly user_uid: string | null;
  /** The configured person these sessions are tied to, or null. */
  readonly person: string | null;
  /** The source accounts summarised here, sorted. */
  readonly source_accounts: readonly string[];
  /** How each source account was tied to the person, sorted; empty when not tied. */
  readonly ties: readonly string[];
  readonly sessions: Count;
  readonly privileged_sessions: Count;
  readonly first_seen: Time | null;
  readonly last_seen: Time | null;
  /** Sorted. */
  readonly hosts: readonly string[];
  /** Sorted ascending. */
  readonly logon_types: readonly number[];
  readonly elevated: boolean;
  readonly activity_events: Count;
}

export type EndReason =
  | 'logoff'
  | 'user_logoff'
  | 'shutdown'
  | 'reboot'
  /** The same logon id began a new logon in the same boot epoch: a reboot the data does not show. */
  | 'id_reused'
  /** The session's temporary credentials expired (sources that log no logoff, e.g. CloudTrail). */
  | 'credentials_expired'
  /** The last activity of a session split by inactivity (sources that log no logon or logoff). */
  | 'last_activity'
  /** Still open when the host's data stops, well before the window end: it ends with the data. */
  | 'data_ends'
  | 'open_at_window_end';

export type MissingReason =
  | 'began_before_data'
  | 'logoff_not_audited'
  | 'reboot'
  | 'shutdown'
  | 'log_cleared'
  | 'open_at_window_end'
  | 'no_privilege_event'
  /** The host's data stops while the session is open. */
  | 'data_ends'
  /** The host logged nothing for a while during the session: activity then is not in the data. */
  | 'coverage_gap'
  /** No record logged the logon: the start is the first activity seen, and may be later than the true start. */
  | 'start_inferred';

export interface Completeness {
  /** `inferred`: no record logged the logon; the source derived the start from the first activity. */
  readonly logon: 'observed' | 'inferred' | 'missing';
  readonly privilege_assignment: 'observed' | 'missing' | 'not_expected';
  /** `not_expected` where the source never logs a logoff (the end then comes from the source's end hint). */
  readonly logoff: 'observed' | 'missing' | 'not_expected';
  readonly verdict: 'complete' | 'incomplete';
  /** Likely reasons for what is missing; sorted; empty when complete. */
  readonly reasons: readonly MissingReason[];
}

/** One half of a UAC split-token pair, or the only half of an ordinary session. */
export interface SessionHalf {
  readonly logon_id: string;
  /** `true` elevated token (%%1842), `false` filtered (%%1843), `null` not logged. */
  readonly elevated: boolean | null;
  readonly start: Time | null;
  readonly end: Time | null;
  readonly end_reason: EndReason;
  readonly privileges: readonly string[];
  readonly logon_ref: string | null;
  readonly privilege_ref: string | null;
  readonly logoff_ref: string | null;
}

export interface Session {
  /** Derived from host, boot, logon id and start: stable across runs. */
  readonly id: string;
  readonly source: string;
  readonly host: string;
  /** Time of the boot (4608) that began this session's boot epoch, or null if none was in the data. */
  readonly boot_time: Time | null;
  /** The primary logon id: the elevated half of a UAC pair, else the only one. Canonical lower-case hex. */
  readonly logon_id: string;
  /** The partner of a UAC pair when it is in the data, else the linked id the logon named (or null). */
  readonly linked_logon_id: string | null;
  readonly user: {
    readonly uid: string | null;
    readonly name: string | null;
    readonly domain: string | null;
  };
  readonly account: string;
  /** The configured person this session's account belongs to, and how the tie was made. */
  readonly person: { readonly id: string; readonly tie: string } | null;
  readonly logon_type: number | null;
  readonly logon_type_name: string | null;
  readonly src_ip: string | null;
  readonly src_host: string | null;
  readonly logon_process: string | null;
  readonly auth_package: string | null;
  /** Source-specific facts of the logon (role ARN, source identity, MFA, TTY, …), sorted by name. */
  readonly details: readonly { readonly name: string; readonly value: string }[];
  readonly start: Time | null;
  readonly end: Time | null;
  readonly end_reason: EndReason;
  readonly privileged: boolean;
  /** Why the session counts as privileged, e.g. `privilege:SeDebugPrivilege`, `elevated_token`, `account:…`. Sorted. */
  readonly privileged_because: readonly string[];
  readonly elevated: boolean;
  /** Union of the halves' privileges; sorted. */
  readonly privileges: readonly string[];
  /**
   * One entry for an ordinary session; two for a UAC pair (elevated first).
   * @minItems 1
   * @maxItems 2
   */
  readonly halves: readonly SessionHalf[];
  /** How the two halves of a UAC pair were tied together; null for a single logon. */
  readonly pairing: SessionPairing | null;
  readonly completeness: Completeness;
  /** RDP reconnects and disconnects (4778/4779), by time. */
  readonly reconnects: readonly ActivityEvent[];
  readonly activity_count: Count;
  /** By time, then record. */
  readonly activity: readonly ActivityEvent[];
}

/** How the halves of a UAC split-token pair were paired. */
export interface SessionPairing {
  /**
   * `linked_logon_id`: each logon names the other (`TargetLinkedLogonId`, 4624 v2). `inferred`: no
   * logon names a partner (4624 v0/v1 log no link), so the pair is inferred from host, boot, SID,
   * logon type, time and which half received special privileges; `basis` says so in words.
   */
  readonly method: 'linked_logon_id' | 'inferred';
  /** Milliseconds between the two logons. */
  readonly gap_ms: Count;
  /** How the pair was made, one sentence. */
  readonly basis: string;
}

export interface ActivityEvent {
  readonly time: Time;
  readonly event_code: string;
  readonly action: string;
  /** The logon id the event ran under (tells which half of a UAC pair ran it). */
  readonly logon_id: string | null;
  readonly half: 'elevated' | 'filtered' | null;
  readonly user_name: string | null;
  readonly process: string | null;
  readonly parent_process: string | null;
  readonly command_line: string | null;
  readonly target: string | null;
  readonly privileges: readonly string[];
  readonly raw_ref: string;
}

export interface OrphanGroup {
  readonly host: string;
  readonly boot_time: Time | null;
  readonly logon_id: string | null;
  readonly user: {
    readonly uid: string | null;
    readonly name: string | null;
    readonly domain: string | null;
  };
  readonly account: string;
  readonly first_seen: Time;
  readonly last_seen: Time;
  readonly event_count: Count;
  /** Time of the logoff (4634/4647) in the data that ended this logon, else null: the group is then open-ended. */
  readonly ended: Time | null;
  /** Why no logon ties this activity to a session, as far as the data tells. */
  readonly likely_reason: 'began_before_data' | 'log_cleared' | 'logon_not_in_data' | 'no_login_session';
  readonly events: readonly ActivityEvent[];
}

export interface IntegrityEvent {
  readonly time: Time;
  readonly host: string;
  readonly event_code: string;
  /**
   * `logging_stopped`: audit logging switched off or its trail deleted (auditd `audit_enabled=0`,
   * CloudTrail StopLogging / DeleteTrail, …); `audit_policy_changed`: what is audited was changed
   * (4719, 4912, 4906, auditd rules, CloudTrail UpdateTrail / PutEventSelectors, …). Denied attempts
   * are listed too: their detail carries the error.
   */
  readonly kind: IntegrityKind;
  readonly user_name: string | null;
  readonly logon_id: string | null;
  readonly detail: string | null;
  /**
   * True when the source records the attempt as refused (a CloudTrail call that returned an
   * errorCode, e.g. AccessDenied): the change did not happen, the attempt is still listed.
   */
  readonly denied: boolean;
  readonly raw_ref: string;
}

export interface Coverage {
  /** Per source, sorted by source. */
  readonly sources: readonly SourceCoverage[];
  /** Per source and reason, sorted. */
  readonly rejected: readonly ReasonCount[];
  /** Records read but out of scope (other channels, other event ids), per source and reason. */
  readonly skipped: readonly ReasonCount[];
  /** How many in-scope records carry each field; sorted by source, event code, field. */
  readonly field_population: readonly FieldPopulation[];
  /** Hosts seen in the data read, with first and last event; sorted. */
  readonly hosts: readonly HostCoverage[];
}

export interface SourceCoverage {
  readonly source: string;
  readonly files: Count;
  readonly records_read: Count;
  /** Records of the window (and its look-back) that the pack's timelines are built from. */
  readonly records_used: Count;
  /** Records read whose time lies outside the data window (`data_from` to the window end): not used. */
  readonly records_outside_window: Count;
  readonly records_skipped: Count;
  readonly records_rejected: Count;
  /** Copies of a record beyond the first (same source identity, same content): collapsed to one. */
  readonly duplicates_collapsed: Count;
  /**
   * Records that share their source's identity (e.g. host, RecordNumber and EventID) with a record
   * that says something else: every version is kept and none is chosen, so the result does not
   * depend on which came first; the `conflicting-record-versions` finding lists them.
   */
  readonly conflicting_records: Count;
  /** Which field gave event times and why, e.g. `@timestamp (collector time, UTC)`. Sorted. */
  readonly time_fields: readonly { readonly field: string; readonly records: Count }[];
  /**
   * How late the collector's receipt time (`@timestamp`) came after the event, measured where a
   * record also carries its own local time (NXLog's zone-less `EventTime`, the host's UTC offset
   * inferred to the nearest quarter hour), over the events of the data read. Absent when nothing
   * could be measured.
   */
  readonly collector_lag?: CollectorLag;
  /**
   * Per host (as logged), where skipped records carry the event's UTC time in a field of their own
   * beside the export's own time they are read at (Windows: Sysmon's `UtcTime` in a flat export read
   * at `TimeCreated`, or `EventTime` with a zone; not `@timestamp`) (the time this source's events
   * of that host are read at too): that UTC time minus that time, over the data read, by host and
   * time field.
   * About 0 when the time is the UTC it claims; a whole number of hours when it is the host's local
   * time written as UTC, which the limitations then say. Absent when nothing could be measured.
   */
  readonly utc_time_checks?: readonly UtcTimeCheck[];
}

/** One host's UTC time check, in milliseconds (own UTC time minus the record's time). */
export interface UtcTimeCheck {
  readonly host: string;
  /** The field the measured records were read at, as `time_fields` names it. */
  readonly time_field: string;
  /** Records measured. */
  readonly records: Count;
  readonly min_ms: number;
  /** Nearest rank. */
  readonly median_ms: number;
  readonly max_ms: number;
}

/** Collector lag figures, in milliseconds (to within a second: `EventTime` has whole seconds). */
export interface CollectorLag {
  /** Records measured. */
  readonly records: Count;
  readonly min_ms: number;
  readonly median_ms: number;
  /** 95th percentile, nearest rank. */
  readonly p95_ms: number;
  readonly max_ms: number;
}

export interface ReasonCount {
  readonly source: string;
  readonly reason: string;
  readonly count: Count;
  /**
   * Up to 5 example references (file and record position), sorted.
   * @maxItems 5
   */
  readonly examples: readonly string[];
}

export interface FieldPopulation {
  readonly source: string;
  readonly event_code: string;
  readonly field: string;
  readonly populated: Count;
  readonly total: Count;
}

export interface HostCoverage {
  readonly host: string;
  readonly first_event: Time;
  readonly last_event: Time;
  readonly events: Count;
  readonly logoff_events: Count;
  /**
   * Stretches of the window longer than the configured gap (`coverage_gap_hours`) without any record
   * from the host, the window's edges included; sorted.
   */
  readonly gaps: readonly { readonly from: Time; readonly to: Time }[];
}

export interface SuppressionCount {
  readonly rule_id: string;
  readonly description: string;
  readonly owner: string | null;
  readonly reason: string | null;
  readonly expires: Day | null;
  /** Day (`YYYY-MM-DD`) after which the rule no longer applies, as configured. */
  /** True when the rule's expiry is before the window end: it no longer suppresses anything. */
  readonly expired: boolean;
  readonly sessions_suppressed: Count;
  readonly orphan_events_suppressed: Count;
}

export interface QueryRecord {
  readonly name: string;
  /**
   * Path of the SQL inside the pack, e.g. `queries/01-normalise-windows.sql`.
   * @pattern ^queries/[^/]+\.sql$
   */
  readonly file: string;
  // No digest here: the SQL text is the engine's dialect; its sha256 is the file's subject in the
  // signed manifest, which binds it to these evidence.json bytes (see ToolInfo).
  readonly rows: Count;
}

/**
 * One input object found for a pack (chain of custody): what it was as stored, and what the pack
 * read of it. A local file carries its sha256; an S3 object its version id and ETag (and checksum
 * where the bucket keeps one).
 */
export interface InputRecord {
  /** The source the object was found for. */
  readonly source: string;
  /**
   * The file relative to the logs root (`/`-separated) for local logs, or `s3://<bucket>/<key>`.
   * @minLength 1
   */
  readonly key: string;
  /**
   * `read`; `skipped` (by name, empty, reached twice: `reason` says); `unreadable`; `damaged` (cut,
   * trailing bytes, too large: `reason` says; whatever could be read of it is read).
   */
  readonly status: 'read' | 'skipped' | 'unreadable' | 'damaged';
  /** Why it was skipped, or what is wrong with it; null for an object read whole. */
  readonly reason: string | null;
  /** Size in bytes as stored (compressed bytes for `.gz`); null when it was not opened (skipped by name, reached twice) or could not be. */
  readonly size: Count | null;
  /** sha256 (hex) of the bytes as stored, for a local file that was opened; else null. */
  readonly sha256: Sha256 | null;
  /** The S3 object version read, for an S3 object; else null. */
  readonly s3: S3ObjectVersion | null;
  /** Records the object holds (rejected ones included); null when unknown (Parquet) or not read. */
  readonly records: Count | null;
  /** The part of the object that was read; null when nothing of it was read. */
  readonly range: InputRange | null;
}

/** The S3 object version an input was read from (S3 `HeadObject` / `ListObjectVersions`). */
export interface S3ObjectVersion {
  /** The version id; null when the bucket's versioning was never enabled (S3 then reports `null`). */
  readonly version_id: string | null;
  /** The ETag, without quotes: not a content digest for multipart or KMS-encrypted objects (S3 docs). */
  readonly etag: string;
  /** The object's checksum, where the bucket keeps one (`ChecksumSHA256`, …), else null. */
  readonly checksum: { readonly algorithm: string; readonly value: string } | null;
  /** When this version was written. */
  readonly last_modified: Time;
}

/**
 * The part of an input that was read. Every object is read from its start; it ends at its end, or
 * where it is damaged (a cut gzip keeps its readable prefix).
 */
export interface InputRange {
  /**
   * Bytes of content read, from offset 0: after decompression for gzip, as stored otherwise
   * (Parquet); for an S3 object the engine read, its stored size (an engine reads objects whole).
   */
  readonly bytes: Count;
  /**
   * Lines read, 1 to `last_line` (after decompression, blank ones included): `#line=` positions
   * fall in this range. Null when not read as lines: Parquet, and JSON documents split into records
   * (CloudTrail, OCSF), whose positions are `#record=` indexes below `records`.
   */
  readonly last_line: Count | null;
}

/** One finding: a rule's verdict on one or more records. */
export interface Finding {
  /** Derived from the rule id and the records: stable across runs. */
  readonly id: string;
  /** The rule of `finding_rules` that raised it. */
  readonly rule_id: string;
  readonly category: FindingCategory;
  /** `high`: act before sign-off; `medium`: explain with a change record; `low`: note. */
  readonly severity: FindingSeverity;
  /** Time of the first record. */
  readonly time: Time;
  /** Where it happened (for CloudTrail, the account). */
  readonly host: string;
  readonly source: string;
  /** The account the finding is about (who acted, or who was tried), or null when it concerns several. */
  readonly account: string | null;
  /** What happened, in one line. */
  readonly statement: string;
  /** The pack session the first record that has one belongs to, and its half (of a UAC pair), or null. */
  readonly session: {
    readonly id: string;
    readonly logon_id: string;
    readonly half: 'elevated' | 'filtered' | null;
  } | null;
  /** The orphan-activity group (host, logon id) of the first record that has one, or null. */
  readonly orphan: { readonly host: string; readonly logon_id: string | null } | null;
  /**
   * The records the finding rests on, by time then reference.
   * @minItems 1
   */
  readonly records: readonly FindingRecord[];
  /** The suppression rule that would have hidden this finding's subject or session, or null: the finding is shown regardless. */
  readonly suppressed_by: string | null;
  /** True when a secret in these records' command lines was replaced by `[REDACTED]` in this pack (evidence.json and PDF). */
  readonly redacted: boolean;
}

/** A record a finding rests on. */
export interface FindingRecord {
  readonly time: Time;
  readonly event_code: string;
  /** Where the record came from: object key and record position. */
  readonly raw_ref: string;
}

/** A rule of the findings catalogue (`lib/findings/rules/`) as the pack records it. */
export interface FindingRuleRecord {
  readonly id: string;
  readonly category: FindingCategory;
  readonly severity: FindingSeverity;
  /** Sources whose events the rule reads; sorted. */
  readonly sources: readonly string[];
  /** Why an auditor must look. */
  readonly rationale: string;
  /** What the rule rests on: event documentation, API reference, MITRE ATT&CK. */
  readonly references: readonly string[];
  /** Findings this rule raised in the pack. */
  readonly findings: Count;
}
