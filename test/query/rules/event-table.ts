/**
 * Tiny hand-written normalised event tables for the reconstruction rules, run on a real DuckDB
 * through the real builders of `lib/query/reconstruct.ts`, then (where a test wants the verdicts)
 * through the real `assemblePack`. No source is parsed: each row is written in the shape of the
 * session-events contract (`CLASSIFIED_COLUMNS` of `lib/query/session-events.ts`, the table every
 * source's normalising query produces), so a test states exactly the events a rule sees.
 */
import { type Config, DEFAULT_CONFIG, type SuppressionRule } from '../../../lib/config/config.ts';
import { assemblePack, type QueryResults } from '../../../lib/evidence/assemble-pack.ts';
import type { EvidencePack } from '../../../lib/evidence/model.ts';
import type { DuckDbEngine } from '../../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../../lib/query/query-engine.ts';
import {
  buildAttributionQuery,
  buildCoverageQuery,
  buildFieldPopulationQuery,
  buildHostCoverageQuery,
  buildIntegrityQuery,
  buildOrphanQuery,
  buildPackActivityQuery,
  buildPackHalvesQuery,
  buildSessionEventsQuery,
  buildSessionHalvesQuery,
  buildSourceStatsQuery,
  buildSuppressionCountsQuery,
  type ReconstructionPlan,
} from '../../../lib/query/reconstruct.ts';
import { CLASSIFIED_COLUMNS, type SourceTraits } from '../../../lib/query/session-events.ts';
import { ParamList, type SqlValue } from '../../../lib/query/sql.ts';

/** One hand-written row: any classified-lines column (`CLASSIFIED_COLUMNS`), the others NULL. */
export type EventRow = { readonly [column: string]: string | number | boolean | null };

/** The window every rule test uses: one UTC day. */
export const WINDOW = { from: '2024-03-04T00:00:00.000Z', to: '2024-03-05T00:00:00.000Z' } as const;
export const FROM_MS = Date.parse(WINDOW.from);
export const TO_MS = Date.parse(WINDOW.to);
/** 10:00 on the window's day: the tests' events are placed relative to it. */
export const T0 = FROM_MS + 10 * 3_600_000;

/** What each Windows event id is, as the Windows source maps it (`lib/sources/windows.ts`). */
const WINDOWS: Readonly<Record<string, { kind: string; action: string }>> = {
  '4624': { kind: 'logon', action: 'logon' },
  '4634': { kind: 'logoff', action: 'logoff' },
  '4647': { kind: 'logoff', action: 'user_logoff' },
  '4672': { kind: 'privilege', action: 'special_privileges' },
  '4688': { kind: 'activity', action: 'process_created' },
  '1100': { kind: 'integrity', action: 'audit_service_stopped' },
  '1102': { kind: 'integrity', action: 'log_cleared' },
  '4608': { kind: 'boot', action: 'system_start' },
  '4609': { kind: 'shutdown', action: 'system_shutdown' },
  '4778': { kind: 'reconnect', action: 'session_reconnected' },
};

/** Events of hosts without a session (boot, shutdown, 1100, 1102) carry no logon id. */
const HOST_EVENTS = new Set(['1100', '4608', '4609']);

let recordNo = 0;

/**
 * One Windows Security event as the Windows source would normalise it: `code` gives kind and
 * action, `over` anything else. Defaults: host WS01, logon id 0x1 of CORP\alice, record numbers in
 * call order, interactive logon.
 */
export function win(code: string, timeMs: number, over: EventRow = {}): EventRow {
  const mapped = WINDOWS[code];
  if (mapped === undefined) throw new Error(`no mapping written for event ${code}`);
  recordNo += 1;
  const host = (over.host as string | undefined) ?? 'WS01';
  const no = (over.record_no as number | undefined) ?? recordNo;
  const base: EventRow = {
    status: 'event',
    reason: null,
    source: 'windows',
    host,
    record_no: no,
    record_uid: `${host}|security|${no}|${code}`,
    event_code: code,
    kind: mapped.kind,
    time_ms: timeMs,
    time_field: 'TimeCreated',
    session_uid: HOST_EVENTS.has(code) ? null : '0x1',
    user_uid: HOST_EVENTS.has(code) ? null : 'S-1-5-21-1-2-3-1001',
    user_name: HOST_EVENTS.has(code) ? null : 'alice',
    user_domain: HOST_EVENTS.has(code) ? null : 'CORP',
    logon_type_id: code === '4624' ? 2 : null,
    action: mapped.action,
    raw_ref: `t.json#record=${no}`,
    object_key: 't.json',
  };
  return { ...base, ...over };
}

/** A row that is not an event: a record the source skipped or rejected, with its reason. */
export function notEvent(status: 'skipped' | 'rejected', reason: string, over: EventRow = {}): EventRow {
  recordNo += 1;
  return {
    status,
    reason,
    source: 'windows',
    raw_ref: `t.json#record=${recordNo}`,
    object_key: 't.json',
    ...over,
  };
}

