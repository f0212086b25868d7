/**
 * The render model: everything the evidence PDF shows, as plain data derived only from the pack and
 * the seal facts (digest of evidence.json, signer key). pdfkit never sees the pack itself, so every
 * fact printed in the PDF can be traced back to evidence.json, and the layout code has no decisions
 * about evidence left to make.
 */

import { SessiontrailError } from '../errors.ts';
import type {
  ActivityEvent,
  EvidencePack,
  Finding,
  InputRecord,
  IntegrityEvent,
  MissingReason,
  OrphanGroup,
  PackKind,
  Session,
} from '../evidence/model.ts';
import { foldCase } from '../query/fold-case.ts';
import { eventMeaning } from './event-legend.ts';

/** Facts about the seal that the PDF prints but that evidence.json cannot hold about itself. */
export interface SealFacts {
  /** sha256 (hex) of the exact evidence.json bytes. */
  readonly evidenceSha256: string;
  readonly keyId: string;
  /** Fingerprint of the public key, as the signer publishes it. */
  readonly keyFingerprint: string;
  /**
   * When the pack is sealed (ISO 8601 UTC, fixed when its sequence is reserved): shown on the cover
   * and used as the PDF's CreationDate/ModDate. Without it (a render outside sealing) the window end.
   */
  readonly sealedAt?: string;
  /** Who sealed it (`--requester`, the OS user, the Lambda caller or schedule). */
  readonly operator?: string;
  /** The pack's sequence number in its series. */
  readonly sequence?: number;
  /**
   * The engine that ran the SQL, and the sha256 of each `queries/*.sql` file by its pack path: facts
   * of how the pack was computed, sealed in the manifest rather than in evidence.json.
   */
  readonly engine: { readonly name: string; readonly version: string };
  readonly querySha256: Readonly<Record<string, string>>;
}

/** A label and a value, for the cover and the per-session identity block. */
export interface Fact {
  readonly label: string;
  readonly value: string;
}

/** One row of a plain table: one string per column. */
export type Row = readonly string[];

/** A table: headers and rows, already formatted. */
export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly Row[];
}

/** One lane entry of the timeline chart. Times are epoch milliseconds clipped to the window. */
export interface TimelineBar {
  readonly sessionId: string;
  readonly start: number;
  readonly end: number;
  /** The session began before the window or before the data: draw it fading in from the left edge. */
  readonly openStart: boolean;
  /** The session has no end in the data: draw it as an arrow to the right edge. */
  readonly openEnd: boolean;
  readonly privileged: boolean;
  /** The elevated half of a UAC pair (or the whole elevated session), clipped; null when none. */
  readonly elevated: { readonly start: number; readonly end: number } | null;
}

/** Orphan activity in a lane: a mark at first seen, a line to last seen. */
export interface TimelineMark {
  readonly start: number;
  readonly end: number;
  readonly events: number;
}

/** One lane of the timeline chart. */
export interface TimelineLane {
  readonly label: string;
  readonly bars: readonly TimelineBar[];
  readonly orphans: readonly TimelineMark[];
  /** Stretches without any record from the lane's host(s) (coverage gaps), clipped to the window. */
  readonly gaps: readonly TimelineMark[];
}

/** The timeline chart: a time axis over the window and one lane per host or per account. */
export interface Timeline {
  readonly from: number;
  readonly to: number;
  readonly laneBy: 'host' | 'account';
  readonly lanes: readonly TimelineLane[];
}

/** The named destination (PDF named destination) of a session's detail block. */
export function sessionDestination(sessionId: string): string {
  return `session-${sessionId}`;
}

/** The named destination of a host's block in the orphan-activity section. */
export function orphanDestination(host: string): string {
  return `orphans-${host}`;
}

/** The per-session detail block. */
export interface SessionDetail {
  readonly id: string;
  /** One line: account on host, and whether privileged. */
  readonly title: string;
  readonly facts: readonly Fact[];
  /** The activity table, already cut to the page budget; see `omittedRows`. */
  readonly activity: Table;
  /** Activity rows that evidence.json holds but the PDF omits to stay within its page budget. */
  readonly omittedRows: number;
  /** Register numbers of the findings whose rows this session's table shows (kept whatever the budget). */
  readonly findingNumbers: readonly number[];
}

/** The findings pages: the register right after the cover, the sign-off block and the event legend. */
export interface FindingsPages {
  /** The summary's first sentence: how many findings of each severity the pack holds. */
  readonly sentence: string;
  /** Severity, what, when, who, where, session, and an empty disposition column for the reviewer. */
  readonly register: Table;
  /**
   * Per register row, the named destination its row links to: the page of its session
   * ({@link sessionDestination}) or of its host's orphan activity ({@link orphanDestination}), or null.
   */
  readonly registerLinks: readonly (string | null)[];
  /** Preparer, reviewer, date (blank to fill in) and the control reference. */
  readonly signOff: readonly Fact[];
  /** Every event code printed in the PDF with its meaning, sorted. */
  readonly legend: Table;
}

/** Orphan activity of one host. */
export interface OrphanHostBlock {
  readonly host: string;
  readonly groups: Table;
}

/** The verification section's literal commands and expectations. */
export interface Verification {
  readonly signatureCommand: string;
  readonly evidenceCheckCommand: string;
  readonly otherFilesCommand: string;
  readonly expectedDigests: Table;
}

