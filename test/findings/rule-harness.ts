/**
 * Runs findings rules on real DuckDB over a tiny hand-written table of normalised events: the
 * reconstruction's working tables are built from it by the real queries, then the findings query.
 */
import { type Config, DEFAULT_CONFIG } from '../../lib/config/config.ts';
import type { FindingRule } from '../../lib/findings/finding-rule.ts';
import { buildFindingsQuery } from '../../lib/findings/findings-query.ts';
import type { QueryEngine, Row } from '../../lib/query/query-engine.ts';
import {
  buildAttributionQuery,
  buildSessionEventsQuery,
  buildSessionHalvesQuery,
  type ReconstructionPlan,
} from '../../lib/query/reconstruct.ts';
import { ParamList, type SqlValue } from '../../lib/query/sql.ts';

/** An event as a source's normalising query gives it; `time` is seconds after {@link T0}. */
export interface Ev {
  readonly record_uid: string;
  readonly event_code: string;
  readonly kind: string;
  readonly time: number;
  readonly source?: string;
  readonly host?: string;
  readonly record_no?: number;
  readonly session_uid?: string;
  readonly linked_session_uid?: string;
  readonly user_uid?: string;
  readonly user_name?: string;
  readonly user_domain?: string;
  readonly logon_type_id?: number;
  readonly is_elevated?: boolean;
  readonly privileges?: string;
  readonly src_ip?: string;
  readonly src_host?: string;
  readonly process?: string;
  readonly command_line?: string;
  readonly action?: string;
  readonly target?: string;
  readonly details?: string;
}

export const T0 = Date.parse('2024-03-05T10:00:00.000Z');

const COLUMNS: readonly (readonly [string, string])[] = [
  ['status', 'VARCHAR'],
  ['reason', 'VARCHAR'],
  ['source', 'VARCHAR'],
  ['host', 'VARCHAR'],
  ['record_no', 'BIGINT'],
  ['record_uid', 'VARCHAR'],
  ['event_code', 'VARCHAR'],
  ['kind', 'VARCHAR'],
  ['time_ms', 'BIGINT'],
  ['time_field', 'VARCHAR'],
  ['session_uid', 'VARCHAR'],
  ['linked_session_uid', 'VARCHAR'],
  ['user_uid', 'VARCHAR'],
  ['user_name', 'VARCHAR'],
  ['user_domain', 'VARCHAR'],
  ['logon_type_id', 'INTEGER'],
  ['is_elevated', 'BOOLEAN'],
  ['privileges', 'VARCHAR'],
  ['src_ip', 'VARCHAR'],
  ['src_host', 'VARCHAR'],
  ['process', 'VARCHAR'],
  ['parent_process', 'VARCHAR'],
  ['command_line', 'VARCHAR'],
  ['action', 'VARCHAR'],
  ['target', 'VARCHAR'],
  ['logon_process', 'VARCHAR'],
  ['auth_package', 'VARCHAR'],
  ['end_hint_ms', 'BIGINT'],
  ['end_hint', 'VARCHAR'],
  ['details', 'VARCHAR'],
  ['raw_ref', 'VARCHAR'],
  ['object_key', 'VARCHAR'],
];

function valuesOf(e: Ev, i: number): Record<string, SqlValue> {
  return {
    status: 'event',
    reason: null,
    source: e.source ?? 'windows',
    host: e.host ?? 'WS01',
    record_no: e.record_no ?? i + 1,
    record_uid: e.record_uid,
    event_code: e.event_code,
    kind: e.kind,
    time_ms: T0 + Math.round(e.time * 1000),
    time_field: 'test',
    session_uid: e.session_uid ?? null,
    linked_session_uid: e.linked_session_uid ?? null,
    user_uid: e.user_uid ?? null,
    user_name: e.user_name ?? null,
    user_domain: e.user_domain ?? null,
    logon_type_id: e.logon_type_id ?? null,
    is_elevated: e.is_elevated ?? null,
    privileges: e.privileges ?? null,
    src_ip: e.src_ip ?? null,
    src_host: e.src_host ?? null,
    process: e.process ?? null,
    parent_process: null,
    command_line: e.command_line ?? null,
    action: e.action ?? e.event_code,
    target: e.target ?? null,
    logon_process: null,
    auth_package: null,
    end_hint_ms: null,
    end_hint: null,
    details: e.details ?? null,
    raw_ref: `t.json#record=${e.record_uid}`,
    object_key: 't.json',
  };
}

/** Materialises the events as the `lines` table a source's normalising query would give. */
async function loadEvents(engine: QueryEngine, events: readonly Ev[]): Promise<void> {
  const p = new ParamList();
  const selects = events.map(
    (e, i) =>
      `SELECT ${COLUMNS.map(([name, type]) => `CAST(${p.add(valuesOf(e, i)[name] ?? null)} AS ${type}) AS ${name}`).join(', ')}`,
  );
  const empty = `SELECT ${COLUMNS.map(([name, type]) => `CAST(NULL AS ${type}) AS ${name}`).join(', ')} WHERE false`;
  await engine.materialize(
    'lines',
    p.finish('lines', selects.length === 0 ? empty : selects.join('\nUNION ALL\n')),
  );
}

export interface RunOptions {
  readonly config?: Config;
  readonly users?: readonly string[];
}

/** Builds the working tables from the events and runs the findings query with the given rules. */
export async function runFindings(
  engine: QueryEngine,
  events: readonly Ev[],
  rules?: readonly FindingRule[],
  options: RunOptions = {},
): Promise<Row[]> {
  await loadEvents(engine, events);
  const config = options.config ?? DEFAULT_CONFIG;
  const plan: ReconstructionPlan = {
    fromMs: T0 - 3_600_000,
    toMs: T0 + 86_400_000,
    dataFromMs: T0 - 3_600_000,
    users: options.users ?? [],
    hosts: [],
    includeUnprivileged: false,
    config,
    activeRules: config.suppress,
    coverageGapMs: config.coverage_gap_hours * 3_600_000,
  };
  const d = engine.dialect;
  await engine.materialize('session_events', buildSessionEventsQuery(d, plan, 'lines'));
  await engine.materialize('attributed', buildAttributionQuery(d, plan));
  await engine.materialize('session_halves', buildSessionHalvesQuery(d, plan));
  return (await engine.select(buildFindingsQuery(d, plan, rules))).rows;
}
