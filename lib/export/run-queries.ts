/**
 * The query step: for each source of the plan, locate its raw logs, normalise them once into the
 * classified-lines working table, rebuild sessions, and select the rows the pack is made of. Every
 * statement run is recorded, in order, as the pack's `queries/*.sql`.
 */

import { SessiontrailError } from '../errors.ts';
import type { QueryResults } from '../evidence/assemble-pack.ts';
import { sha256Hex } from '../evidence/canonical-json.ts';
import type { InputRecord, QueryRecord } from '../evidence/model.ts';
import { checkScope, type ScopeMatch, scopeForms } from '../evidence/scope-match.ts';
import { buildFindingsQuery } from '../findings/findings-query.ts';
import type { RawLogLocator } from '../locate/raw-log-locator.ts';
import type { QueryEngine, QueryRun, Row } from '../query/query-engine.ts';
import {
  buildAttributionQuery,
  buildCoverageGapsQuery,
  buildCoverageQuery,
  buildFieldPopulationQuery,
  buildHostAliasesQuery,
  buildHostCoverageQuery,
  buildIntegrityQuery,
  buildOrphanQuery,
  buildPackActivityQuery,
  buildPackHalvesQuery,
  buildScopeCandidatesQuery,
  buildScopeMatchQuery,
  buildSessionEventsQuery,
  buildSessionHalvesQuery,
  buildSourceStatsQuery,
  buildSuppressionCountsQuery,
} from '../query/reconstruct.ts';
import type { SqlQuery } from '../query/sql.ts';
import { SOURCES } from '../sources/index.ts';
import type { PackPlan } from './plan-pack.ts';

/** One statement as the pack records it: `queries/NN-<name>.sql`. */
export interface QueryFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly record: QueryRecord;
}

export interface QueryStepResult {
  readonly results: QueryResults;
  readonly queryFiles: readonly QueryFile[];
  /** What the engine reported per statement (ids, times, bytes): not part of evidence.json. */
  readonly runs: readonly QueryRun[];
  /**
   * Every input object found, with what became of it, when every source's locator listed them;
   * undefined otherwise, so that a partial list is never presented as the whole.
   */
  readonly inputs: readonly InputRecord[] | undefined;
}

export interface QueryStepDeps {
  readonly engine: QueryEngine;
  readonly locator: RawLogLocator;
  readonly onProgress?: (step: string) => void;
}

/** The working table of a source's classified lines. */
const linesTable = (source: string) => `${source}_lines`;

/**
 * Runs the plan's queries, source by source.
 * @throws SessiontrailError `BAD_REQUEST` for an unknown source; `LOGS_NOT_FOUND` from the
 *   locator; `QUERY_FAILED` / `ENGINE_UNAVAILABLE` from the engine.
 */
