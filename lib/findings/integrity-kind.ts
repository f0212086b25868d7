/**
 * What the pack's integrity list calls an integrity event: one decision, used by the pack assembly
 * and by the findings rules' statements.
 */
import { CLOUDTRAIL_TAMPERING_CALLS } from '../sources/cloudtrail.ts';

/** The kinds of the pack's integrity events: the one declaration, `IntegrityEvent.kind` in `lib/evidence/model.ts` uses it. */
export type IntegrityKind =
  | 'log_cleared'
  | 'audit_service_stopped'
  | 'time_changed'
  | 'logging_stopped'
  | 'audit_policy_changed'
  | 'boot'
  | 'shutdown';

/** Integrity actions of the sources (Windows, auditd, auth.log, OCSF) and what the pack calls them. */
const BY_ACTION: Readonly<Record<string, IntegrityKind>> = {
  log_cleared: 'log_cleared',
  audit_service_stopped: 'audit_service_stopped',
  system_time_changed: 'time_changed',
  time_changed: 'time_changed',
  audit_disabled: 'logging_stopped',
  audit_rule_removed: 'audit_policy_changed',
  audit_policy_changed: 'audit_policy_changed',
};

/**
 * The integrity kind of a normalised row (`kind` boot, shutdown or integrity). CloudTrail calls keep
 * their API name as action, so they are classed by `event_code` ({@link CLOUDTRAIL_TAMPERING_CALLS}).
 * An integrity row of an action no source defines is classed `audit_policy_changed`, the widest
 * kind, rather than dropped: it is still shown with its event code and detail.
 */
export function integrityKindOf(row: Readonly<Record<string, unknown>>): IntegrityKind {
  if (row.kind === 'boot') return 'boot';
  if (row.kind === 'shutdown') return 'shutdown';
  const byAction = BY_ACTION[String(row.action)];
  if (byAction !== undefined) return byAction;
  return CLOUDTRAIL_TAMPERING_CALLS[String(row.event_code)] ?? 'audit_policy_changed';
}

/**
 * Whether a normalised row records a refused attempt: the CloudTrail source writes a call that
 * returned an `errorCode` as the action `<eventName> failed: <errorCode>` (lib/sources/cloudtrail.ts),
 * which the audit-logging-stopped rule reads the same way. Other sources log only what happened.
 */
export function isDeniedAttempt(action: unknown): boolean {
  return typeof action === 'string' && / failed: /.test(action);
}
