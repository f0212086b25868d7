/**
 * The one use case: `exportEvidence(request, deps)`. The CLI and the Lambdas build a request and
 * the dependencies, then call it. Flow: plan → query (normalise once, reconstruct) → pack →
 * render → seal → store.
 */
import type { Clock } from '../clock.ts';
import type { Config, SuppressionRule } from '../config/config.ts';
import { SessiontrailError } from '../errors.ts';
import type { RawInput } from '../query/dialects/dialect.ts';
import type { QueryEngine, QueryRun, Row } from '../query/query-engine.ts';
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
} from '../query/reconstruct.ts';
import type { SqlQuery } from '../query/sql.ts';
import { renderPdf } from '../render/pdf/render-pdf.ts';
import { buildRenderModel } from '../render/render-model.ts';
import { fingerprint } from '../signing/keygen.ts';
import { findPreviousPack, sealPack } from '../signing/seal-pack.ts';
import type { Signer } from '../signing/signer.ts';
import { SOURCE_NAMES, SOURCES } from '../sources/index.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { assemblePack, type QueryResults, shortHash } from './assemble-pack.ts';
import { canonicalBytes, sha256Hex } from './canonical-json.ts';
import type { EvidencePack, QueryRecord } from './model.ts';
import { type ExportRequest, type ValidRequest, validateRequest } from './request.ts';
import { validateEvidence } from './schema.ts';

/** Where a source's raw lines are for one pack, and what was wrong with its files. */
export interface LocatedInput {
  readonly input: RawInput;
  readonly problems: readonly { readonly key: string; readonly reason: string }[];
  cleanup(): Promise<void>;
}

export interface ExportDeps {
  readonly engine: QueryEngine;
  readonly store: EvidenceStore;
  readonly signer: Signer;
  readonly clock: Clock;
  readonly config: Config;
  /** Finds a source's raw input for the days `[fromMs, toMs)`. */
  readonly locate: (source: string, fromMs: number, toMs: number) => Promise<LocatedInput>;
  readonly toolVersion: string;
  /**
   * The sources the logs hold, for requests that name none (e.g. the `<source>/` folders of a local
   * layout, the tables of a deployment). Without it, every known source is read.
   */
  readonly availableSources?: () => Promise<readonly string[]>;
  readonly onProgress?: (step: string) => void;
}

export interface ExportResult {
  /** `written`: a new pack; `already_sealed`: the same pack (same evidence.json bytes) was already in the store. */
  readonly status: 'written' | 'already_sealed';
  readonly packId: string;
  /** `<series>/<pack id>` relative to the store root. */
  readonly dir: string;
  readonly location: string;
  readonly evidenceSha256: string;
  readonly keyId: string;
  readonly pack: EvidencePack;
  readonly runs: readonly QueryRun[];
}

const WORK_LINES = (source: string) => `${source}_lines`;

/**
 * Builds, renders, seals and stores one evidence pack.
 *
 * @throws SessiontrailError `BAD_REQUEST` / `BAD_WINDOW` for a bad request; `LOGS_NOT_FOUND` when
 *   the logs cannot be read; `QUERY_FAILED` from the engine; `PACK_EXISTS` when a different pack of
 *   the same id is already stored; `VERIFY_SCHEMA` if the pack fails its own schema (a bug).
 */