export async function runQueries(plan: PackPlan, deps: QueryStepDeps): Promise<QueryStepResult> {
  const { engine } = deps;
  const d = engine.dialect;
  const progress = deps.onProgress ?? (() => {});
  const rp = plan.reconstruction;
  const runs: QueryRun[] = [];
  const ran: { query: SqlQuery; rows: number; literals: boolean }[] = [];
  // The query as the engine is sent it (Athena: values outside WHERE as literals), so that the
  // pack's queries/*.sql is exactly what ran.
  const bound = (q: SqlQuery) => d.bindValues?.(q) ?? q;
  const materialize = async (table: string, built: SqlQuery) => {
    const q = bound(built);
    progress(`running ${q.name}`);
    const run = await engine.materialize(table, q);
    runs.push(run);
    ran.push({ query: q, rows: run.rows, literals: q.sql !== built.sql });
  };
  const select = async (built: SqlQuery): Promise<Row[]> => {
    const q = bound(built);
    progress(`running ${q.name}`);
    const { rows, run } = await engine.select(q);
    runs.push(run);
    ran.push({ query: q, rows: rows.length, literals: q.sql !== built.sql });
    return rows;
  };

  const fileProblems: QueryResults['fileProblems'][number][] = [];
  const perSource: QueryResults[] = [];
  let inputs: InputRecord[] | undefined = [];
  const scopeCounts = new Map<string, number>();
  for (const source of plan.request.sources) {
    const def = SOURCES[source];
    if (def === undefined) throw new SessiontrailError('INTERNAL', `unknown source ${source} after planning`);
    progress(`finding ${source} logs`);
    const located = await deps.locator.locate(source, plan.dataFromMs, rp.toMs);
    try {
      fileProblems.push(...located.problems.map((p) => ({ source, ...p })));
      inputs =
        located.inputs === undefined
          ? undefined
          : inputs?.concat(located.inputs.map((i) => ({ source, ...i })));
      await materialize(linesTable(source), def.buildNormaliseQuery(d, located.input, rp.config));
    } finally {
      await located.cleanup();
    }
    if (rp.users.length + rp.hosts.length > 0) {
      for (const r of await select(buildScopeMatchQuery(d, rp, linesTable(source)))) {
        const key = `${String(r.kind)}\u0000${Number(r.idx)}`;
        scopeCounts.set(key, (scopeCounts.get(key) ?? 0) + Number(r.n));
      }
    }
    await materialize('session_events', buildSessionEventsQuery(d, rp, linesTable(source)));
    await materialize('attributed', buildAttributionQuery(d, rp));
    await materialize('session_halves', buildSessionHalvesQuery(d, rp));
    perSource.push({
      halves: await select(buildPackHalvesQuery(d)),
      activity: await select(buildPackActivityQuery(d)),
      orphans: await select(buildOrphanQuery(d, rp)),
      integrity: await select(buildIntegrityQuery(d, rp)),
      suppressionCounts: await select(buildSuppressionCountsQuery(d, rp)),
      coverageRecords: await select(
        buildCoverageQuery(d, linesTable(source), def.derivedRows, {
          fromMs: plan.dataFromMs,
          toMs: rp.toMs,
        }),
      ),
      sourceStats: await select(buildSourceStatsQuery(d, linesTable(source))),
      fieldPopulation: await select(buildFieldPopulationQuery(d)),
      hostCoverage: await select(buildHostCoverageQuery(d)),
      coverageGaps: await select(buildCoverageGapsQuery(d, rp)),
      hostAliases: await select(buildHostAliasesQuery(d)),
      findings: await select(buildFindingsQuery(d, rp)),
      fileProblems: [],
    });
  }
  // A user or host of the scope that matches no record is refused (BAD_SCOPE) with the nearest
  // names the data holds, unless an empty pack was asked for on purpose.
  const scopeMatches: ScopeMatch[] = [
    ...rp.users.map((value, i) => ({
      kind: 'user' as const,
      value,
      records: scopeCounts.get(`user\u0000${i}`) ?? 0,
    })),
    ...rp.hosts.map((value, i) => ({
      kind: 'host' as const,
      value,
      records: scopeCounts.get(`host\u0000${i}`) ?? 0,
    })),
  ];
  let candidates: Row[] = [];
  if (scopeMatches.some((m) => m.records === 0) && !plan.request.allowEmpty) {
    for (const source of plan.request.sources)
      candidates = candidates.concat(
        (await engine.select(buildScopeCandidatesQuery(d, linesTable(source)))).rows,
      );
  }
  const unmatched = checkScope(scopeMatches, () => scopeForms(candidates), plan.request.allowEmpty);
  const encoder = new TextEncoder();
  const queryFiles = ran.map((r, i): QueryFile => {
    const name = `queries/${String(i + 1).padStart(2, '0')}-${r.query.name}.sql`;
    const bytes = encoder.encode(sqlFileText(r.query, r.literals));
    return {
      name,
      bytes,
      record: { name: r.query.name, file: name, sql_sha256: sha256Hex(bytes), rows: r.rows },
    };
  });
  const results = {
    ...mergeResults(perSource, fileProblems),
    unmatchedScope: unmatched.map((m) => `${m.kind} ${m.value}`),
  };
  return { results, queryFiles, runs, inputs };
}

/**
 * A statement as the pack keeps it: its parameters as comments, then the SQL exactly as sent.
 * `literals`: the engine took some values as typed literals in the text (Athena, outside WHERE).
 */
function sqlFileText(q: SqlQuery, literals: boolean): string {
  const params = (q.recordedParams ?? q.params)
    .map((v, i) => `-- $${i + 1} = ${JSON.stringify(v)}`)
    .join('\n');
  const how = literals
    ? 'positional parameters (?), bound by the engine; the engine takes the other values only as typed literals in the text, written by its one escaping function'
    : 'positional parameters, bound by the engine (never spliced into the text)';
  return `-- ${q.name}: ${how};\n-- local file paths are shown by their names relative to the logs folder\n${params}${params ? '\n' : ''}${q.sql.trim()}\n`;
}

function mergeResults(
  list: readonly QueryResults[],
  fileProblems: QueryResults['fileProblems'],
): QueryResults {
  const cat = <K extends keyof QueryResults>(k: K) =>
    list.flatMap((r) => r[k] as readonly unknown[]) as unknown as QueryResults[K];
  return {
    halves: cat('halves'),
    activity: cat('activity'),
    orphans: cat('orphans'),
    integrity: cat('integrity'),
    suppressionCounts: cat('suppressionCounts'),
    coverageRecords: cat('coverageRecords'),
    sourceStats: cat('sourceStats'),
    fieldPopulation: cat('fieldPopulation'),
    hostCoverage: cat('hostCoverage'),
    coverageGaps: cat('coverageGaps'),
    hostAliases: cat('hostAliases'),
    findings: list.flatMap((r) => r.findings ?? []),
    fileProblems,
  };
}
