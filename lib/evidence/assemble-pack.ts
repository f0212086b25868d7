/**
 * Turns the reconstruction queries' rows into the {@link EvidencePack}: nesting (halves into
 * sessions, activity into sessions, orphan events into groups), verdicts, summaries and the
 * sentences that say what the pack does not show. Pure and deterministic: the order of every array
 * is defined here, whatever order the engine returned rows in.
 */
import { createHash } from 'node:crypto';
import { type Config, findingsSettings } from '../config/config.ts';
import { integrityKindOf, isDeniedAttempt } from '../findings/integrity-kind.ts';
import type { Row } from '../query/query-engine.ts';
import { CREDENTIAL_CHAIN_HOPS, UAC_INFERRED_PAIR_MAX_GAP_MS } from '../query/reconstruct.ts';
import { INFERRED_LOGON_ACTION, type SourceTraits } from '../query/session-events.ts';
import { buildFindings, redactSecrets } from './assemble-findings.ts';
import { tieToPerson } from './identity.ts';
import type {
  AccountSummary,
  ActivityEvent,
  CollectorLag,
  Completeness,
  Coverage,
  EndReason,
  EvidencePack,
  InputRecord,
  IntegrityEvent,
  MissingReason,
  OrphanGroup,
  PackInfo,
  QueryRecord,
  ReasonCount,
  ScopeTie,
  Session,
  SessionHalf,
  SessionPairing,
  SourceCoverage,
  SuppressionCount,
  ToolInfo,
  UtcTimeCheck,
} from './model.ts';
import { EVIDENCE_SCHEMA_ID } from './model.ts';

export interface QueryResults {
  readonly halves: readonly Row[];
  readonly activity: readonly Row[];
  readonly orphans: readonly Row[];
  readonly integrity: readonly Row[];
  readonly suppressionCounts: readonly Row[];
  readonly coverageRecords: readonly Row[];
  readonly sourceStats: readonly Row[];
  readonly fieldPopulation: readonly Row[];
  readonly hostCoverage: readonly Row[];
  /** Per host, stretches of the window without any record (see `buildCoverageGapsQuery`). */
  readonly coverageGaps?: readonly Row[];
  /** Per source, the measured collector lag (`buildCollectorLagQuery` rows); absent or empty: none measured. */
  readonly collectorLag?: readonly Row[];
  /** Per source and host, a record's own UTC time against its time (`buildUtcTimeCheckQuery` rows); absent or empty: none measured. */
  readonly utcTimeChecks?: readonly Row[];
  /** Account forms joined to requested users through a SID (`buildScopeTiesQuery` rows with `user`). */
  readonly scopeTies?: readonly Row[];
  /** Users and hosts of the scope that matched no record, when an empty pack was asked for on purpose. */
  readonly unmatchedScope?: readonly string[];
  /** Short host names read as the one full name of the data with that first label (`host_as_logged`, `host`). */
  readonly hostAliases?: readonly Row[];
  /** Rows of the findings query (`lib/findings/findings-query.ts`); absent: no findings step ran. */
  readonly findings?: readonly Row[];
  /** Files, or records of them, rejected before the engine read them (see `LocatedInput.problems`). */
  readonly fileProblems: readonly {
    readonly source: string;
    readonly key: string;
    readonly reason: string;
    readonly count?: number;
    readonly examples?: readonly string[];
  }[];
}

export interface AssembleInput {
  readonly pack: PackInfo;
  readonly tool: ToolInfo;
  readonly config: Config;
  /** The request's control reference; absent or null: the configuration's applies. */
  readonly controlReference?: string | null;
  /** Rule ids that did not apply because they expired before the window end. */
  readonly expiredRules: readonly string[];
  readonly results: QueryResults;
  readonly queries: readonly QueryRecord[];
  /** Every input object found, with what became of it, when the locators listed them (sorted here). */
  readonly inputs?: readonly InputRecord[];
  /** For each source, which population fields each event code defines. */
  readonly definedFields: (source: string, eventCode: string) => readonly string[];
  /** What a source logs at all: a session without a logoff is incomplete only where logoffs are logged. */
  readonly traitsOf: (source: string) => SourceTraits;
}

const LOGON_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'System',
  2: 'Interactive',
  3: 'Network',
  4: 'Batch',
  5: 'Service',
  7: 'Unlock',
  8: 'NetworkCleartext',
  9: 'NewCredentials',
  10: 'RemoteInteractive',
  11: 'CachedInteractive',
  12: 'CachedRemoteInteractive',
  13: 'CachedUnlock',
};

const MAX_EXAMPLES = 5;

