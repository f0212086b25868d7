/**
 * The query step: for each source of the plan, locate its raw logs, normalise them once into the
 * classified-lines working table, rebuild sessions, and select the rows the pack is made of. Every
 * statement run is recorded, in order, as the pack's `queries/*.sql`.
 */

import { SessiontrailError } from '../errors.ts';
import type { QueryResults } from '../evidence/assemble-pack.ts';
import type { InputRecord, QueryRecord } from '../evidence/model.ts';
import { checkScope, type ScopeMatch, scopeForms } from '../evidence/scope-match.ts';
import { buildFindingsQuery } from '../findings/findings-query.ts';
import type { RawLogLocator } from '../locate/raw-log-locator.ts';
import { type ObjectVersions, s3InputObjects } from '../locate/s3-object-versions.ts';
import type { QueryEngine, QueryRun, Row } from '../query/query-engine.ts';
import {
  buildAttributionQuery,
  buildCollectorLagQuery,
  buildCoverageGapsQuery,
  buildCoverageQuery,
  buildFieldPopulationQuery,
  buildHostAliasesQuery,
  buildHostCoverageQuery,
  buildIntegrityQuery,
  buildObjectsReadQuery,
  buildOrphanQuery,
  buildPackActivityQuery,
  buildPackHalvesQuery,
  buildScopeCandidatesQuery,
  buildScopeMatchQuery,
  buildScopeTiesQuery,
  buildSessionEventsQuery,
  buildSessionHalvesQuery,
  buildSourceStatsQuery,
  buildSuppressionCountsQuery,
  buildUtcTimeCheckQuery,
} from '../query/reconstruct.ts';
import type { SqlQuery } from '../query/sql.ts';
import { SOURCES } from '../sources/index.ts';
import { inputParts, partName } from './input-parts.ts';
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
  /**
   * Describes the S3 objects a table input read (version id, ETag, size, checksum), so that the
   * pack lists them; without it a table input's objects are not listed.
   * @default none
   */
  readonly objectVersions?: ObjectVersions;
  readonly onProgress?: (step: string) => void;
}

/** The working table of a source's classified lines. */
const linesTable = (source: string) => `${source}_lines`;

/** One statement a source stage ran, as its `queries/*.sql` file will hold it (numbered later). */
export interface RanStatement {
  readonly name: string;
  /** The file's text: parameters as comments, then the SQL exactly as sent. */
  readonly text: string;
  readonly rows: number;
}

/**
 * What one source's query stage produced: plain JSON (no bytes, no class), so that a stage run in
 * its own process (a Step Functions stage) hands it to the finish stage through a stored object.
 */
export interface SourceStageResult {
  readonly source: string;
  /** This source's rows; `fileProblems` are this source's. */
  readonly results: QueryResults;
  /** The statements run, in order; the finish numbers them after the earlier sources'. */
  readonly statements: readonly RanStatement[];
  /** What the engine reported per statement (ids, times, bytes): not part of evidence.json. */
  readonly runs: readonly QueryRun[];
  /** The input objects found, or null when the locator did not list them. */
  readonly inputs: readonly InputRecord[] | null;
  /** Records matched per scope user and per scope host (by index in the plan). */
  readonly scopeRecords: { readonly users: readonly number[]; readonly hosts: readonly number[] };
  /**
   * This source's user and host forms, read only when a scope value matched none of its records and
   * an empty pack was not asked for: the nearest names a refusal (BAD_SCOPE) shows. A value unmatched
   * in the whole pack is unmatched in every source, so every source then read its candidates.
   */
  readonly scopeCandidates: readonly Row[];
}

/**
 * Runs the plan's queries, source by source: {@link runSourceStage} for each, then
 * {@link finishQueries}. The Step Functions state machine runs the same two steps as stages.
 * @throws SessiontrailError `BAD_REQUEST` for an unknown source; `LOGS_NOT_FOUND` from the
 *   locator; `QUERY_FAILED` / `ENGINE_UNAVAILABLE` from the engine; `BAD_SCOPE` (see finishQueries).
 */
