/**
 * The shape of a findings rule (one file per rule in `rules/`, like cdk-nag's rule packs): what it
 * flags, how severe, for which sources, why (with the reference it rests on), and its SQL.
 */
import type { FindingsSettings } from '../config/config.ts';
import type { Dialect } from '../query/dialects/dialect.ts';
import type { ParamList } from '../query/sql.ts';

/** How urgent a finding is: `high` act before sign-off, `medium` explain with a change record, `low` note. */
export type FindingSeverity = 'high' | 'medium' | 'low';

/** What kind of thing a finding is about. */
export type FindingCategory =
  | 'log_tampering'
  | 'account_change'
  | 'failed_logon'
  | 'credential_use'
  | 'privileged_account_use'
  | 'secret_exposure';

/** What a rule's SQL may read: the reconstruction's working tables and the settings. */
export interface FindingRuleContext {
  readonly d: Dialect;
  /** Every value goes through it (the `?`-parameter style of `lib/query/sql.ts`). */
  readonly p: ParamList;
  /** `session_events`: in-range events of the source, deduplicated, with `boot_ms`. */
  readonly events: string;
  readonly settings: FindingsSettings;
}

/**
 * A findings rule. Its `sql` is a SELECT over {@link FindingRuleContext.events} giving one row per
 * record the finding rests on, with exactly these columns, in this order:
 * - `finding_key` VARCHAR: rows with the same key are one finding (a single-record finding uses the
 *   record's `record_uid`);
 * - `record_uid` VARCHAR: the record, a `session_events.record_uid`;
 * - `statement` VARCHAR: one line saying what happened, the same on every row of the finding;
 * - `subject_uid`, `subject_name`, `subject_domain` VARCHAR: the account the finding is about (who
 *   acted, or who was tried), matched against suppression rules;
 * - `secret` VARCHAR: text to redact from the record's command line, else NULL.
 */
export interface FindingRule {
  /** Lower-case words and `-`; stable: packs and workpapers cite it. */
  readonly id: string;
  readonly category: FindingCategory;
  readonly severity: FindingSeverity;
  /** Sources whose events the rule reads. */
  readonly sources: readonly string[];
  /** Why an auditor must look, in one or two sentences. */
  readonly rationale: string;
  /** What the rule rests on: event documentation, API reference, MITRE ATT&CK. */
  readonly references: readonly string[];
  readonly sql: (ctx: FindingRuleContext) => string;
}

/** The columns every rule's SQL gives, in order. */
export const FINDING_RULE_COLUMNS = [
  'finding_key',
  'record_uid',
  'statement',
  'subject_uid',
  'subject_name',
  'subject_domain',
  'secret',
] as const;

/**
 * SQL for an account in a statement: a cloud principal by its name (`user/alice`, `root`), else
 * `DOMAIN\name`, else the name, else the uid.
 */
export function accountSql(domain: string, name: string, uid: string): string {
  return `coalesce(CASE WHEN starts_with(coalesce(${uid}, ''), 'arn:') THEN ${name} END,
    nullif(concat_ws('\\', ${domain}, ${name}), ''), ${uid}, 'unknown account')`;
}

/** The standard columns of a single-record finding over `session_events` (alias `e`). */
export function singleRecordColumns(statement: string, secret = 'CAST(NULL AS VARCHAR)'): string {
  return `e.record_uid AS finding_key, e.record_uid, ${statement} AS statement,
  e.user_uid AS subject_uid, e.user_name AS subject_name, e.user_domain AS subject_domain, ${secret} AS secret`;
}

/** Which account-management records a rule covers, per source. */
export interface AccountEventCodes {
  readonly windowsIds: readonly string[];
  readonly auditdTypes: readonly string[];
  /** Successful IAM calls (the action is the call's name only when it succeeded). */
  readonly iamCalls: readonly string[];
}

/**
 * The SQL of a single-record account-management finding: one finding per record of the given codes,
 * stated as `<who> <what> <target> on <host> (<code>)` (the CloudTrail call's name as the what).
 */
export function accountEventSql(codes: AccountEventCodes): FindingRule['sql'] {
  return ({ events, p }) => `SELECT ${singleRecordColumns(
    `concat_ws(' ', ${accountSql('e.user_domain', 'e.user_name', 'e.user_uid')},
      CASE WHEN e.source = 'cloudtrail' THEN split_part(e.event_code, ':', 2) ELSE replace(e.action, '_', ' ') END,
      coalesce(e.target, ''), 'on', e.host, CASE WHEN e.source <> 'cloudtrail' THEN '(' || e.event_code || ')' END)`,
  )}
FROM ${events} e
WHERE (e.source = 'windows' AND e.event_code IN (${p.addAll(codes.windowsIds)}))
  OR (e.source = 'linux_auditd' AND e.event_code IN (${p.addAll(codes.auditdTypes)}))
  OR (e.source = 'cloudtrail' AND e.event_code IN (${p.addAll(codes.iamCalls.map((c) => `iam.amazonaws.com:${c}`))})
      AND e.action IN (${p.addAll(codes.iamCalls)}))`;
}