/** Builds the pack. */
export function assemblePack(input: AssembleInput): EvidencePack {
  const { config } = input;
  const { results, redacted } = redactSecrets(input.results, config);
  const activityByGroup = groupBy(results.activity, (r) => str(r.group_uid));
  const halvesByGroup = groupBy(results.halves, (r) => str(r.group_uid));

  const sessionOfGroup = new Map<string, Session>();
  const built = [...halvesByGroup.entries()]
    .map(([groupUid, halves]) =>
      recordSession(
        sessionOfGroup,
        groupUid,
        buildSession(
          groupUid,
          halves,
          activityByGroup.get(groupUid) ?? [],
          config,
          input.traitsOf(str(halves[0]?.source)),
        ),
      ),
    )
    .sort(compareSessions);

  const orphan_activity = buildOrphans(
    results.orphans,
    results.integrity,
    results.hostCoverage,
    input.traitsOf,
  );
  const integrity_events = results.integrity.map(buildIntegrity);
  // No findings step, no rule listed: `finding_rules` says which checks ran, never ones that did not.
  const { findings, finding_rules } =
    results.findings === undefined
      ? { findings: [], finding_rules: [] }
      : buildFindings(results.findings, sessionOfGroup, orphan_activity, redacted, accountName);
  const coverage = buildCoverage(results, input.definedFields);
  const sessions = markCoverageGaps(
    linkSessions(linkCreators(built, orphan_activity)),
    coverage,
    input.pack.window.to,
  );
  const suppressions = buildSuppressions(config, input.expiredRules, results.suppressionCounts);
  const accounts = buildAccounts(sessions);

  const rejected = coverage.rejected.reduce((n, r) => n + r.count, 0);
  const summary = {
    sessions: sessions.length,
    privileged_sessions: sessions.filter((s) => s.privileged).length,
    accounts: accounts.length,
    hosts: new Set(sessions.map((s) => s.host)).size,
    activity_events: sessions.reduce((n, s) => n + s.activity_count, 0),
    orphan_groups: orphan_activity.length,
    orphan_events: orphan_activity.reduce((n, g) => n + g.event_count, 0),
    verdicts: {
      complete: sessions.filter((s) => s.completeness.verdict === 'complete').length,
      incomplete: sessions.filter((s) => s.completeness.verdict === 'incomplete').length,
    },
    suppressed_sessions: suppressions.reduce((n, s) => n + s.sessions_suppressed, 0),
    integrity_events: integrity_events.length,
    rejected_records: rejected,
  };

  return {
    schema: EVIDENCE_SCHEMA_ID,
    pack: withScopeTies(input.pack, input.results.scopeTies ?? []),
    tool: input.tool,
    summary,
    accounts,
    sessions,
    orphan_activity,
    integrity_events,
    findings,
    finding_rules,
    workpaper: {
      control_reference: input.controlReference ?? findingsSettings(config).control_reference,
    },
    coverage,
    suppressions,
    privileged_criteria: {
      privileges: [...config.privileged.privileges],
      accounts: {
        sids: [...(config.privileged.accounts.sids ?? [])],
        sid_patterns: [...(config.privileged.accounts.sid_patterns ?? [])],
        names: [...(config.privileged.accounts.names ?? [])],
        name_patterns: [...(config.privileged.accounts.name_patterns ?? [])],
        logon_types: [...(config.privileged.accounts.logon_types ?? [])],
      },
      actions: [...config.privileged.actions],
    },
    queries: input.queries,
    ...(input.inputs === undefined
      ? {}
      : {
          inputs: [...input.inputs].sort((a, b) => cmp(a.source, b.source) || cmp(a.key, b.key)),
        }),
    limitations: buildLimitations(input, coverage, integrity_events, summary.orphan_events, sessions),
  };
}

function recordSession(into: Map<string, Session>, groupUid: string, session: Session): Session {
  into.set(groupUid, session);
  return session;
}