/** The whole PDF as plain data. */
export interface RenderModel {
  readonly packId: string;
  /** The signer's key id (sha256 of its SPKI DER), for the verification commands. */
  readonly keyId: string;
  readonly kind: PackKind;
  /** The PDF's Title, Subject and Keywords; keywords include the pack id. */
  readonly meta: { readonly title: string; readonly subject: string; readonly keywords: readonly string[] };
  /**
   * CreationDate and ModDate of the PDF: the sealing time (the window end when rendered without
   * one), a fact of the seal rather than a clock reading, so the same evidence and seal time give
   * the same bytes.
   */
  readonly documentDate: string;
  readonly evidenceSha256: string;
  /** The first 12 hex digits of the evidence.json digest, for the page footers. */
  readonly shortSha256: string;
  readonly cover: { readonly heading: string; readonly facts: readonly Fact[] };
  readonly findings: FindingsPages;
  readonly summary: {
    readonly counts: readonly Fact[];
    readonly verdicts: Table;
    readonly suppressions: Table;
    /** One paragraph beginning "This pack does not show". */
    readonly gaps: string;
  };
  readonly accounts: Table;
  readonly timeline: Timeline;
  /** The per-session detail blocks, built one at a time as they are read ({@link SessionDetails}). */
  readonly sessions: SessionDetails;
  readonly orphans: readonly OrphanHostBlock[];
  readonly dataQuality: {
    readonly sources: Table;
    readonly reasons: Table;
    /** The files found per source and what became of each ({@link buildInputs}). */
    readonly inputs: { readonly table: Table; readonly note: string };
    readonly fieldPopulation: Table;
    /** What the integrity events and log-tampering findings say about the logs ({@link logIntegrity}). */
    readonly integrityStatement: string;
    readonly integrity: Table;
    readonly hosts: Table;
  };
  readonly method: {
    readonly queries: Table;
    readonly paragraphs: readonly string[];
    readonly verification: Verification;
  };
}

/**
 * The sessions' detail blocks, in pack order. Each is built when it is read (and again if read
 * again), never all at once: a 5,000-session pack's blocks held 25 MB for the whole render, while
 * the PDF draws one at a time. Pure: the same pack gives the same blocks.
 */
export class SessionDetails implements Iterable<SessionDetail> {
  private readonly sessions: readonly Session[];
  private readonly maxRows: number;
  private readonly findingRefs: ReadonlyMap<string, readonly number[]>;

  constructor(
    sessions: readonly Session[],
    maxRows: number,
    findingRefs: ReadonlyMap<string, readonly number[]>,
  ) {
    this.sessions = sessions;
    this.maxRows = maxRows;
    this.findingRefs = findingRefs;
  }

  get length(): number {
    return this.sessions.length;
  }

  /**
   * The detail block of the session at `index` (0-based, pack order).
   * @throws SessiontrailError `INTERNAL` for an index outside the pack (a bug in the caller).
   */
  at(index: number): SessionDetail {
    const session = this.sessions[index];
    if (session === undefined)
      throw new SessiontrailError('INTERNAL', `no session at index ${index} (a bug in sessiontrail)`);
    return buildSessionDetail(session, this.maxRows, this.findingRefs);
  }

  *[Symbol.iterator](): Iterator<SessionDetail> {
    for (let i = 0; i < this.sessions.length; i++) yield this.at(i);
  }
}

/** Options for {@link buildRenderModel}. */
export interface RenderModelOptions {
  /**
   * Most activity rows printed per session; the rest are counted and left to evidence.json.
   * @default 200
   */
  readonly maxActivityRowsPerSession?: number;
  /**
   * Most activity rows printed in the whole PDF, shared evenly between sessions (but never fewer
   * than {@link MIN_ACTIVITY_ROWS} per session). Keeps a 1,000-session pack to a few hundred pages
   * that render in seconds; evidence.json always holds every row.
   * @default 10000
   */
  readonly maxActivityRowsTotal?: number;
}

/** Default page budget: at most this many activity rows of one session go into the PDF. */
export const DEFAULT_MAX_ACTIVITY_ROWS = 200;
/** Default budget of activity rows for the whole PDF. */
export const DEFAULT_MAX_ACTIVITY_ROWS_TOTAL = 10_000;
/** Every session shows at least this many activity rows, whatever the total budget. */
export const MIN_ACTIVITY_ROWS = 10;

const NONE = '—';

/**
 * Builds the render model of a pack: pure, no clock, no I/O.
 *
 * @param pack - the evidence pack exactly as serialised into evidence.json
 * @param seal - the digest of evidence.json and the signer's key id and fingerprint
 */
export function buildRenderModel(
  pack: EvidencePack,
  seal: SealFacts,
  options: RenderModelOptions = {},
): RenderModel {
  const p = pack.pack;
  const maxRows = activityRowBudget(
    pack.sessions.length,
    options.maxActivityRowsPerSession ?? DEFAULT_MAX_ACTIVITY_ROWS,
    options.maxActivityRowsTotal ?? DEFAULT_MAX_ACTIVITY_ROWS_TOTAL,
  );
  const findingRefs = findingNumbersByRef(pack.findings);
  const sessions = new SessionDetails(pack.sessions, maxRows, findingRefs);
  return {
    packId: p.id,
    keyId: seal.keyId,
    kind: p.kind,
    meta: {
      title: `sessiontrail ${p.kind} evidence pack ${p.id}`,
      subject: `Privileged logon sessions ${formatTime(p.window.from)} to ${formatTime(p.window.to)} (${p.series})`,
      keywords: [p.id, p.kind, p.series, 'sessiontrail', 'evidence'],
    },
    documentDate: seal.sealedAt ?? p.window.to,
    evidenceSha256: seal.evidenceSha256,
    shortSha256: seal.evidenceSha256.slice(0, 12),
    cover: buildCover(pack, seal),
    findings: buildFindingsPages(pack, sessions),
    summary: buildSummary(pack),
    accounts: {
      headers: [
        'Account',
        'Sessions (priv.)',
        'First seen',
        'Last seen',
        'Hosts',
        'Logon types',
        'Elevated',
        'Activity',
      ],
      rows: pack.accounts.map((a) => [
        // A person tied across sources lists the source accounts and how each tie was made.
        a.person ? `${a.person}: ${a.source_accounts.join(', ')} (tied by ${a.ties.join('; ')})` : a.account,
        `${a.sessions} (${a.privileged_sessions})`,
        formatTime(a.first_seen),
        formatTime(a.last_seen),
        a.hosts.join(', ') || NONE,
        a.logon_types.join(', ') || NONE,
        // "no" only where elevation is logged at all for the account (not for CloudTrail or auditd).
        a.elevated
          ? 'yes'
          : pack.sessions.some(
                (s) => a.source_accounts.includes(s.account) && s.halves.some((h) => h.elevated !== null),
              )
            ? 'no'
            : NONE,
        String(a.activity_events),
      ]),
    },
    timeline: buildTimeline(pack),
    sessions,
    orphans: buildOrphans(pack.orphan_activity),
    dataQuality: buildDataQuality(pack),
    method: buildMethod(pack, seal),
  };
}