/** Loads the rows as the `<table>` working table, every column typed as the contract says. */
export async function loadEvents(engine: DuckDbEngine, table: string, rows: readonly EventRow[]) {
  const p = new ParamList();
  const names = new Set<string>(CLASSIFIED_COLUMNS.map((c) => c.name));
  const select = (row: EventRow) => {
    for (const key of Object.keys(row))
      if (!names.has(key)) throw new Error(`${key} is not a classified-lines column`);
    return `SELECT ${CLASSIFIED_COLUMNS.map((c) => `CAST(${p.add((row[c.name] ?? null) as SqlValue)} AS ${c.type}) AS ${c.name}`).join(', ')}`;
  };
  // An empty table still has the contract's columns.
  const sql = rows.length === 0 ? `${select({})} WHERE false` : rows.map(select).join('\nUNION ALL\n');
  await engine.materialize(table, p.finish('test-events', sql));
}

export interface PlanOptions {
  readonly config?: Config;
  readonly activeRules?: readonly SuppressionRule[];
  readonly users?: readonly string[];
  readonly includeUnprivileged?: boolean;
  readonly fromMs?: number;
  readonly toMs?: number;
}

/** The plan of a review of {@link WINDOW} (lookback 24 h) with the default configuration, no suppression. */
export function planOf(o: PlanOptions = {}): ReconstructionPlan {
  const config = o.config ?? { ...DEFAULT_CONFIG, suppress: [] };
  const fromMs = o.fromMs ?? FROM_MS;
  return {
    fromMs,
    toMs: o.toMs ?? TO_MS,
    dataFromMs: fromMs - config.lookback_hours * 3_600_000,
    users: o.users ?? [],
    hosts: [],
    includeUnprivileged: o.includeUnprivileged ?? false,
    coverageGapMs: config.coverage_gap_hours * 3_600_000,
    config,
    activeRules: o.activeRules ?? config.suppress,
  };
}

export interface Reconstruction {
  /** Every half (`session_halves`), in pack or not, by start time then logon record. */
  readonly halves: Row[];
  /** Every attributed event (`attributed`), by time then record. */
  readonly attributed: Row[];
  /** What the use case collects for the pack, query by query. */
  readonly results: QueryResults;
}

/** Runs the reconstruction steps exactly as the export use case does, over hand-written events. */
export async function reconstruct(
  engine: DuckDbEngine,
  rows: readonly EventRow[],
  plan: ReconstructionPlan = planOf(),
): Promise<Reconstruction> {
  const d = engine.dialect;
  await loadEvents(engine, 'rule_lines', rows);
  await engine.materialize('session_events', buildSessionEventsQuery(d, plan, 'rule_lines'));
  await engine.materialize('attributed', buildAttributionQuery(d, plan));
  await engine.materialize('session_halves', buildSessionHalvesQuery(d, plan));
  const all = async (sql: string) => (await engine.select({ name: 'read', sql, params: [] })).rows;
  const select = async (q: Parameters<DuckDbEngine['select']>[0]) => (await engine.select(q)).rows;
  return {
    halves: await all('SELECT * FROM session_halves ORDER BY start_ms, start_rec, instance_uid'),
    attributed: await all('SELECT * FROM attributed ORDER BY time_ms, record_no, record_uid'),
    results: {
      halves: await select(buildPackHalvesQuery(d)),
      activity: await select(buildPackActivityQuery(d)),
      orphans: await select(buildOrphanQuery(d, plan)),
      integrity: await select(buildIntegrityQuery(d, plan)),
      suppressionCounts: await select(buildSuppressionCountsQuery(d, plan)),
      coverageRecords: await select(buildCoverageQuery(d, 'rule_lines')),
      sourceStats: await select(buildSourceStatsQuery(d, 'rule_lines')),
      fieldPopulation: await select(buildFieldPopulationQuery(d)),
      hostCoverage: await select(buildHostCoverageQuery(d)),
      fileProblems: [],
    },
  };
}

export const WINDOWS_TRAITS: SourceTraits = { privilegeEvents: true, logoffEvents: true };

/** The pack `assemblePack` builds from a reconstruction, with the source's traits. */
export function packOf(
  r: Reconstruction,
  o: {
    readonly config?: Config;
    readonly expiredRules?: readonly string[];
    readonly traits?: SourceTraits;
    readonly sources?: readonly string[];
    readonly fileProblems?: QueryResults['fileProblems'];
  } = {},
): EvidencePack {
  const config = o.config ?? { ...DEFAULT_CONFIG, suppress: [] };
  return assemblePack({
    pack: {
      id: 'review-2024-03-04-rules',
      kind: 'review',
      series: 'rules',
      window: { from: WINDOW.from, to: WINDOW.to },
      data_from: new Date(FROM_MS - config.lookback_hours * 3_600_000).toISOString(),
      scope: {
        users: [],
        hosts: [],
        incident_id: null,
        requester: null,
        reason: null,
        include_unprivileged: false,
      },
      sources: o.sources ?? ['windows'],
    },
    tool: {
      name: 'sessiontrail',
      version: 'test',
      config_sha256: '0'.repeat(64),
    },
    config,
    expiredRules: o.expiredRules ?? [],
    results: { ...r.results, fileProblems: o.fileProblems ?? [] },
    queries: [],
    definedFields: () => [],
    traitsOf: () => o.traits ?? WINDOWS_TRAITS,
  });
}