function buildSession(
  groupUid: string,
  rows: readonly Row[],
  activityRows: readonly Row[],
  config: Config,
  traits: SourceTraits,
): Session {
  const primary = rows.find((r) => r.instance_uid === groupUid) ?? (rows[0] as Row);
  const others = rows
    .filter((r) => r !== primary)
    .sort((a, b) => cmp(str(a.instance_uid), str(b.instance_uid)));
  const ordered = [primary, ...others];
  const isPair = ordered.length > 1;
  const halfOf = new Map<string, 'elevated' | 'filtered' | null>();
  for (const r of ordered) halfOf.set(str(r.instance_uid), isPair ? halfLabel(r.is_elevated) : null);

  const halves: SessionHalf[] = ordered.map((r) => ({
    logon_id: str(r.session_uid),
    elevated: bool(r.is_elevated),
    start: iso(r.start_ms),
    end: iso(r.end_ms),
    end_reason: str(r.end_reason) as EndReason,
    privileges: splitPrivileges(r.privileges),
    logon_ref: opt(r.logon_ref),
    privilege_ref: opt(r.privilege_ref),
    logoff_ref: opt(r.logoff_ref),
  }));

  const isReconnect = (r: Row) => r.kind === 'reconnect' || r.kind === 'disconnect';
  const reconnects = activityRows
    .filter(isReconnect)
    .map((r) => activityEvent(r, halfOf.get(str(r.instance_uid)) ?? null));
  const activity = activityRows
    .filter((r) => !isReconnect(r))
    .map((r) => activityEvent(r, halfOf.get(str(r.instance_uid)) ?? null));

  const privileges = [...new Set(halves.flatMap((h) => h.privileges))].sort(cmp);
  const because = new Set<string>();
  for (const r of ordered) {
    if (r.priv_by_privilege === true) {
      for (const name of splitPrivileges(r.privileges)) {
        if (config.privileged.privileges.includes(name)) because.add(`privilege:${name}`);
      }
    }
    if (r.priv_by_elevation === true) because.add('elevated_token');
    if (r.priv_by_account === true) because.add('account:privileged_list');
    if (r.priv_by_action === true) because.add('action:privileged_action');
  }

  const starts = ordered.map((r) => num(r.start_ms));
  const ends = ordered.map((r) => (r.end_ms === null ? null : num(r.end_ms)));
  const open = ends.some((e) => e === null);
  const lastEnd = open ? null : Math.max(...(ends as number[]));
  const endingHalf = open ? ordered[ends.indexOf(null)] : ordered[ends.indexOf(lastEnd)];
  const privileged = primary.privileged === true;

  const host = str(primary.host);
  const logonId = str(primary.session_uid);
  const startMs = Math.min(...starts);
  const partner = others[0];
  return {
    id: shortHash(`${host}|${num(primary.boot_ms)}|${logonId}|${startMs}`),
    source: str(primary.source),
    host,
    boot_time: num(primary.boot_ms) < 0 ? null : iso(primary.boot_ms),
    logon_id: logonId,
    linked_logon_id: partner !== undefined ? str(partner.session_uid) : opt(primary.linked_session_uid),
    user: { uid: opt(primary.user_uid), name: opt(primary.user_name), domain: opt(primary.user_domain) },
    account: accountName(primary),
    person: tieToPerson(
      { source: str(primary.source), user: identityOf(primary), details: parseDetails(primary.details) },
      config.identities,
    ),
    logon_type: primary.logon_type_id === null ? null : num(primary.logon_type_id),
    logon_type_name:
      primary.logon_type_id === null ? null : (LOGON_TYPE_NAMES[num(primary.logon_type_id)] ?? null),
    src_ip: opt(primary.src_ip),
    src_host: opt(primary.src_host),
    logon_process: opt(primary.logon_process),
    auth_package: opt(primary.auth_package),
    details: parseDetails(primary.details),
    start: new Date(startMs).toISOString(),
    end: lastEnd === null ? null : new Date(lastEnd).toISOString(),
    end_reason: str(endingHalf?.end_reason ?? 'open_at_window_end') as EndReason,
    privileged,
    privileged_because: [...because].sort(cmp),
    elevated: ordered.some((r) => r.is_elevated === true),
    privileges,
    halves,
    pairing: partner === undefined ? null : pairingOf(primary, partner),
    completeness: completeness(ordered, privileged, traits),
    reconnects,
    activity_count: activityRows.length,
    activity,
  };
}

/**
 * A session during which its host logged nothing for longer than the configured gap may have had
 * activity that is not in the data: its verdict says so.
 */
function markCoverageGaps(sessions: readonly Session[], coverage: Coverage, windowTo: string): Session[] {
  const gapsOf = new Map(coverage.hosts.map((h) => [h.host, h.gaps]));
  return sessions.map((s) => {
    const from = s.start ?? '';
    const to = s.end ?? windowTo;
    const during = (gapsOf.get(s.host) ?? []).some((g) => g.from < to && g.to > from);
    if (!during) return s;
    const reasons = [...new Set([...s.completeness.reasons, 'coverage_gap' as const])].sort(cmp);
    return { ...s, completeness: { ...s.completeness, verdict: 'incomplete', reasons } };
  });
}

/** How the two halves were tied, in words a reader can check against the two logons. */
function pairingOf(primary: Row, partner: Row): SessionPairing {
  const gap = Math.abs(num(primary.start_ms) - num(partner.start_ms));
  if (primary.pair_method !== 'inferred') {
    return {
      method: 'linked_logon_id',
      gap_ms: gap,
      basis: `each logon names the other as its linked logon (TargetLinkedLogonId ${str(primary.session_uid)} <-> ${str(partner.session_uid)})`,
    };
  }
  return {
    method: 'inferred',
    gap_ms: gap,
    basis:
      `inferred, not logged: neither logon names a linked logon or an elevation flag (4624 versions 0 and 1 log neither); ` +
      `both are logons of ${str(primary.user_uid)} of type ${str(primary.logon_type_id)} on ${str(primary.host)} in the same boot, ` +
      `logged ${gap} ms apart (bound ${UAC_INFERRED_PAIR_MAX_GAP_MS} ms), and only ${str(primary.session_uid)} received special privileges (4672), ` +
      'as the full token of a UAC split-token pair does',
  };
}

/**
 * A NewCredentials logon (type 9) is made by another logon (its `created_by_logon` detail): say
 * where that logon is in this pack, a session or an orphan group, or that it is not in the data.
 */
function linkCreators(sessions: readonly Session[], orphans: readonly OrphanGroup[]): Session[] {
  return sessions.map((s) => {
    const creator = s.details.find((d) => d.name === 'created_by_logon')?.value;
    if (creator === undefined) return s;
    const before = (t: string | null) => t !== null && s.start !== null && t <= s.start;
    const session = sessions.find(
      (o) => o !== s && o.host === s.host && o.halves.some((h) => h.logon_id === creator) && before(o.start),
    );
    const orphan = orphans.find((o) => o.host === s.host && o.logon_id === creator);
    const where =
      session !== undefined
        ? `session ${session.id}`
        : orphan !== undefined
          ? `orphan activity of ${orphan.account} (${orphan.host} ${creator})`
          : 'not in this pack';
    const details = [...s.details, { name: 'created_by', value: where }].sort((a, b) => cmp(a.name, b.name));
    return { ...s, details };
  });
}