/**
 * Activity rows per session: the per-session cap, lowered so that all sessions together stay within
 * the total, but never below {@link MIN_ACTIVITY_ROWS} (nor above the per-session cap).
 */
export function activityRowBudget(sessions: number, perSession: number, total: number): number {
  if (sessions === 0) return perSession;
  return Math.min(perSession, Math.max(MIN_ACTIVITY_ROWS, Math.floor(total / sessions)));
}

function buildCover(pack: EvidencePack, seal: SealFacts): RenderModel['cover'] {
  const p = pack.pack;
  const s = p.scope;
  return {
    heading: `${capitalise(p.kind)} evidence pack`,
    facts: [
      { label: 'Pack kind', value: p.kind },
      { label: 'Series', value: p.series },
      { label: 'Pack id', value: p.id },
      { label: 'Window (UTC)', value: `${formatTime(p.window.from)} to ${formatTime(p.window.to)}` },
      { label: 'Data read from', value: formatTime(p.data_from) },
      { label: 'Users in scope', value: s.users.length > 0 ? s.users.join(', ') : 'all' },
      ...(s.user_ties ?? []).map((t) => ({
        label: 'Joined to a user',
        value: `${t.form} joined to ${t.user}: the logs give both the SID ${t.sid} (${t.events} events)`,
      })),
      { label: 'Hosts in scope', value: s.hosts.length > 0 ? s.hosts.join(', ') : 'all' },
      { label: 'Unprivileged sessions', value: s.include_unprivileged ? 'included' : 'not included' },
      { label: 'Incident id', value: s.incident_id ?? NONE },
      { label: 'Requester', value: s.requester ?? NONE },
      { label: 'Reason', value: s.reason ?? NONE },
      { label: 'Sources', value: p.sources.join(', ') || NONE },
      { label: 'evidence.json sha256', value: seal.evidenceSha256 },
      { label: 'Signer key id', value: seal.keyId },
      { label: 'Signer key fingerprint', value: seal.keyFingerprint },
      ...(seal.sealedAt === undefined
        ? []
        : [
            { label: 'Sealed (UTC)', value: formatTime(seal.sealedAt) },
            { label: 'Sealed by', value: seal.operator ?? NONE },
            {
              label: 'Sequence in series',
              value: seal.sequence === undefined ? NONE : String(seal.sequence),
            },
          ]),
      { label: 'Tool', value: `${pack.tool.name} ${pack.tool.version}` },
      { label: 'Engine', value: `${seal.engine.name} ${seal.engine.version}` },
      { label: 'Configuration sha256', value: pack.tool.config_sha256 },
    ],
  };
}

