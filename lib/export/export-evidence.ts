/**
 * The one use case: `exportEvidence(request, deps)`. The CLI and the Lambdas build a request and
 * the dependencies, then call it. Each step is a named function of its own:
 *
 *   planPack → runQueries → assembleEvidence → (pack state) → renderPdf → sealPack
 *
 * `runQueries` is `runSourceStage` per source then `finishQueries`, and everything after it is
 * {@link finishPack}: the Step Functions state machine runs the same functions as stages.
 */
import type { Clock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import { SessiontrailError } from '../errors.ts';
import { sha256Hex } from '../evidence/canonical-json.ts';
import type { EvidencePack } from '../evidence/model.ts';
import type { ExportRequest } from '../evidence/request.ts';
import type { RawLogLocator } from '../locate/raw-log-locator.ts';
import type { ObjectVersions } from '../locate/s3-object-versions.ts';
import type { QueryEngine, QueryRun } from '../query/query-engine.ts';
import { renderPdf } from '../render/pdf/render-pdf.ts';
import { buildRenderModel } from '../render/render-model.ts';
import { fingerprint } from '../signing/keygen.ts';
import type { JsonValue } from '../signing/manifest.ts';
import { packState } from '../signing/pack-state.ts';
import { reserveSequence, sealPack } from '../signing/seal-pack.ts';
import type { Signer } from '../signing/signer.ts';
import type { Timestamper } from '../signing/timestamp.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { type AssembledEvidence, assembleEvidence } from './assemble-evidence.ts';
import { type PackPlan, planPack } from './plan-pack.ts';
import { type QueryStepResult, runQueries } from './run-queries.ts';

export interface ExportDeps {
  readonly engine: QueryEngine;
  readonly store: EvidenceStore;
  readonly signer: Signer;
  readonly clock: Clock;
  readonly config: Config;
  /** Where the raw logs are, and which sources they hold. */
  readonly locator: RawLogLocator;
  readonly toolVersion: string;
  /**
   * Who seals the pack, recorded in its manifest and on the PDF cover: the CLI passes `--requester`
   * or the OS user, the Lambdas the stated requester and function, or the schedule's ARN.
   * @default 'unspecified'
   */
  readonly operator?: string;
  readonly onProgress?: (step: string) => void;
  /**
   * A Time-Stamping Authority: the manifest then gets an RFC 3161 token (`manifest.tsr`).
   * @default none
   */
  readonly timestamper?: Timestamper;
  /**
   * Describes the S3 objects a table input read (Athena), so that the pack lists their versions.
   * @default none: a table input's objects are not listed
   */
  readonly objectVersions?: ObjectVersions;
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

/**
 * Builds, renders, seals and stores one evidence pack.
 *
 * @throws SessiontrailError `BAD_REQUEST` / `BAD_WINDOW` for a bad request; `NO_SOURCE_DATA` when
 *   the logs hold no source; `LOGS_NOT_FOUND` when the logs cannot be read; `QUERY_FAILED` from the
 *   engine; `PACK_EXISTS` when a different pack of the same id is already sealed; `PACK_CONFLICT`
 *   when an unfinished pack of the same id holds other content; `SERIES_BUSY` while another seal of
 *   the series is unfinished; `SERIES_PREDECESSOR_UNVERIFIED` when the series' latest pack does not
 *   verify; `INTERNAL` if the pack fails its own schema (a bug).
 */
export async function exportEvidence(request: ExportRequest, deps: ExportDeps): Promise<ExportResult> {
  const plan = await planPack(request, deps.config, deps.locator);
  const queried = await runQueries(plan, {
    engine: deps.engine,
    locator: deps.locator,
    ...(deps.onProgress === undefined ? {} : { onProgress: deps.onProgress }),
    ...(deps.objectVersions === undefined ? {} : { objectVersions: deps.objectVersions }),
  });
  return finishPack(plan, request, queried, deps);
}

/** What {@link finishPack} uses of the export's dependencies. */
type FinishDeps = Pick<
  ExportDeps,
  'engine' | 'store' | 'signer' | 'clock' | 'toolVersion' | 'operator' | 'onProgress' | 'timestamper'
>;

/**
 * The steps after the queries: assemble `evidence.json`, check the pack's state, reserve the
 * series' sequence, render the PDF and seal. The last stage of the Step Functions state machine
 * runs this over the source stages' results; {@link exportEvidence} over its own.
 * @throws SessiontrailError as {@link exportEvidence}, from `assembleEvidence` on (as a rejection).
 */
export function finishPack(
  plan: PackPlan,
  request: ExportRequest,
  queried: QueryStepResult,
  deps: FinishDeps,
): Promise<ExportResult> {
  // Assembled before the async steps, which receive only what they use: an async function holds
  // its arguments until it returns, and the query rows (`queried.results`, one object per activity
  // row, as large as the pack's own objects) would stay alive through the render and the seal.
  let evidence: AssembledEvidence;
  try {
    (deps.onProgress ?? (() => {}))('assembling evidence.json');
    evidence = assembleEvidence(plan, queried.results, queried.queryFiles, {
      toolVersion: deps.toolVersion,
      ...(queried.inputs === undefined ? {} : { inputs: queried.inputs }),
    });
  } catch (error) {
    return Promise.reject(error);
  }
  return sealAssembled(plan, request, evidence, queried.queryFiles, queried.runs, deps);
}

/** {@link finishPack} once evidence.json is assembled: the pack's state, the sequence, the PDF, the seal. */
async function sealAssembled(
  plan: PackPlan,
  request: ExportRequest,
  evidence: AssembledEvidence,
  queryFiles: QueryStepResult['queryFiles'],
  runs: QueryStepResult['runs'],
  deps: FinishDeps,
): Promise<ExportResult> {
  const progress = deps.onProgress ?? (() => {});
  // How the pack was computed goes to the manifest and the PDF, not to evidence.json (ToolInfo).
  const engine = await deps.engine.describe();
  const keyId = await deps.signer.keyId();
  const outcome = (status: ExportResult['status'], dir: string, signedBy: string): ExportResult => ({
    status,
    packId: plan.packId,
    dir,
    location: deps.store.describe(dir),
    evidenceSha256: evidence.sha256,
    keyId: signedBy,
    pack: evidence.pack,
    runs,
  });

  const publicKeyPem = await deps.signer.publicKeyPem();
  const state = await packState(deps.store, plan.dir, publicKeyPem);
  if (state.state === 'sealed') {
    if (state.evidenceSha256 === evidence.sha256) return outcome('already_sealed', plan.dir, keyId);
    throw new SessiontrailError(
      'PACK_EXISTS',
      `pack ${deps.store.describe(plan.dir)} is already sealed with different evidence (sha256 ${state.evidenceSha256}); packs are written once: use another --series or --out`,
    );
  }

  // An absent pack takes the series' next sequence; an unfinished one (a build that died) keeps
  // the sequence and sealing time it reserved, so the files it wrote compare equal and it resumes.
  progress('reserving the sequence number');
  const series = plan.request.series;
  const reservation = await reserveSequence(
    { store: deps.store, clock: deps.clock, trustedKeyPem: publicKeyPem },
    {
      series,
      packId: plan.packId,
      operator: deps.operator ?? 'unspecified',
      request: JSON.parse(JSON.stringify(request)) as JsonValue,
    },
  );

  progress('rendering evidence.pdf');
  const pdf = await renderPdf(
    buildRenderModel(evidence.pack, {
      evidenceSha256: evidence.sha256,
      keyId,
      keyFingerprint: fingerprint(publicKeyPem),
      sealedAt: reservation.sealedAt,
      operator: reservation.operator,
      sequence: reservation.sequence,
      engine,
      querySha256: Object.fromEntries(queryFiles.map((f) => [f.name, sha256Hex(f.bytes)])),
    }),
    evidence.bytes,
  );

  progress('sealing');
  const sealed = await sealPack(
    {
      store: deps.store,
      signer: deps.signer,
      clock: deps.clock,
      ...(deps.timestamper === undefined ? {} : { timestamper: deps.timestamper }),
    },
    {
      series,
      packId: plan.packId,
      artifacts: [
        { name: 'evidence.json', bytes: evidence.bytes },
        { name: 'evidence.pdf', bytes: pdf },
        ...queryFiles.map((f) => ({ name: f.name, bytes: f.bytes })),
      ],
      reservation,
      tool: { name: 'sessiontrail', version: deps.toolVersion, engine },
    },
  );
  return outcome('written', sealed.dir, sealed.keyId);
}