/**
 * A session whose linked logon (the credentials a role session was assumed from) is another
 * session of this pack says which one, so a reader follows the chain inside the pack.
 */
function linkSessions(sessions: readonly Session[]): Session[] {
  return sessions.map((s) => {
    if (s.linked_logon_id === null || s.halves.length > 1) return s;
    const linked = sessions.find(
      (o) => o !== s && o.host === s.host && o.halves.some((h) => h.logon_id === s.linked_logon_id),
    );
    if (linked === undefined) return s;
    const details = [...s.details, { name: 'linked_session', value: `session ${linked.id}` }].sort((a, b) =>
      cmp(a.name, b.name),
    );
    return { ...s, details };
  });
}

function completeness(halves: readonly Row[], privileged: boolean, traits: SourceTraits): Completeness {
  const reasons = new Set<MissingReason>();
  const privilegeSeen = halves.some((r) => r.privilege_ref !== null);
  const privilege_assignment = privilegeSeen
    ? 'observed'
    : privileged && traits.privilegeEvents
      ? 'missing'
      : 'not_expected';
  if (privilege_assignment === 'missing') reasons.add('no_privilege_event');
  // A logon derived from the first activity (no record logged it) is a start inferred, not observed.
  const inferred = halves.every((r) => r.logon_action === INFERRED_LOGON_ACTION);
  if (inferred) reasons.add('start_inferred');
  const logon = inferred ? 'inferred' : 'observed';
  const dataEnds = halves.some((r) => r.end_reason === 'data_ends');
  if (!traits.logoffEvents) {
    // The source never logs a logoff: the end comes from its end hint (credential expiry, last activity).
    if (dataEnds) reasons.add('data_ends');
    const verdict = reasons.size > 0 ? 'incomplete' : 'complete';
    return {
      logon,
      privilege_assignment,
      logoff: 'not_expected',
      verdict,
      reasons: [...reasons].sort(cmp),
    };
  }
  let logoffSeen = true;
  for (const r of halves) {
    const reason = str(r.end_reason);
    if (reason === 'logoff' || reason === 'user_logoff') continue;
    logoffSeen = false;
    if (reason === 'shutdown') reasons.add('shutdown');
    else if (reason === 'reboot' || reason === 'id_reused') reasons.add('reboot');
    else if (reason === 'data_ends') reasons.add('data_ends');
    else if (num(r.host_logoffs) === 0) reasons.add('logoff_not_audited');
    else reasons.add('open_at_window_end');
    if (r.cleared_ms !== null && (r.end_ms === null || num(r.cleared_ms) <= num(r.end_ms)))
      reasons.add('log_cleared');
  }
  const complete = privilege_assignment !== 'missing' && logoffSeen && !inferred;
  return {
    logon,
    privilege_assignment,
    logoff: logoffSeen ? 'observed' : 'missing',
    verdict: complete ? 'complete' : 'incomplete',
    reasons: [...reasons].sort(cmp),
  };
}

function activityEvent(r: Row, half: 'elevated' | 'filtered' | null): ActivityEvent {
  return {
    time: iso(r.time_ms) as string,
    event_code: str(r.event_code),
    action: str(r.action),
    logon_id: opt(r.session_uid),
    half,
    user_name: opt(r.user_name),
    process: opt(r.process),
    parent_process: opt(r.parent_process),
    command_line: opt(r.command_line),
    target: opt(r.target),
    privileges: splitPrivileges(r.privileges),
    raw_ref: str(r.raw_ref),
  };
}

function buildOrphans(
  rows: readonly Row[],
  integrity: readonly Row[],
  hosts: readonly Row[],
  traitsOf: AssembleInput['traitsOf'],
): OrphanGroup[] {
  const logonsByHost = new Map(hosts.map((h) => [str(h.host), num(h.logons)]));
  const clears = integrity.filter((r) => r.action === 'log_cleared');
  // One group per (host, boot epoch, logon id): the events of one unknown session. Their user fields
  // may be spelled differently (NetBIOS vs DNS domain), so the identity shown is that of the first
  // event that names a SID.
  const groups = groupBy(rows, (r) =>
    [r.host, r.boot_ms, r.session_uid].map((v) => String(v)).join('\u0000'),
  );
  const out: OrphanGroup[] = [];
  for (const events of groups.values()) {
    const first = events.find((e) => e.user_uid !== null) ?? (events[0] as Row);
    const times = events.map((e) => num(e.time_ms));
    const firstMs = Math.min(...times);
    const host = str(first.host);
    const cleared = clears.some((c) => c.host === first.host && num(c.time_ms) <= firstMs);
    const logoffs = events.filter((e) => e.kind === 'logoff').map((e) => num(e.time_ms));
    out.push({
      host,
      boot_time: num(first.boot_ms) < 0 ? null : iso(first.boot_ms),
      logon_id: opt(first.session_uid),
      user: { uid: opt(first.user_uid), name: opt(first.user_name), domain: opt(first.user_domain) },
      account: accountName(first),
      first_seen: new Date(firstMs).toISOString(),
      last_seen: new Date(Math.max(...times)).toISOString(),
      event_count: events.length,
      ended: logoffs.length === 0 ? null : new Date(Math.min(...logoffs)).toISOString(),
      likely_reason: (traitsOf(str(first.source)).orphanMarkers ?? []).some((m) =>
        str(first.session_uid).startsWith(m),
      )
        ? 'no_login_session'
        : cleared
          ? 'log_cleared'
          : (logonsByHost.get(host) ?? 0) > 0
            ? 'began_before_data'
            : 'logon_not_in_data',
      events: events.map((e) => activityEvent(e, null)),
    });
  }
  return out.sort(
    (a, b) =>
      cmp(a.host, b.host) ||
      cmp(a.first_seen, b.first_seen) ||
      cmp(a.logon_id ?? '', b.logon_id ?? '') ||
      cmp(a.account, b.account),
  );
}