export async function runQueries(plan: PackPlan, deps: QueryStepDeps): Promise<QueryStepResult> {
  const stages: SourceStageResult[] = [];
  for (const source of plan.request.sources) stages.push(await runSourceStage(plan, source, deps));
  await deps.engine.release();
  return finishQueries(plan, stages);
}

/**
 * One source's statements: locate its raw logs, normalise them into its classified-lines table,
 * rebuild its sessions and select its rows. Independent of the other sources: the working tables
 * it reads are the ones it wrote (the shared names `session_events`, `attributed` and
 * `session_halves` are rewritten by each source, so stages of one pack run one after another).
 * @throws SessiontrailError `INTERNAL` for a source the plan does not hold; `LOGS_NOT_FOUND` from
 *   the locator; `QUERY_FAILED` / `ENGINE_UNAVAILABLE` from the engine.
 */
export async function runSourceStage(
  plan: PackPlan,
  source: string,
  deps: QueryStepDeps,
): Promise<SourceStageResult> {
  const { engine } = deps;
  const d = engine.dialect;
  const progress = deps.onProgress ?? (() => {});
  const rp = plan.reconstruction;
  const def = SOURCES[source];
  if (def === undefined || !plan.request.sources.includes(source))
    throw new SessiontrailError('INTERNAL', `source ${source} is not one of the plan's sources`);
  const runs: QueryRun[] = [];
  const statements: RanStatement[] = [];
  // The query as the engine is sent it (Athena: values outside WHERE as literals), so that the
  // pack's queries/*.sql is exactly what ran.
  const bound = (q: SqlQuery) => d.bindValues?.(q) ?? q;
  const record = (built: SqlQuery, q: SqlQuery, run: QueryRun, rows: number) => {
    runs.push(run);
    statements.push({ name: q.name, text: sqlFileText(q, q.sql !== built.sql), rows });
  };
  const materialize = async (table: string, built: SqlQuery, mode: 'replace' | 'append' = 'replace') => {
    const q = bound(built);
    progress(`running ${q.name}`);
    const run = mode === 'append' ? await engine.append(table, q) : await engine.materialize(table, q);
    record(built, q, run, run.rows);
  };
  const select = async (built: SqlQuery): Promise<Row[]> => {
    const q = bound(built);
    progress(`running ${q.name}`);
    const { rows, run } = await engine.select(q);
    record(built, q, run, rows.length);
    return rows;
  };

  progress(`finding ${source} logs`);
  const located = await deps.locator.locate(source, plan.dataFromMs, rp.toMs);
  let fileProblems: QueryResults['fileProblems'];
  let inputs: InputRecord[] | null;
  try {
    fileProblems = located.problems.map((p) => ({ source, ...p }));
    // In parts of whole files where the source's rows depend on each file alone and the engine
    // bounds a statement's input (input-parts.ts); each part is recorded as the statement it was.
    const parts = def.normalisesEachFileAlone
      ? inputParts(located.input, located.inputs, engine.statementInputBytes)
      : [located.input];
    for (const [i, part] of parts.entries()) {
      const built = def.buildNormaliseQuery(d, part, rp.config);
      await materialize(
        linesTable(source),
        { ...built, name: partName(built.name, i, parts.length) },
        i === 0 ? 'replace' : 'append',
      );
    }
    // The locator lists local files; the objects of an S3 table input are what the engine read
    // (its `"$path"`, now in the lines table), described by S3.
    const listed =
      located.inputs ??
      (deps.objectVersions !== undefined &&
      located.input.kind === 'table' &&
      located.input.keyPrefix?.startsWith('s3://') === true
        ? await s3InputObjects(
            await select(buildObjectsReadQuery(d, linesTable(source))),
            located.input.keyPrefix,
            deps.objectVersions,
          )
        : undefined);
    inputs = listed === undefined ? null : listed.map((i) => ({ source, ...i }));
  } finally {
    await located.cleanup();
  }
  const users = rp.users.map(() => 0);
  const hosts = rp.hosts.map(() => 0);
  if (rp.users.length + rp.hosts.length > 0) {
    for (const r of await select(buildScopeMatchQuery(d, rp, linesTable(source)))) {
      const counts = String(r.kind) === 'user' ? users : hosts;
      const idx = Number(r.idx);
      if (idx in counts) counts[idx] = (counts[idx] ?? 0) + Number(r.n);
    }
  }
  await materialize('session_events', buildSessionEventsQuery(d, rp, linesTable(source)));
  await materialize('attributed', buildAttributionQuery(d, rp));
  await materialize('session_halves', buildSessionHalvesQuery(d, rp));
  const scopeTies =
    rp.users.length > 0
      ? (await select(buildScopeTiesQuery(d, rp))).map((r) => ({
          ...r,
          user: rp.users[Number(r.idx)] ?? null,
        }))
      : [];
  const results: QueryResults = {
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
    scopeTies,
    collectorLag: def.measuresCollectorLag ? await select(buildCollectorLagQuery(d)) : [],
    utcTimeChecks:
      def.utcCheckDetail === undefined
        ? []
        : await select(buildUtcTimeCheckQuery(d, linesTable(source), def.utcCheckDetail)),
    fileProblems,
  };
  // Read while this source's lines table exists (a stage's tables are dropped when it ends); not
  // recorded in the pack: it only words a refusal.
  const scopeCandidates =
    [...users, ...hosts].some((n) => n === 0) && !plan.request.allowEmpty
      ? (await engine.select(buildScopeCandidatesQuery(d, linesTable(source)))).rows
      : [];
  return { source, results, statements, runs, inputs, scopeRecords: { users, hosts }, scopeCandidates };
}