function buildSummary(pack: EvidencePack): RenderModel['summary'] {
  const s = pack.summary;
  const reasons = new Map<MissingReason, number>();
  for (const session of pack.sessions) {
    for (const r of session.completeness.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  return {
    counts: [
      { label: 'Privileged sessions', value: `${s.privileged_sessions} of ${s.sessions} sessions` },
      { label: 'Accounts', value: String(s.accounts) },
      { label: 'Hosts', value: String(s.hosts) },
      { label: 'Activity events in sessions', value: String(s.activity_events) },
      {
        label: 'Orphan activity',
        value: `${s.orphan_events} events in ${s.orphan_groups} groups not tied to a logon`,
      },
      { label: 'Suppressed sessions', value: String(s.suppressed_sessions) },
      { label: 'Integrity events', value: String(s.integrity_events) },
      { label: 'Rejected records', value: String(s.rejected_records) },
    ],
    verdicts: {
      headers: ['Verdict or reason', 'Sessions'],
      rows: [
        ['complete', String(s.verdicts.complete)],
        ['incomplete', String(s.verdicts.incomplete)],
        ...[...reasons.entries()]
          .sort(([a], [b]) => compare(a, b))
          .map(([r, n]): Row => [`  incomplete because: ${REASON_TEXT[r]}`, String(n)]),
      ],
    },
    suppressions: {
      headers: ['Rule', 'Description', 'Owner', 'Expires', 'Sessions', 'Orphan events'],
      rows: pack.suppressions.map((r) => [
        r.rule_id,
        r.reason ? `${r.description} (${r.reason})` : r.description,
        r.owner ?? NONE,
        r.expires ? `${r.expires}${r.expired ? ' (expired)' : ''}` : 'never',
        String(r.sessions_suppressed),
        String(r.orphan_events_suppressed),
      ]),
    },
    gaps: buildGaps(pack),
  };
}

const REASON_TEXT: Readonly<Record<MissingReason, string>> = {
  began_before_data: 'began before the data read',
  logoff_not_audited: 'logoff not audited',
  reboot: 'host rebooted',
  shutdown: 'host shut down',
  log_cleared: 'log cleared',
  open_at_window_end: 'still open at window end',
  no_privilege_event: 'no privilege assignment logged',
  data_ends: "the host's data stops while it is open",
  coverage_gap: 'the host logged nothing for a while during it',
  start_inferred: 'its start is inferred from its first activity (no logon was logged)',
};

/** The one paragraph that says what the pack does not show, from coverage and `limitations`. */
function buildGaps(pack: EvidencePack): string {
  const phrases: string[] = [];
  // A requested host is seen when a host of the data has its name or its first label, as the scope
  // matched it (reconstruct.ts hostScopeSql): `WORKSTATION6` is `WORKSTATION6.THESHIRE.LOCAL`.
  const seenHosts = new Set(
    pack.coverage.hosts.flatMap((h) => [foldCase(h.host), foldCase(h.host.split('.')[0] ?? '')]),
  );
  const silent = pack.pack.scope.hosts.filter((h) => !seenHosts.has(foldCase(h)));
  if (silent.length > 0) phrases.push(`any event from ${silent.join(', ')} (in scope, but no records read)`);
  if (pack.pack.data_from < pack.pack.window.from) {
    phrases.push(`logons before ${formatTime(pack.pack.data_from)}, where the data read begins`);
  }
  phrases.push(...logIntegrity(pack).gaps);
  const byReason = new Map<string, number>();
  for (const r of pack.coverage.rejected) byReason.set(r.source, (byReason.get(r.source) ?? 0) + r.count);
  for (const [source, count] of byReason) phrases.push(`${count} ${source} records that could not be read`);
  const notAudited = pack.sessions.filter((s) =>
    s.completeness.reasons.includes('logoff_not_audited'),
  ).length;
  if (notAudited > 0) phrases.push(`the logoff of ${notAudited} sessions (logoff not audited)`);
  const suppressed = pack.suppressions.filter((r) => r.sessions_suppressed + r.orphan_events_suppressed > 0);
  for (const r of suppressed) {
    phrases.push(
      `${r.sessions_suppressed} sessions and ${r.orphan_events_suppressed} orphan events suppressed by rule ${r.rule_id}`,
    );
  }
  if (!pack.pack.scope.include_unprivileged) phrases.push('sessions that are not privileged');
  const head =
    phrases.length > 0
      ? `This pack does not show ${phrases.join('; ')}.`
      : 'This pack does not show anything outside its scope and window.';
  return [head, ...pack.limitations].join(' ');
}

/** What {@link logIntegrity} says about the logs themselves. */
export interface LogIntegrity {
  /** "This pack does not show …" phrases: what the logs' clearing, stopping or audit changes may have hidden. */
  readonly gaps: readonly string[];
  /** The data-quality page's sentence on log integrity, above the integrity-event table. */
  readonly statement: string;
}

/** The integrity kinds whose change (when not denied) leaves records out of the data, and how each is said. */
const HIDING_KINDS: Partial<Record<IntegrityEvent['kind'], (host: string, what: string) => string>> = {
  log_cleared: (host, what) => `events on ${host} cleared from the log (${what})`,
  audit_service_stopped: (host, what) => `activity on ${host} after auditing stopped (${what})`,
  logging_stopped: (host, what) => `activity on ${host} after audit logging was stopped (${what})`,
  audit_policy_changed: (host, what) =>
    `events on ${host} that the audit-policy change (${what}) may have stopped recording`,
};

/**
 * The one decision on what the pack says about its logs' integrity, derived from its integrity
 * events and its log-tampering findings, for the "does not show" paragraph and the data-quality
 * page alike: neither can say "no log clearing" or "no audit stop" while the pack holds one, and a
 * stop that succeeded (a deleted trail) is named as a gap, while a denied attempt is counted but
 * hides nothing.
 */
export function logIntegrity(pack: EvidencePack): LogIntegrity {
  const gaps: string[] = [];
  // One phrase per host, kind and event code: a GPO refresh can log dozens of 4719.
  const groups = new Map<string, IntegrityEvent[]>();
  for (const e of pack.integrity_events) {
    if (e.denied || HIDING_KINDS[e.kind] === undefined) continue;
    const key = `${e.host}\u0000${e.kind}\u0000${e.event_code}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  for (const list of groups.values()) {
    const first = list[0] as IntegrityEvent;
    const code = shortCode(first.event_code);
    const what =
      list.length === 1
        ? `${code} at ${formatTime(first.time)}`
        : `${code} ×${list.length}, first at ${formatTime(first.time)}`;
    gaps.push((HIDING_KINDS[first.kind] as (host: string, what: string) => string)(first.host, what));
  }
  // A log-tampering finding whose records are not in the integrity list (none today: every rule's
  // record is an integrity event) is still a gap the paragraph must not leave out.
  const listed = new Set(pack.integrity_events.map((e) => e.raw_ref));
  const numbered = pack.findings.map((f, i) => ({ f, n: i + 1 }));
  const tampering = numbered.filter(({ f }) => f.category === 'log_tampering');
  for (const { f, n } of tampering)
    if (!f.records.some((r) => listed.has(r.raw_ref)))
      gaps.push(
        `what the log tampering of finding F${n} on ${f.host} at ${formatTime(f.time)} may have hidden`,
      );

  const byKind = new Map<string, number>();
  for (const e of pack.integrity_events) {
    const label = `${e.denied ? 'denied attempt: ' : ''}${e.kind.replaceAll('_', ' ')}`;
    byKind.set(label, (byKind.get(label) ?? 0) + 1);
  }
  let statement: string;
  if (pack.integrity_events.length === 0 && tampering.length === 0) {
    statement =
      'No log clearing, logging stop or audit-policy change (attempted or done), time change, boot or shutdown in the data.';
  } else {
    const counts = [...byKind.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const n = pack.integrity_events.length;
    statement =
      (n === 0
        ? 'No integrity event is in the data read'
        : `The data holds ${n} integrity event${n === 1 ? '' : 's'} (${counts})`) +
      (tampering.length === 0
        ? '.'
        : `; the findings register holds ${tampering.length} log-tampering finding${tampering.length === 1 ? '' : 's'} (${tampering
            .map(({ n: k }) => `F${k}`)
            .join(', ')}).`);
  }
  return { gaps, statement };
}

/** `cloudtrail.amazonaws.com:DeleteTrail` → `DeleteTrail`; Windows and auditd codes as they are. */
function shortCode(code: string): string {
  return code.includes(':') ? code.slice(code.lastIndexOf(':') + 1) : code;
}

function buildTimeline(pack: EvidencePack): Timeline {
  const from = Date.parse(pack.pack.window.from);
  const to = Date.parse(pack.pack.window.to);
  const hosts = new Set(pack.sessions.map((s) => s.host));
  const accounts = new Set(pack.sessions.map((s) => s.account));
  for (const o of pack.orphan_activity) {
    hosts.add(o.host);
    accounts.add(o.account);
  }
  // Lanes by host unless there are fewer accounts than hosts: fewer lanes read better.
  const laneBy: Timeline['laneBy'] = accounts.size < hosts.size ? 'account' : 'host';
  const keyOf = (x: { host: string; account: string }) => (laneBy === 'host' ? x.host : x.account);
  const lanes = new Map<string, { bars: TimelineBar[]; orphans: TimelineMark[]; hosts: Set<string> }>();
  const lane = (key: string) => {
    let l = lanes.get(key);
    if (!l) {
      l = { bars: [], orphans: [], hosts: new Set() };
      lanes.set(key, l);
    }
    return l;
  };
  const clip = (t: number) => Math.min(Math.max(t, from), to);
  // A lane shows the coverage gaps of the hosts it holds (its own host, or the hosts of its account).
  const gapsOf = (hosts: ReadonlySet<string>): TimelineMark[] =>
    pack.coverage.hosts
      .filter((h) => hosts.has(h.host))
      .flatMap((h) =>
        h.gaps.map((g) => ({ start: clip(Date.parse(g.from)), end: clip(Date.parse(g.to)), events: 0 })),
      )
      .sort((a, b) => a.start - b.start || a.end - b.end);
  for (const s of pack.sessions) {
    const startMs = s.start === null ? null : Date.parse(s.start);
    const endMs = s.end === null ? null : Date.parse(s.end);
    lane(keyOf(s)).hosts.add(s.host);
    lane(keyOf(s)).bars.push({
      sessionId: s.id,
      start: clip(startMs ?? from),
      end: clip(endMs ?? to),
      openStart: startMs === null || startMs < from,
      openEnd: endMs === null || s.end_reason === 'open_at_window_end' || endMs > to,
      privileged: s.privileged,
      elevated: elevatedSpan(s, from, to, clip),
    });
  }
  for (const o of pack.orphan_activity) {
    lane(keyOf(o)).hosts.add(o.host);
    lane(keyOf(o)).orphans.push({
      start: clip(Date.parse(o.first_seen)),
      end: clip(Date.parse(o.last_seen)),
      events: o.event_count,
    });
  }
  return {
    from,
    to,
    laneBy,
    lanes: [...lanes.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([label, l]) => ({ label, bars: l.bars, orphans: l.orphans, gaps: gapsOf(l.hosts) })),
  };
}

function elevatedSpan(
  s: Session,
  from: number,
  to: number,
  clip: (t: number) => number,
): TimelineBar['elevated'] {
  const half = s.halves.find((h) => h.elevated === true);
  if (!half && !s.elevated) return null;
  const start = half?.start ?? s.start;
  const end = half?.end ?? s.end;
  return {
    start: clip(start === null ? from : Date.parse(start)),
    end: clip(end === null ? to : Date.parse(end)),
  };
}

function buildSessionDetail(
  s: Session,
  maxRows: number,
  findingRefs: ReadonlyMap<string, readonly number[]> = new Map(),
): SessionDetail {
  const primary = s.halves.find((h) => h.logon_id === s.logon_id);
  const partner = s.halves.find((h) => h.logon_id !== s.logon_id);
  const c = s.completeness;
  const facts: Fact[] = [
    { label: 'Session id', value: s.id },
    { label: 'Account', value: s.account },
    ...(s.person ? [{ label: 'Person', value: `${s.person.id} (${s.person.tie})` }] : []),
    { label: 'User name', value: s.user.name ?? NONE },
    { label: 'Domain', value: s.user.domain ?? NONE },
    { label: 'SID / uid', value: s.user.uid ?? NONE },
    { label: 'Host', value: `${s.host} (${s.source})` },
    { label: 'Boot epoch', value: s.boot_time ? `booted ${formatTime(s.boot_time)}` : 'no boot in the data' },
    {
      label: 'Logon type',
      value:
        s.logon_type === null ? NONE : `${s.logon_type}${s.logon_type_name ? ` ${s.logon_type_name}` : ''}`,
    },
    {
      label: 'Source address',
      value: [s.src_ip, s.src_host].filter((v) => v !== null).join(' / ') || NONE,
    },
    {
      label: 'Logon process',
      value: [s.logon_process, s.auth_package].filter((v) => v !== null).join(' / ') || NONE,
    },
    // Source-specific facts (role ARN, source identity, MFA, TTY, …) as the source named them.
    ...s.details.map((d) => ({ label: d.name, value: d.value })),
    { label: 'Start', value: s.start ? formatTime(s.start) : 'not in the data' },
    { label: 'End', value: `${s.end ? formatTime(s.end) : 'not in the data'} (${END_TEXT[s.end_reason]})` },
    {
      label: 'Logon id',
      // The token type is a Windows notion: said only where it is logged or the session is a UAC pair.
      value: `${s.logon_id}${primary && (partner || primary.elevated !== null) ? ` (${halfName(primary.elevated)})` : ''}`,
    },
    {
      label: 'Linked session',
      value: s.linked_logon_id
        ? `${s.linked_logon_id}${
            partner
              ? ` (${halfName(partner.elevated)} half, merged)`
              : s.details.some((d) => d.name === 'linked_session')
                ? ` (${s.details.find((d) => d.name === 'linked_session')?.value}, in this pack)`
                : ' (not in the data)'
          }`
        : NONE,
    },
    ...(s.pairing === null
      ? []
      : [
          {
            label: 'Pairing',
            value: `${s.pairing.method === 'inferred' ? 'inferred' : 'logged'}, ${s.pairing.gap_ms} ms apart: ${s.pairing.basis}`,
          },
          // Each half with the records it rests on, so a reviewer can check the pair (above all an inferred one).
          ...s.halves.map((h) => ({
            label: `${capitalise(halfName(h.elevated))} half`,
            value: [
              `logon id ${h.logon_id}`,
              `logon ${h.start ? formatTime(h.start) : 'not in the data'}${h.logon_ref ? ` (${h.logon_ref})` : ''}`,
              `special privileges ${h.privileges.length > 0 ? h.privileges.join(', ') : 'none'}${h.privilege_ref ? ` (${h.privilege_ref})` : ''}`,
              `end ${h.end ? formatTime(h.end) : 'not in the data'} (${END_TEXT[h.end_reason]}${h.logoff_ref ? `, ${h.logoff_ref}` : ''})`,
            ].join('; '),
          })),
        ]),
    {
      label: 'Privileged because',
      value: s.privileged ? s.privileged_because.join(', ') || 'yes' : 'not privileged',
    },
    { label: 'Privileges', value: s.privileges.join(', ') || NONE },
    {
      label: 'Completeness',
      value:
        `${c.verdict}: logon ${c.logon}, privilege assignment ${c.privilege_assignment.replace('_', ' ')}, logoff ${c.logoff.replace('_', ' ')}` +
        (c.reasons.length > 0 ? `; likely because ${c.reasons.map((r) => REASON_TEXT[r]).join(', ')}` : ''),
    },
  ];
  if (s.reconnects.length > 0) {
    facts.push({
      label: 'Reconnects',
      value: s.reconnects.map((r) => `${formatTime(r.time)} ${r.event_code}`).join(', '),
    });
  }
  const { rows, shown, numbers } = budgetedActivity(s.activity, maxRows, findingRefs);
  return {
    id: s.id,
    title: `${s.account} on ${s.host}${s.privileged ? ' (privileged)' : ''}`,
    facts,
    activity: { headers: ACTIVITY_HEADERS, rows },
    omittedRows: Math.max(s.activity.length, s.activity_count) - shown,
    findingNumbers: numbers,
  };
}

/**
 * The activity rows the PDF prints: the first `maxRows`, and every row a finding rests on wherever
 * it is (its event cell prefixed with the finding's register number, `F3`), with a row saying how
 * many rows were left out between them.
 */
function budgetedActivity(
  activity: readonly ActivityEvent[],
  maxRows: number,
  findingRefs: ReadonlyMap<string, readonly number[]>,
): { rows: Row[]; shown: number; numbers: number[] } {
  const rows: Row[] = [];
  const numbers = new Set<number>();
  let shown = 0;
  let gapStart = -1;
  let beyondBudget = false;
  const closeGap = (end: number) => {
    if (gapStart < 0) return;
    rows.push([
      NONE,
      NONE,
      NONE,
      'rows omitted',
      `${end - gapStart} rows omitted here (rows ${gapStart + 1}-${end} of ${activity.length}); evidence.json holds them`,
      NONE,
    ]);
    gapStart = -1;
  };
  activity.forEach((e, i) => {
    const marks = findingRefs.get(e.raw_ref);
    if (i >= maxRows && marks === undefined) {
      if (gapStart < 0) gapStart = i;
      return;
    }
    closeGap(i);
    shown += 1;
    const row = activityRow(e);
    if (marks === undefined) {
      rows.push(row);
      return;
    }
    for (const n of marks) numbers.add(n);
    if (i >= maxRows) beyondBudget = true;
    rows.push([row[0] as string, `${marks.map((n) => `F${n}`).join(' ')} ${row[1]}`, ...row.slice(2)]);
  });
  // A gap that runs to the end is said by the omitted-rows line after the table, unless a finding row
  // came after the budget (then the rows between are said here and the tail after the table).
  if (beyondBudget) closeGap(activity.length);
  return { rows, shown, numbers: [...numbers].sort((a, b) => a - b) };
}

/** Register number(s) (1-based, register order) of the findings that rest on each record. */
function findingNumbersByRef(findings: readonly Finding[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  findings.forEach((f, i) => {
    for (const r of f.records) {
      const list = out.get(r.raw_ref) ?? [];
      if (!list.includes(i + 1)) list.push(i + 1);
      out.set(r.raw_ref, list);
    }
  });
  return out;
}

const SEVERITIES = ['high', 'medium', 'low'] as const;
/** A line to write on, in the sign-off block. */
const BLANK = '_'.repeat(40);

function buildFindingsPages(pack: EvidencePack, sessions: SessionDetails): FindingsPages {
  const count = (sev: string) => pack.findings.filter((f) => f.severity === sev).length;
  const total = pack.findings.length;
  const sentence =
    `This pack holds ${total} finding${total === 1 ? '' : 's'}: ` +
    `${SEVERITIES.map((sev) => `${count(sev)} ${sev}`).join(', ')} ` +
    `(from ${pack.finding_rules.length} rules; ${pack.findings.filter((f) => f.suppressed_by !== null).length} of them concern accounts a suppression rule matches, shown regardless).`;
  const sessionNo = new Map(pack.sessions.map((s, i) => [s.id, i + 1]));
  const register: Table = {
    headers: ['No.', 'Severity', 'What', 'When (UTC)', 'Who', 'Where', 'Session', 'Disposition'],
    rows: pack.findings.map((f, i) => [
      `F${i + 1}`,
      f.severity,
      [
        f.statement,
        `[${f.rule_id}${f.records.length > 1 ? `, ${f.records.length} records` : ''}]`,
        ...(f.suppressed_by ? [`(matches suppression rule ${f.suppressed_by}; shown regardless)`] : []),
        ...(f.redacted ? ['(secret redacted in this pack)'] : []),
      ].join(' '),
      formatTime(f.time),
      f.account ?? NONE,
      f.host,
      f.session
        ? `session ${sessionNo.get(f.session.id) ?? '?'} (${f.session.id}${f.session.half ? `, ${f.session.half} half` : ''})`
        : f.orphan
          ? `orphan activity ${f.orphan.host} ${f.orphan.logon_id ?? ''}`.trim()
          : NONE,
      '',
    ]),
  };
  const sessionIds = new Set(pack.sessions.map((s) => s.id));
  const orphanHosts = new Set(pack.orphan_activity.map((g) => g.host));
  const registerLinks = pack.findings.map((f) =>
    f.session && sessionIds.has(f.session.id)
      ? sessionDestination(f.session.id)
      : f.orphan && orphanHosts.has(f.orphan.host)
        ? orphanDestination(f.orphan.host)
        : null,
  );
  const codes = new Set<string>();
  for (const f of pack.findings) for (const r of f.records) codes.add(r.event_code);
  for (const e of pack.integrity_events) codes.add(e.event_code);
  // The data-quality page's field-population table and the sessions' reconnect facts print codes too.
  for (const f of pack.coverage.field_population) codes.add(f.event_code);
  for (const s of pack.sessions) for (const r of s.reconnects) codes.add(r.event_code);
  for (const s of sessions)
    for (const r of s.activity.rows) {
      const code = (r[1] ?? '').replace(/^(F\d+ )+/, '');
      if (code !== NONE && code !== '') codes.add(code);
    }
  return {
    sentence,
    register,
    registerLinks,
    signOff: [
      { label: 'Prepared by', value: BLANK },
      { label: 'Reviewed by', value: BLANK },
      { label: 'Date of review', value: BLANK },
      { label: 'Control reference', value: pack.workpaper.control_reference ?? BLANK },
    ],
    legend: {
      headers: ['Event', 'Meaning'],
      rows: [...codes].sort(compare).map((c) => [c, eventMeaning(c)]),
    },
  };
}

const ACTIVITY_HEADERS = ['Time (UTC)', 'Event', 'Half', 'Process or action', 'Command line', 'Target'];

function activityRow(e: ActivityEvent): Row {
  return [
    formatTime(e.time),
    e.event_code,
    e.half ?? NONE,
    e.process ?? e.action,
    e.command_line ?? NONE,
    e.target ?? NONE,
  ];
}

const END_TEXT: Readonly<Record<Session['end_reason'], string>> = {
  logoff: 'logoff',
  user_logoff: 'user logoff',
  shutdown: 'shutdown',
  reboot: 'reboot',
  id_reused: 'logon id reused: a reboot the data does not show',
  credentials_expired: 'credentials expired',
  last_activity: 'last activity (the source logs no logoff)',
  data_ends: "the host's data stops here",
  open_at_window_end: 'open at window end',
};

function halfName(elevated: boolean | null): string {
  if (elevated === null) return 'token type not logged';
  return elevated ? 'elevated' : 'filtered';
}

function buildOrphans(groups: readonly OrphanGroup[]): OrphanHostBlock[] {
  const byHost = new Map<string, Row[]>();
  for (const g of groups) {
    let rows = byHost.get(g.host);
    if (!rows) {
      rows = [];
      byHost.set(g.host, rows);
    }
    rows.push([
      g.account,
      g.logon_id ?? NONE,
      formatTime(g.first_seen),
      formatTime(g.last_seen),
      String(g.event_count),
      g.ended === null ? NONE : `${formatTime(g.ended)} (logoff)`,
      g.likely_reason.replaceAll('_', ' '),
    ]);
  }
  return [...byHost.entries()].map(([host, rows]) => ({
    host,
    groups: {
      headers: ['Account', 'Logon id', 'First seen', 'Last seen', 'Events', 'Ended', 'Likely reason'],
      rows,
    },
  }));
}

function buildDataQuality(pack: EvidencePack): RenderModel['dataQuality'] {
  const c = pack.coverage;
  return {
    sources: {
      headers: [
        'Source',
        'Files',
        'Read',
        'Used',
        'Outside window',
        'Skipped',
        'Rejected',
        'Duplicates',
        'Time fields',
      ],
      rows: c.sources.map((s) => [
        s.source,
        String(s.files),
        String(s.records_read),
        String(s.records_used),
        String(s.records_outside_window),
        String(s.records_skipped),
        String(s.records_rejected),
        String(s.duplicates_collapsed),
        [
          s.time_fields.map((t) => `${t.field}: ${t.records}`).join(', ') || NONE,
          // what the JSON's utc_time_checks say, in agreement or not (a limitation says a contradiction)
          ...(s.utc_time_checks ?? []).map(
            (u) =>
              `Sysmon UtcTime minus ${u.time_field} on ${u.host}: median ${u.median_ms} ms (${u.min_ms} to ${u.max_ms} ms, ${u.records} records)`,
          ),
        ].join('; '),
      ]),
    },
    reasons: {
      headers: ['Source', 'Outcome', 'Reason', 'Records', 'Examples'],
      rows: [
        ...c.rejected.map(
          (r): Row => [r.source, 'rejected', r.reason, String(r.count), r.examples.join(' ') || NONE],
        ),
        ...c.skipped.map(
          (r): Row => [r.source, 'skipped', r.reason, String(r.count), r.examples.join(' ') || NONE],
        ),
      ],
    },
    inputs: buildInputs(pack.inputs),
    fieldPopulation: {
      headers: ['Source', 'Event', 'Field', 'Populated', 'Of', 'Share'],
      rows: c.field_population.map((f) => [
        f.source,
        f.event_code,
        f.field,
        String(f.populated),
        String(f.total),
        f.total === 0 ? NONE : `${((100 * f.populated) / f.total).toFixed(1)} %`,
      ]),
    },
    integrityStatement: logIntegrity(pack).statement,
    integrity: {
      headers: ['Time (UTC)', 'Host', 'Event', 'Kind', 'By', 'Detail'],
      rows: pack.integrity_events.map((e: IntegrityEvent) => [
        formatTime(e.time),
        e.host,
        e.event_code,
        `${e.denied ? 'denied attempt: ' : ''}${e.kind.replaceAll('_', ' ')}`,
        e.user_name ?? NONE,
        e.detail ?? NONE,
      ]),
    },
    hosts: {
      headers: ['Host', 'First event', 'Last event', 'Events', 'Logoff events', 'Coverage gaps'],
      rows: c.hosts.map((h) => [
        h.host,
        formatTime(h.first_event),
        formatTime(h.last_event),
        String(h.events),
        String(h.logoff_events),
        h.gaps.map((g) => `${formatTime(g.from)} to ${formatTime(g.to)}`).join(', ') || NONE,
      ]),
    },
  };
}

/** Files read in full are listed up to this many; every file not read in full is always listed. */
export const MAX_READ_FILES_LISTED = 200;

/**
 * The input list (evidence.json `inputs`): every file skipped, unreadable or damaged, with its
 * reason, and the files read in full up to {@link MAX_READ_FILES_LISTED} (a fleet's month is tens of
 * thousands); the note says how many of each status there are and that evidence.json lists them all.
 */
function buildInputs(inputs: readonly InputRecord[] | undefined): { table: Table; note: string } {
  const list = inputs ?? [];
  const byStatus = new Map<string, number>();
  for (const f of list) byStatus.set(f.status, (byStatus.get(f.status) ?? 0) + 1);
  let readShown = 0;
  const rows: Row[] = [];
  for (const f of list) {
    if (f.status === 'read' && readShown >= MAX_READ_FILES_LISTED) continue;
    if (f.status === 'read') readShown += 1;
    rows.push([
      f.source,
      f.key,
      f.status,
      f.reason ?? NONE,
      f.size === null ? NONE : String(f.size),
      f.range?.last_line == null ? NONE : String(f.range.last_line),
      f.records === null ? NONE : String(f.records),
      f.sha256 === null
        ? f.s3
          ? `S3 version ${f.s3.version_id ?? 'null'}`
          : NONE
        : `${f.sha256.slice(0, 16)}…`,
    ]);
  }
  const read = byStatus.get('read') ?? 0;
  const counts = ['read', 'skipped', 'unreadable', 'damaged']
    .map((s) => `${byStatus.get(s) ?? 0} ${s}`)
    .join(', ');
  const note =
    inputs === undefined
      ? 'No file list: the engine read tables whose files it lists itself.'
      : `${list.length} files found: ${counts}.` +
        (read > readShown
          ? ` Listed below: every file not read in full and the first ${readShown} files read; evidence.json (inputs) lists all ${list.length}, with their full sha256.`
          : ' All are listed below; evidence.json (inputs) gives their full sha256.');
  return {
    table: {
      headers: ['Source', 'File', 'Status', 'Reason', 'Size', 'Lines read', 'Records', 'sha256'],
      rows,
    },
    note,
  };
}

/** The sealed digest of one query file; a missing one is a bug in the caller, never shown as a blank. */
function querySha(seal: SealFacts, file: string): string {
  const sha = seal.querySha256[file];
  if (sha === undefined)
    throw new SessiontrailError('INTERNAL', `no sha256 given for ${file} (a bug in sessiontrail)`);
  return sha;
}

function buildMethod(pack: EvidencePack, seal: SealFacts): RenderModel['method'] {
  return {
    queries: {
      headers: ['#', 'Query', 'File', 'Rows', 'SQL sha256'],
      rows: pack.queries.map((q, i) => [
        String(i + 1),
        q.name,
        q.file,
        String(q.rows),
        querySha(seal, q.file),
      ]),
    },
    paragraphs: [
      'Sessions are keyed by (host, boot epoch, logon id): Windows logon ids and auditd session ids restart at ' +
        'every boot, so the boot (event 4608) that precedes a logon on its host opens a new epoch. Records ' +
        'delivered twice by at-least-once shippers collapse on their source record id; order is by time, then record number.',
      'A UAC split-token logon writes two 4624 events with linked logon ids, one elevated (%%1842) and one ' +
        'filtered (%%1843). The two halves are merged into one session whose primary logon id is the elevated ' +
        'half; each activity row says which half ran it. Older Windows (4624 versions 0 and 1) logs no linked ' +
        'logon id: there a pair is inferred, and the session says so and on what basis.',
      'A session is privileged when it holds an elevated token, is assigned a sensitive privilege (event 4672, ' +
        `e.g. SeDebugPrivilege), or belongs to an account on the configured privileged list. The configuration ` +
        `that decided this has sha256 ${pack.tool.config_sha256}.`,
      `The privileged criteria in effect (built-in and configured): ${criteriaText(pack.privileged_criteria)}.`,
      'Each session carries a completeness verdict: what was expected (logon, privilege assignment, logoff), ' +
        'what was observed, and the likely reasons for what is missing.',
    ],
    verification: {
      // Run from the pack folder, with the publisher's key obtained out of band (never the copy
      // beside the packs: whoever can change a pack can change that copy too).
      signatureCommand: 'openssl dgst -sha256 -verify trusted-key.pem -signature manifest.sig manifest.json',
      // "*" marks binary mode: one space, so the line survives copying out of a PDF viewer intact.
      evidenceCheckCommand: `echo "${seal.evidenceSha256} *evidence.json" | sha256sum -c`,
      otherFilesCommand: 'sha256sum evidence.json evidence.pdf queries/*.sql',
      expectedDigests: {
        headers: ['File', 'Expected sha256'],
        rows: [
          ['evidence.json', seal.evidenceSha256],
          ...pack.queries.map((q): Row => [q.file, querySha(seal, q.file)]),
        ],
      },
    },
  };
}

function criteriaText(c: EvidencePack['privileged_criteria']): string {
  const part = (label: string, values: readonly (string | number)[]) =>
    `${label}: ${values.length === 0 ? 'none' : values.join(', ')}`;
  return [
    part('privileges', c.privileges),
    part('account SIDs', c.accounts.sids),
    part('account SID or ARN patterns', c.accounts.sid_patterns),
    part('account names', c.accounts.names),
    part('account name patterns', c.accounts.name_patterns),
    part('logon types', c.accounts.logon_types),
    part('actions', c.actions),
  ].join('; ');
}

/** `2024-03-01T10:22:03.852Z` → `2024-03-01 10:22:03Z`; null → an em dash. Milliseconds stay in evidence.json. */
export function formatTime(iso: string | null): string {
  if (iso === null) return NONE;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Code-unit order, not locale order: the same on every machine. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