function buildIntegrity(r: Row): IntegrityEvent {
  const code = str(r.event_code);
  const kind = integrityKindOf(r);
  return {
    time: iso(r.time_ms) as string,
    host: str(r.host),
    event_code: code,
    kind,
    user_name: opt(r.user_name),
    logon_id: opt(r.session_uid),
    detail: opt(r.target),
    denied: isDeniedAttempt(r.action),
    raw_ref: str(r.raw_ref),
  };
}

function buildCoverage(results: QueryResults, definedFields: AssembleInput['definedFields']): Coverage {
  const reasonCounts = (status: string): ReasonCount[] => {
    const map = new Map<string, { source: string; reason: string; count: number; examples: string[] }>();
    for (const r of results.coverageRecords) {
      if (r.status !== status) continue;
      const key = `${str(r.source)}\u0000${str(r.reason)}`;
      let entry = map.get(key);
      if (entry === undefined) {
        entry = { source: str(r.source), reason: str(r.reason), count: num(r.n), examples: [] };
        map.set(key, entry);
      }
      if (r.example !== null && entry.examples.length < MAX_EXAMPLES) entry.examples.push(str(r.example));
    }
    if (status === 'rejected') {
      for (const p of results.fileProblems) {
        const key = `${p.source}\u0000${p.reason}`;
        const entry = map.get(key) ?? { source: p.source, reason: p.reason, count: 0, examples: [] };
        entry.count += p.count ?? 1;
        for (const example of p.examples ?? [p.key])
          if (entry.examples.length < MAX_EXAMPLES) entry.examples.push(example);
        map.set(key, entry);
      }
    }
    return [...map.values()]
      .map((e) => ({ ...e, examples: [...e.examples].sort(cmp) }))
      .sort((a, b) => cmp(a.source, b.source) || cmp(a.reason, b.reason));
  };
  const rejected = reasonCounts('rejected');
  const skipped = reasonCounts('skipped');

  const sourcesSeen = new Set<string>([
    ...results.sourceStats.map((r) => str(r.source)),
    ...results.fileProblems.map((p) => p.source),
  ]);
  const sources: SourceCoverage[] = [...sourcesSeen].sort(cmp).map((source) => {
    const stat = (metric: string) =>
      results.sourceStats.filter((r) => r.source === source && r.metric === metric);
    const countStatus = (status: string) =>
      results.coverageRecords
        .filter((r) => r.source === source && r.status === status)
        // coverage rows repeat per example; count each (status, reason) once
        .reduce((acc, r) => acc.set(str(r.reason), num(r.n)), new Map<string, number>());
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const used = sum(countStatus('event'));
    const outside = sum(countStatus('outside_window'));
    const skippedN = sum(countStatus('skipped'));
    const rejectedN =
      sum(countStatus('rejected')) +
      results.fileProblems.filter((p) => p.source === source).reduce((n, p) => n + (p.count ?? 1), 0);
    return {
      source,
      files: stat('files').reduce((n, r) => n + num(r.n), 0),
      records_read: used + outside + skippedN + rejectedN,
      records_used: used,
      records_outside_window: outside,
      records_skipped: skippedN,
      records_rejected: rejectedN,
      duplicates_collapsed: stat('duplicates').reduce((n, r) => n + num(r.n), 0),
      conflicting_records: stat('conflicts').reduce((n, r) => n + num(r.n), 0),
      time_fields: stat('time_field')
        .map((r) => ({ field: str(r.label), records: num(r.n) }))
        .sort((a, b) => cmp(a.field, b.field)),
      ...collectorLagOf(results.collectorLag ?? [], source),
      ...utcTimeChecksOf(results.utcTimeChecks ?? [], source),
    };
  });

  const field_population = results.fieldPopulation
    .flatMap((r) =>
      definedFields(str(r.source), str(r.event_code)).map((field) => ({
        source: str(r.source),
        event_code: str(r.event_code),
        field,
        populated: num(r[field] ?? 0),
        total: num(r.total),
      })),
    )
    .sort((a, b) => cmp(a.source, b.source) || cmp(a.event_code, b.event_code) || cmp(a.field, b.field));

  const hosts = results.hostCoverage
    .map((r) => ({
      host: str(r.host),
      first_event: iso(r.first_ms) as string,
      last_event: iso(r.last_ms) as string,
      events: num(r.events),
      logoff_events: num(r.logoffs),
      gaps: (results.coverageGaps ?? [])
        .filter((g) => g.host === r.host)
        .map((g) => ({ from: iso(g.from_ms) as string, to: iso(g.to_ms) as string }))
        .sort((a, b) => cmp(a.from, b.from)),
    }))
    .sort((a, b) => cmp(a.host, b.host));

  return { sources, rejected, skipped, field_population, hosts };
}