/**
 * The end of the query step: the sources' stage results, in the plan's source order, into the
 * pack's numbered `queries/NN-<name>.sql` and merged rows, with the scope check.
 * @throws SessiontrailError `INTERNAL` when the stages are not the plan's sources in order;
 *   `BAD_SCOPE` when a user or host of the scope matches no record in any source and an empty pack
 *   was not asked for (naming the nearest names the data holds).
 */
export function finishQueries(plan: PackPlan, stages: readonly SourceStageResult[]): QueryStepResult {
  const rp = plan.reconstruction;
  const got = stages.map((s) => s.source);
  if (JSON.stringify(got) !== JSON.stringify(plan.request.sources))
    throw new SessiontrailError(
      'INTERNAL',
      `stage results for ${JSON.stringify(got)}, the plan reads ${JSON.stringify(plan.request.sources)}`,
    );
  const total = (pick: (s: SourceStageResult) => readonly number[], i: number) =>
    stages.reduce((sum, s) => sum + (pick(s)[i] ?? 0), 0);
  const scopeMatches: ScopeMatch[] = [
    ...rp.users.map((value, i) => ({
      kind: 'user' as const,
      value,
      records: total((s) => s.scopeRecords.users, i),
    })),
    ...rp.hosts.map((value, i) => ({
      kind: 'host' as const,
      value,
      records: total((s) => s.scopeRecords.hosts, i),
    })),
  ];
  const candidates = stages.flatMap((s) => s.scopeCandidates);
  const unmatched = checkScope(scopeMatches, () => scopeForms(candidates), plan.request.allowEmpty);
  const encoder = new TextEncoder();
  const queryFiles = stages
    .flatMap((s) => s.statements)
    .map((r, i): QueryFile => {
      const name = `queries/${String(i + 1).padStart(2, '0')}-${r.name}.sql`;
      const bytes = encoder.encode(r.text);
      return {
        name,
        bytes,
        record: { name: r.name, file: name, rows: r.rows },
      };
    });
  const results = {
    ...mergeResults(
      stages.map((s) => s.results),
      stages.flatMap((s) => s.results.fileProblems),
    ),
    unmatchedScope: unmatched.map((m) => `${m.kind} ${m.value}`),
  };
  const inputs = stages.every((s) => s.inputs !== null) ? stages.flatMap((s) => s.inputs ?? []) : undefined;
  return { results, queryFiles, runs: stages.flatMap((s) => s.runs), inputs };
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
    scopeTies: list.flatMap((r) => r.scopeTies ?? []),
    collectorLag: list.flatMap((r) => r.collectorLag ?? []),
    utcTimeChecks: list.flatMap((r) => r.utcTimeChecks ?? []),
    fileProblems,
  };
}
