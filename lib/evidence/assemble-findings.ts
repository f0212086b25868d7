/**
 * Turns the findings query's rows into the pack's `findings[]` and `finding_rules[]`, and redacts
 * the secrets the `secret-on-command-line` rule found from the rows the pack shows. Pure and
 * deterministic: every array's order is defined here.
 */
import { createHash } from 'node:crypto';
import { type Config, findingsSettings } from '../config/config.ts';
import type { FindingRule } from '../findings/finding-rule.ts';
import { FINDING_RULES } from '../findings/rules/index.ts';
import type { Row } from '../query/query-engine.ts';
import type { Finding, FindingRuleRecord } from './model.ts';

/** What replaces a secret in a redacted command line. */
export const REDACTION_MARK = '[REDACTED]';

const SEVERITY_RANK = { high: 0, medium: 1, low: 2 } as const;

/** What the findings need of the query results: the rows the pack shows, and the findings rows. */
interface RedactableResults {
  readonly activity: readonly Row[];
  readonly orphans: readonly Row[];
  readonly findings?: readonly Row[];
}

/** What a finding needs of a pack session: its id and halves. */
interface SessionRef {
  readonly id: string;
  readonly logon_id: string;
  readonly halves: readonly { readonly logon_id: string; readonly elevated: boolean | null }[];
}

/** What a finding needs of an orphan-activity group. */
interface OrphanRef {
  readonly host: string;
  readonly logon_id: string | null;
}

/**
 * Replaces every secret found on a command line by {@link REDACTION_MARK} in the activity and
 * orphan rows of the same record, unless `findings.redact_secrets` is false. Returns the rows to
 * assemble and the references of the records redacted.
 */
export function redactSecrets<R extends RedactableResults>(
  results: R,
  config: Config,
): { readonly results: R; readonly redacted: ReadonlySet<string> } {
  const redacted = new Set<string>();
  if (!findingsSettings(config).redact_secrets) return { results, redacted };
  const secrets = new Map<string, string[]>();
  for (const r of results.findings ?? []) {
    if (typeof r.secret !== 'string' || r.secret === '') continue;
    const ref = String(r.raw_ref);
    secrets.set(ref, [...(secrets.get(ref) ?? []), r.secret]);
  }
  if (secrets.size === 0) return { results, redacted };
  const redact = (rows: readonly Row[]): Row[] =>
    rows.map((row) => {
      const found = secrets.get(String(row.raw_ref));
      if (found === undefined || typeof row.command_line !== 'string') return row;
      // Longest first, so that a secret containing another is replaced whole.
      let text = row.command_line;
      for (const s of [...found].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)))
        text = text.split(s).join(REDACTION_MARK);
      if (text !== row.command_line) redacted.add(String(row.raw_ref));
      return { ...row, command_line: text };
    });
  return {
    results: { ...results, activity: redact(results.activity), orphans: redact(results.orphans) },
    redacted,
  };
}

/** Builds `findings[]` (sorted: severity, time, rule id, id) and `finding_rules[]` (catalogue order). */
export function buildFindings(
  rows: readonly Row[],
  sessionOfGroup: ReadonlyMap<string, SessionRef>,
  orphans: readonly OrphanRef[],
  redacted: ReadonlySet<string>,
  accountOf: (row: Row) => string,
  rules: readonly FindingRule[] = FINDING_RULES,
): { readonly findings: Finding[]; readonly finding_rules: FindingRuleRecord[] } {
  const ruleById = new Map(rules.map((r) => [r.id, r]));
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${String(r.rule_id)}\u0000${String(r.finding_key)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const findings: Finding[] = [];
  for (const group of groups.values()) {
    const sorted = [...group].sort(
      (a, b) =>
        Number(a.time_ms) - Number(b.time_ms) ||
        cmp(String(a.raw_ref), String(b.raw_ref)) ||
        cmp(String(a.record_uid), String(b.record_uid)),
    );
    const first = sorted[0] as Row;
    const rule = ruleById.get(String(first.rule_id));
    if (rule === undefined) continue;
    const subject = sorted.find((r) => r.subject_uid !== null || r.subject_name !== null);
    const withSession = sorted.find(
      (r) => r.group_uid !== null && r.in_pack === true && sessionOfGroup.has(String(r.group_uid)),
    );
    const session = withSession === undefined ? undefined : sessionOfGroup.get(String(withSession.group_uid));
    const orphanRow =
      session === undefined
        ? sorted.find((r) =>
            orphans.some((o) => o.host === r.host && r.session_uid !== null && o.logon_id === r.session_uid),
          )
        : undefined;
    const records = uniqueBy(
      sorted.map((r) => ({
        time: iso(r.time_ms),
        event_code: String(r.event_code),
        raw_ref: String(r.raw_ref),
      })),
      (x) => `${x.raw_ref}\u0000${x.event_code}`,
    );
    findings.push({
      id: createHash('sha256')
        .update(`${rule.id}|${sorted.map((r) => String(r.record_uid)).join('|')}`)
        .digest('hex')
        .slice(0, 16),
      rule_id: rule.id,
      category: rule.category,
      severity: rule.severity,
      time: iso(first.time_ms),
      host: String(first.host),
      source: String(first.source),
      account:
        subject === undefined
          ? null
          : accountOf({
              user_uid: subject.subject_uid ?? null,
              user_name: subject.subject_name ?? null,
              user_domain: subject.subject_domain ?? null,
            }),
      statement: String(first.statement),
      session:
        session === undefined || withSession === undefined
          ? null
          : {
              id: session.id,
              logon_id: String(withSession.session_uid ?? session.logon_id),
              half:
                session.halves.length > 1
                  ? session.halves.find((h) => h.logon_id === withSession.session_uid)?.elevated === true
                    ? 'elevated'
                    : 'filtered'
                  : null,
            },
      orphan:
        orphanRow === undefined
          ? null
          : { host: String(orphanRow.host), logon_id: String(orphanRow.session_uid) },
      records,
      suppressed_by:
        (sorted.find((r) => r.suppressed_by !== null)?.suppressed_by as string | undefined) ?? null,
      redacted: sorted.some((r) => typeof r.secret === 'string' && redacted.has(String(r.raw_ref))),
    });
  }
  findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      cmp(a.time, b.time) ||
      cmp(a.rule_id, b.rule_id) ||
      cmp(a.id, b.id),
  );
  const finding_rules = rules.map((r) => ({
    id: r.id,
    category: r.category,
    severity: r.severity,
    sources: [...r.sources].sort(cmp),
    rationale: r.rationale,
    references: [...r.references],
    findings: findings.filter((f) => f.rule_id === r.id).length,
  }));
  return { findings, finding_rules };
}

function iso(ms: unknown): string {
  return new Date(Number(ms)).toISOString();
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