function buildSuppressions(
  config: Config,
  expired: readonly string[],
  rows: readonly Row[],
): SuppressionCount[] {
  const count = (what: string, id: string) =>
    rows.filter((r) => r.what === what && r.rule_id === id).reduce((n, r) => n + num(r.n), 0);
  return config.suppress.map((rule) => ({
    rule_id: rule.id,
    description: rule.description,
    owner: rule.owner ?? null,
    reason: rule.reason ?? null,
    expires: rule.expires ?? null,
    expired: expired.includes(rule.id),
    sessions_suppressed: count('session', rule.id),
    orphan_events_suppressed: count('orphan_event', rule.id),
  }));
}

function buildAccounts(sessions: readonly Session[]): AccountSummary[] {
  // Sessions tied to a configured person are summarised together; others by SID/uid, else by name.
  const groups = groupBy(sessions, (s) =>
    s.person ? `person\u0000${s.person.id}` : `uid\u0000${s.user.uid ?? s.account}`,
  );
  const out: AccountSummary[] = [];
  for (const list of groups.values()) {
    const names = [...new Set(list.map((s) => s.account))].sort(cmp);
    const person = list[0]?.person?.id ?? null;
    const uids = [...new Set(list.map((s) => s.user.uid))];
    const starts = list
      .map((s) => s.start)
      .filter((t): t is string => t !== null)
      .sort(cmp);
    const lasts = list
      .flatMap((s) => [s.start, s.end, ...s.activity.map((a) => a.time)])
      .filter((t): t is string => t !== null)
      .sort(cmp);
    out.push({
      account: person ?? (names[0] as string),
      user_uid: uids.length === 1 ? (uids[0] ?? null) : null,
      person,
      source_accounts: names,
      ties: [...new Set(list.flatMap((s) => (s.person ? [s.person.tie] : [])))].sort(cmp),
      sessions: list.length,
      privileged_sessions: list.filter((s) => s.privileged).length,
      first_seen: starts[0] ?? null,
      last_seen: lasts[lasts.length - 1] ?? null,
      hosts: [...new Set(list.map((s) => s.host))].sort(cmp),
      logon_types: [...new Set(list.map((s) => s.logon_type).filter((t): t is number => t !== null))].sort(
        (a, b) => a - b,
      ),
      elevated: list.some((s) => s.elevated),
      activity_events: list.reduce((n, s) => n + s.activity_count, 0),
    });
  }
  return out.sort((a, b) => cmp(a.account, b.account) || cmp(a.user_uid ?? '', b.user_uid ?? ''));
}

/** A source's measured collector lag, as its coverage entry carries it (nothing when none was measured). */
function collectorLagOf(rows: readonly Row[], source: string): { collector_lag?: CollectorLag } {
  const r = rows.find((x) => x.source === source && num(x.records) > 0);
  if (r === undefined) return {};
  return {
    collector_lag: {
      records: num(r.records),
      min_ms: num(r.min_ms),
      median_ms: num(r.median_ms),
      p95_ms: num(r.p95_ms),
      max_ms: num(r.max_ms),
    },
  };
}

/**
 * The least difference between a record's own UTC time and its time that the limitations report:
 * real UTC offsets are whole quarter hours, and under one the difference is a clock or collector
 * delay, not a zone.
 */
export const UTC_CHECK_TOLERANCE_MS = 15 * 60_000;

