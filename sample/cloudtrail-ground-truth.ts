/**
 * The ground truth written next to a generated CloudTrail sample (`cloudtrail-ground-truth.json`):
 * what a correct reconstruction must find. Keys sorted, 2-space indent.
 *
 * Conventions: `host` is the account id; times are ISO 8601 UTC with milliseconds; a record is named
 * by its raw reference `<object key>#record=<index in Records>`, the object key relative to the
 * sample's root (`cloudtrail/AWSLogs/…`), as the pack records it. A duplicated record is named by its
 * first copy (the file that sorts first).
 */

/** One session as the data defines it (see `lib/sources/cloudtrail.ts` for the rules). */
export interface CtGtSession {
  readonly host: string;
  /** The session's uid: the returned key, `<ARN>@<sign-in time>`, or the long-term key. */
  readonly logon_id: string;
  readonly kind: 'sso_role' | 'role_chain' | 'console' | 'long_term_key_burst';
  readonly user_uid: string;
  /** The caller's key for a role chain, else null. */
  readonly linked_logon_id: string | null;
  readonly start: string;
  readonly end: string;
  readonly end_reason: 'credentials_expired' | 'last_activity';
  /** By account pattern (SSO administrator, root) or by a privileged action in the session. */
  readonly privileged: boolean;
  readonly mfa: boolean | null;
  /** Raw references of the session's activity, sorted. */
  readonly activity: readonly string[];
}

/** A finding the scenario plants: its rule and the raw references of the records it rests on, sorted. */
export interface CtGtFinding {
  readonly rule_id: string;
  readonly records: readonly string[];
}

export interface CloudTrailGroundTruth {
  readonly account: string;
  readonly region: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly sessions: readonly CtGtSession[];
  /** Failed console sign-ins: `<user>@<time>`. */
  readonly failed_logons: readonly string[];
  /** Every finding the rules must raise over the window (and no other), by rule id then first record. */
  readonly findings: readonly CtGtFinding[];
  /** Records written (each copy of a duplicate counted), and the copies that are duplicates. */
  readonly records: number;
  readonly duplicates: number;
  /** Rejected (reason → count) and skipped (reason → count), as the pack counts them. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly skipped: Readonly<Record<string, number>>;
}