export async function exportEvidence(request: ExportRequest, deps: ExportDeps): Promise<ExportResult> {
  const asked = validateRequest(request);
  const sources = asked.sources ?? [...((await deps.availableSources?.()) ?? SOURCE_NAMES)].sort();
  if (sources.length === 0) {
    throw new SessiontrailError(
      'NO_SOURCE_DATA',
      'no source folder was found in the logs: name one with --source',
    );
  }
  const req = { ...asked, sources };
  const { engine, config } = deps;
  const progress = deps.onProgress ?? (() => {});
  const dataFromMs = req.fromMs - config.lookback_hours * 3_600_000;
  const { active, expired } = splitRules(config.suppress, req.to);
  const plan: ReconstructionPlan = {
    fromMs: req.fromMs,
    toMs: req.toMs,
    dataFromMs,
    users: req.users,
    hosts: req.hosts,
    includeUnprivileged: req.kind === 'incident',
    config,
    activeRules: active,
  };

  const runs: QueryRun[] = [];
  const ran: { query: SqlQuery; rows: number }[] = [];
  const materialize = async (table: string, q: SqlQuery) => {
    progress(`running ${q.name}`);
    const run = await engine.materialize(table, q);
    runs.push(run);
    ran.push({ query: q, rows: run.rows });
  };
  const select = async (q: SqlQuery): Promise<Row[]> => {
    progress(`running ${q.name}`);
    const { rows, run } = await engine.select(q);
    runs.push(run);
    ran.push({ query: q, rows: rows.length });
    return rows;
  };

  const fileProblems: { source: string; key: string; reason: string }[] = [];
  const results: QueryResults[] = [];
  for (const source of req.sources) {
    const def = SOURCES[source];
    if (def === undefined) throw new SessiontrailError('BAD_REQUEST', `unknown source ${source}`);
    progress(`finding ${source} logs`);
    const located = await deps.locate(source, dataFromMs, req.toMs);
    try {
      fileProblems.push(...located.problems.map((p) => ({ source, ...p })));
      await materialize(WORK_LINES(source), def.buildNormaliseQuery(engine.dialect, located.input, config));
    } finally {
      await located.cleanup();
    }
    await materialize('session_events', buildSessionEventsQuery(engine.dialect, plan, WORK_LINES(source)));
    await materialize('attributed', buildAttributionQuery(engine.dialect, plan));
    await materialize('session_halves', buildSessionHalvesQuery(engine.dialect, plan));
    results.push({
      halves: await select(buildPackHalvesQuery(engine.dialect)),
      activity: await select(buildPackActivityQuery(engine.dialect)),
      orphans: await select(buildOrphanQuery(engine.dialect, plan)),
      integrity: await select(buildIntegrityQuery(engine.dialect, plan)),
      suppressionCounts: await select(buildSuppressionCountsQuery(engine.dialect, plan)),
      coverageRecords: await select(buildCoverageQuery(engine.dialect, WORK_LINES(source), def.derivedRows)),
      sourceStats: await select(buildSourceStatsQuery(engine.dialect, WORK_LINES(source))),
      fieldPopulation: await select(buildFieldPopulationQuery(engine.dialect)),
      hostCoverage: await select(buildHostCoverageQuery(engine.dialect)),
      fileProblems: [],
    });
  }
  const merged = mergeResults(results, fileProblems);

  const engineInfo = await engine.describe();
  const queryFiles = ran.map((r, i) => ({
    name: `queries/${String(i + 1).padStart(2, '0')}-${r.query.name}.sql`,
    bytes: new TextEncoder().encode(renderSqlFile(r.query)),
    rows: r.rows,
    query: r.query,
  }));
  const queries: QueryRecord[] = queryFiles.map((f) => ({
    name: f.query.name,
    file: f.name,
    sql_sha256: sha256Hex(f.bytes),
    rows: f.rows,
  }));

  const packId = packIdOf(req, config);
  progress('assembling evidence.json');
  const pack = assemblePack({
    pack: {
      id: packId,
      kind: req.kind,
      series: req.series,
      window: { from: req.from, to: req.to },
      data_from: new Date(dataFromMs).toISOString(),
      scope: {
        users: req.users,
        hosts: req.hosts,
        incident_id: req.incidentId,
        requester: req.requester,
        reason: req.reason,
        include_unprivileged: plan.includeUnprivileged,
      },
      sources: req.sources,
    },
    tool: {
      name: 'sessiontrail',
      version: deps.toolVersion,
      engine: engineInfo,
      config_sha256: sha256Hex(canonicalBytes(config)),
    },
    config,
    expiredRules: expired.map((r) => r.id),
    results: merged,
    queries,
    definedFields: (source, code) => SOURCES[source]?.definedFields(code) ?? [],
    traitsOf: (source) => SOURCES[source]?.traits ?? { privilegeEvents: false, logoffEvents: false },
  });
  const validation = validateEvidence(pack);
  if (!validation.ok) {
    throw new SessiontrailError(
      'VERIFY_SCHEMA',
      `the pack does not match its schema: ${validation.errors.slice(0, 5).join('; ')}`,
    );
  }
  const evidenceBytes = canonicalBytes(pack);
  const evidenceSha256 = sha256Hex(evidenceBytes);
  const keyId = await deps.signer.keyId();
  const dir = `${req.series}/${packId}`;

  const existing = await existingEvidenceDigest(deps.store, dir);
  if (existing !== null) {
    if (existing === evidenceSha256) {
      return {
        status: 'already_sealed',
        packId,
        dir,
        location: deps.store.describe(dir),
        evidenceSha256,
        keyId,
        pack,
        runs,
      };
    }
    throw new SessiontrailError(
      'PACK_EXISTS',
      `pack ${deps.store.describe(dir)} is already sealed with different evidence (sha256 ${existing}); packs are written once: use another --series or --out`,
    );
  }

  progress('rendering evidence.pdf');
  const publicKeyPem = await deps.signer.publicKeyPem();
  const pdf = await renderPdf(
    buildRenderModel(pack, { evidenceSha256, keyId, keyFingerprint: fingerprint(publicKeyPem) }),
    evidenceBytes,
  );

  progress('sealing');
  const previous = await findPreviousPack(deps.store, req.series);
  const sealed = await sealPack(
    { store: deps.store, signer: deps.signer, clock: deps.clock },
    {
      series: req.series,
      packId,
      artifacts: [
        { name: 'evidence.json', bytes: evidenceBytes },
        { name: 'evidence.pdf', bytes: pdf },
        ...queryFiles.map((f) => ({ name: f.name, bytes: f.bytes })),
      ],
      previous,
      tool: { name: 'sessiontrail', version: deps.toolVersion },
    },
  );
  return {
    status: 'written',
    packId,
    dir: sealed.dir,
    location: deps.store.describe(sealed.dir),
    evidenceSha256,
    keyId: sealed.keyId,
    pack,
    runs,
  };
}