/** `4 h 0 min`: a difference in whole minutes, for the reader (the sentence gives the exact ms too). */
function hoursMinutes(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A source's UTC time checks, per host as logged (nothing when none was measured). */
function utcTimeChecksOf(rows: readonly Row[], source: string): { utc_time_checks?: UtcTimeCheck[] } {
  const checks = rows
    .filter((r) => r.source === source && num(r.records) > 0)
    .map((r) => ({
      host: str(r.host),
      time_field: str(r.time_field),
      records: num(r.records),
      min_ms: num(r.min_ms),
      median_ms: num(r.median_ms),
      max_ms: num(r.max_ms),
    }))
    .sort((a, b) => cmp(a.host, b.host) || cmp(a.time_field, b.time_field));
  return checks.length === 0 ? {} : { utc_time_checks: checks };
}

/** The pack facts with the scope's SID-joined account forms, when there are any. */
function withScopeTies(pack: PackInfo, rows: readonly Row[]): PackInfo {
  const ties = new Map<string, ScopeTie>();
  for (const r of rows) {
    const form =
      r.user_domain === null || r.user_domain === ''
        ? str(r.user_name)
        : `${str(r.user_domain)}\\${str(r.user_name)}`;
    const key = [r.user, r.sid, form].map(String).join('\u0000');
    const prior = ties.get(key);
    ties.set(key, {
      user: str(r.user),
      form,
      basis: 'same_sid',
      sid: str(r.sid),
      events: (prior?.events ?? 0) + num(r.n),
    });
  }
  if (ties.size === 0) return pack;
  const user_ties = [...ties.values()].sort(
    (a, b) => cmp(a.user, b.user) || cmp(a.sid, b.sid) || cmp(a.form, b.form),
  );
  return { ...pack, scope: { ...pack.scope, user_ties } };
}

function buildLimitations(
  input: AssembleInput,
  coverage: Coverage,
  integrity: readonly IntegrityEvent[],
  orphanEvents: number,
  sessions: readonly Session[],
): string[] {
  const out: string[] = [];
  const unmatched = input.results.unmatchedScope ?? [];
  if (unmatched.length > 0)
    out.push(
      `The scope's ${unmatched.join(', ')} matched no record of the data read; this pack was asked for anyway (allow empty), so it shows nothing for them.`,
    );
  const files = coverage.sources.reduce((n, s) => n + s.files, 0);
  if (files === 0)
    out.push('No log files were found for the window: this pack shows no evidence either way.');
  out.push(
    `Sessions are rebuilt only from the events of the sources read (${input.pack.sources.join(', ')}); activity that these logs do not record (for example processes when process auditing is off) is not shown.`,
  );
  out.push(
    'Privilege is decided from the logs (special privileges, elevated tokens) and the configured account list; group membership from a directory is not consulted.',
  );
  out.push(
    `Sessions that began more than ${input.config.lookback_hours} hours before the window start have no logon in the data read; their activity in the window is shown as orphan activity.`,
  );
  const inferred = sessions.filter((s) => s.pairing?.method === 'inferred');
  if (inferred.length > 0)
    out.push(
      `${inferred.length} UAC split-token pairs were inferred, not logged: their logons name no linked logon, so each pair was matched by host, boot, SID, logon type, a gap of at most ${UAC_INFERRED_PAIR_MAX_GAP_MS} ms and which half received special privileges (each session says how).`,
    );
  for (const s of [...new Set(input.results.sourceStats.map((r) => str(r.source)))].sort(cmp)) {
    const n = input.results.sourceStats
      .filter((r) => r.source === s && r.metric === 'by_line')
      .reduce((a, r) => a + num(r.n), 0);
    if (n > 0)
      out.push(
        `${n} ${s} records carry no record number (a log layout without one): each is identified by its file and line (#line=N), so two identical lines are two records and a record delivered twice is counted twice.`,
      );
  }
  for (const s of coverage.sources)
    if (s.conflicting_records > 0)
      out.push(
        `${s.conflicting_records} ${s.source} records are versions of one record that disagree (the same identity, different content): all are kept and none was chosen, as the logs cannot tell which is genuine; the findings list them.`,
      );
  if (orphanEvents > 0)
    out.push(
      `${orphanEvents} activity events in the window could not be tied to a logon in the data; they are listed as orphan activity.`,
    );
  // Counted over the records this pack shows (its logons, their activity, the orphan activity), not
  // over the data read: a one-user pack speaks of that user's records. The sentence names what is
  // counted, since a session's privilege assignment and logoff, shown too, are not counted here.
  const collectorTimed = new Map<string, number>();
  const isCollector = (field: Row[string] | undefined) => str(field).startsWith('@timestamp (collector');
  for (const [rows, field] of [
    [input.results.halves, 'logon_time_field'],
    [input.results.activity, 'time_field'],
    [input.results.orphans, 'time_field'],
  ] as const) {
    for (const r of rows)
      if (isCollector(r[field]))
        collectorTimed.set(str(r.source), (collectorTimed.get(str(r.source)) ?? 0) + 1);
  }
  for (const [source, n] of [...collectorTimed.entries()].sort(([a], [b]) => cmp(a, b))) {
    const lag = coverage.sources.find((c) => c.source === source)?.collector_lag;
    out.push(
      `${n} ${source} logons and activity events of this pack carry only the collector's receipt time (@timestamp, UTC), which comes after the event; their local EventTime has no zone and was not used as their time. ${
        lag === undefined
          ? 'How late the receipt came could not be measured in this data.'
          : `Measured over the ${lag.records} records of the data read whose local EventTime gives the event time once the host's UTC offset (inferred to the nearest quarter hour) is taken out, the receipt came ${lag.min_ms} ms to ${lag.max_ms} ms after the event (median ${lag.median_ms} ms, 95% within ${lag.p95_ms} ms; EventTime has whole seconds, so each figure is known to within a second).`
      }`,
    );
  }
  // A time marked UTC that the records' own UTC time contradicts by a quarter hour or more: the
  // times are shown as logged (no offset is guessed into them) and the pack says how far off.
  for (const c of coverage.sources) {
    for (const check of c.utc_time_checks ?? []) {
      if (Math.abs(check.median_ms) < UTC_CHECK_TOLERANCE_MS) continue;
      out.push(
        `On host ${check.host}, ${check.records} Sysmon records of the data read (${c.source} source, skipped as another channel) carry the event's UTC time in a field of their own (UtcTime), and it is ${Math.abs(check.median_ms)} ms (about ${hoursMinutes(check.median_ms)}) ${check.median_ms > 0 ? 'later' : 'earlier'} than the time they are read at, ${check.time_field} (median; from ${check.min_ms} ms to ${check.max_ms} ms, UtcTime minus that time): that time is not UTC on this host, it reads as its local clock. This pack shows the times of the host's ${c.source} records as logged, not corrected: those read from that field may be that much ${check.median_ms > 0 ? 'earlier' : 'later'} than the events.`,
      );
    }
  }
  // Sessions in scope only through a role chain (no half names a requested user).
  const groups = groupBy(input.results.halves, (r) => str(r.group_uid));
  const chained = [...groups.values()].filter(
    (g) => g.some((r) => r.in_scope_by_chain === true) && !g.some((r) => r.user_in_scope === true),
  ).length;
  if (chained > 0)
    out.push(
      `${chained} sessions are in this pack because they were assumed with credentials of a session of the requested users (role chains, followed up to ${CREDENTIAL_CHAIN_HOPS} hops); each names the key that assumed it.`,
    );
  const aliases = [
    ...new Set((input.results.hostAliases ?? []).map((r) => `${str(r.host_as_logged)} = ${str(r.host)}`)),
  ].sort(cmp);
  if (aliases.length > 0)
    out.push(
      `Hosts logged by their short name were read as the one host of the data with that full name (${aliases.join(', ')}): one host, one lane, one count.`,
    );
  const gapped = coverage.hosts.filter((h) => h.gaps.length > 0);
  if (gapped.length > 0)
    out.push(
      `${gapped.length} hosts logged nothing for more than ${input.config.coverage_gap_hours} hours within the window (${gapped
        .map((h) => `${h.host}: ${h.gaps.map((g) => `${g.from} to ${g.to}`).join(', ')}`)
        .join(
          '; ',
        )}): activity then is not in the data, and sessions still open when a host's data stops end there (data_ends).`,
    );
  // Only where the source logs logoffs at all is their absence a sign (CloudTrail never logs one).
  const sourceOf = new Map(input.results.hostCoverage.map((r) => [str(r.host), str(r.source)]));
  const silent = coverage.hosts
    .filter((h) => h.logoff_events === 0 && input.traitsOf(sourceOf.get(h.host) ?? '').logoffEvents)
    .map((h) => h.host);
  if (silent.length > 0)
    out.push(
      `No logoff events were logged by ${silent.join(', ')}: session ends there are unknown (logoff auditing may be off).`,
    );
  for (const c of integrity.filter((e) => e.kind === 'log_cleared'))
    out.push(
      `The Security log of ${c.host} was cleared at ${c.time}: events written before then may be missing.`,
    );
  if (coverage.rejected.length > 0) {
    const n = coverage.rejected.reduce((a, r) => a + r.count, 0);
    out.push(
      `${n} records or files could not be read or mapped; they are counted by reason in the coverage section.`,
    );
  }
  if (input.config.suppress.length > 0)
    out.push(
      'Sessions and activity of accounts matched by suppression rules are counted per rule, not shown.',
    );
  if (input.expiredRules.length > 0)
    out.push(
      `Suppression rules ${input.expiredRules.join(', ')} expired before the window end and were not applied.`,
    );
  return out;
}

function compareSessions(a: Session, b: Session): number {
  return (
    cmp(a.start ?? '\uffff', b.start ?? '\uffff') ||
    cmp(a.host, b.host) ||
    cmp(a.logon_id, b.logon_id) ||
    cmp(a.id, b.id)
  );
}

function identityOf(r: Row): { uid: string | null; name: string | null; domain: string | null } {
  return { uid: opt(r.user_uid), name: opt(r.user_name), domain: opt(r.user_domain) };
}

export function accountName(r: Row): string {
  // Cloud principals are named by their ARN: `<account>\user/x` would read as a Windows domain.
  const uid = opt(r.user_uid);
  if (uid?.startsWith('arn:')) return uid;
  const name = opt(r.user_name);
  const domain = opt(r.user_domain);
  if (name === null) return opt(r.user_uid) ?? '(unknown)';
  return domain === null ? name : `${domain.toUpperCase()}\\${name}`;
}

function halfLabel(value: Row[string] | undefined): 'elevated' | 'filtered' | null {
  return value === true ? 'elevated' : value === false ? 'filtered' : null;
}

function splitPrivileges(value: Row[string] | undefined): string[] {
  if (value === null || value === undefined) return [];
  return [...new Set(String(value).split(/\s+/).filter(Boolean))].sort(cmp);
}

/** A source's details column: a JSON object of strings, as name/value pairs sorted by name. */
function parseDetails(value: Row[string] | undefined): { name: string; value: string }[] {
  if (value === null || value === undefined || value === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(value));
  } catch {
    return [{ name: 'details', value: String(value) }];
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return [{ name: 'details', value: String(value) }];
  return Object.entries(parsed as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([name, v]) => ({ name, value: typeof v === 'string' ? v : JSON.stringify(v) }))
    .sort((a, b) => cmp(a.name, b.name));
}

/** First 16 hex of sha256: ids derived from content. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list === undefined) map.set(k, [item]);
    else list.push(item);
  }
  return map;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function str(v: Row[string] | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

function opt(v: Row[string] | undefined): string | null {
  return v === null || v === undefined || v === '' ? null : String(v);
}

function num(v: Row[string] | undefined): number {
  return typeof v === 'number' ? v : Number(v);
}

function bool(v: Row[string] | undefined): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

function iso(v: Row[string] | undefined): string | null {
  return v === null || v === undefined ? null : new Date(num(v)).toISOString();
}