/** Pack id from the request's content: the same request gives the same id. */
export function packIdOf(req: ValidRequest & { sources: readonly string[] }, config: Config): string {
  const digest = shortHash(
    JSON.stringify([
      req.kind,
      req.from,
      req.to,
      req.sources,
      req.users,
      req.hosts,
      req.incidentId,
      req.requester,
      req.reason,
      req.series,
      sha256Hex(canonicalBytes(config)),
    ]),
  );
  return `${req.kind}-${req.from.slice(0, 10)}-${digest.slice(0, 12)}`;
}

/** Rules that expired before the window end do not apply: an exemption must cover the whole window. */
function splitRules(rules: readonly SuppressionRule[], to: string) {
  const active: SuppressionRule[] = [];
  const expired: SuppressionRule[] = [];
  for (const r of rules) {
    if (r.expires !== undefined && Date.parse(`${r.expires}T23:59:59.999Z`) < Date.parse(to) - 1)
      expired.push(r);
    else active.push(r);
  }
  return { active, expired };
}

function renderSqlFile(q: SqlQuery): string {
  const params = (q.recordedParams ?? q.params)
    .map((v, i) => `-- $${i + 1} = ${JSON.stringify(v)}`)
    .join('\n');
  return `-- ${q.name}: positional parameters, bound by the engine (never spliced into the text);\n-- local file paths are shown by their names relative to the logs folder\n${params}${params ? '\n' : ''}${q.sql.trim()}\n`;
}

async function existingEvidenceDigest(store: EvidenceStore, dir: string): Promise<string | null> {
  if (!(await store.exists(`${dir}/manifest.json`))) {
    if ((await store.list(dir)).length > 0) {
      throw new SessiontrailError(
        'PACK_EXISTS',
        `pack folder ${store.describe(dir)} holds an unfinished pack (no manifest): move it aside`,
      );
    }
    return null;
  }
  const manifest = JSON.parse(new TextDecoder().decode(await store.get(`${dir}/manifest.json`))) as {
    subject?: { name: string; digest: { sha256: string } }[];
  };
  return manifest.subject?.find((s) => s.name === 'evidence.json')?.digest.sha256 ?? 'unknown';
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
    fileProblems,
  };
}
