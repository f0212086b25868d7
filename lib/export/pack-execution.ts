/**
 * A pack built as a Step Functions execution (infra/constructs/pack-state-machine.ts): one query
 * stage per source (`runSourceStage`), then the finish stage (`finishQueries` and `finishPack`),
 * each in its own Lambda invocation. This module holds what the starters (the scheduled review,
 * the on-demand API), the stage handlers and the CDK app must agree on: the execution's name and
 * input, the stage events and results, the error names Step Functions retries, and the scan bound.
 */
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ERROR_CLASSES, type ErrorCode, isSessiontrailError, SessiontrailError } from '../errors.ts';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json.ts';
import type { ExportRequest } from '../evidence/request.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { type ExportDeps, type ExportResult, finishPack } from './export-evidence.ts';
import { type PackPlan, planPack } from './plan-pack.ts';
import { finishQueries, runSourceStage, type SourceStageResult } from './run-queries.ts';

/** Step Functions execution names: 1 to 80 of these characters (the set CloudWatch Logs accepts). */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The execution name of a pack: its id (`<kind>-<YYYY-MM-DD>-<12 hex>`, planPack), unchanged. The
 * id is derived from the request's content, so an identical request gets the same name, and
 * StartExecution of a name that exists returns the running execution when the input is the same and
 * fails `ExecutionAlreadyExists` otherwise (Step Functions API reference, StartExecution): a
 * duplicate joins or is refused, never builds twice. The one derivation every caller uses.
 * @throws SessiontrailError `BAD_IDENTIFIER` for an id that is not a valid execution name.
 */
export function executionNameOf(packId: string): string {
  if (!EXECUTION_NAME.test(packId))
    throw new SessiontrailError(
      'BAD_IDENTIFIER',
      `pack id ${JSON.stringify(packId)} is not a Step Functions execution name (1-80 of [A-Za-z0-9_-])`,
    );
  return packId;
}

/** The input of a pack's execution; the state machine maps its `sources` into query stages. */
export interface PackExecutionInput {
  /** The request with the plan's sources named, so every stage plans the same pack. */
  readonly request: ExportRequest;
  readonly packId: string;
  readonly sources: readonly string[];
  /** Who asked, as the manifest will record it. */
  readonly operator: string;
}

/**
 * The execution input of a plan, as RFC 8785 canonical JSON: identical requests give identical
 * bytes (whatever the key order of the event), which StartExecution's idempotency compares.
 */
export function packExecutionInput(plan: PackPlan, request: ExportRequest, operator: string): string {
  const input: PackExecutionInput = {
    request: { ...request, sources: plan.request.sources },
    packId: plan.packId,
    sources: plan.request.sources,
    operator,
  };
  return new TextDecoder().decode(canonicalBytes(JSON.parse(JSON.stringify(input))));
}

/** Where an execution is: Step Functions' status, or null when none of that name exists. */
export interface ExecutionState {
  readonly executionArn: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  /** The execution's input (compared before a failed execution is redriven). */
  readonly input?: string;
  /** The error name and cause of a failed execution. */
  readonly error?: string;
  readonly cause?: string;
}

/** The port the starters use: start a pack's execution, read one. */
export interface PackExecutions {
  /**
   * Starts the execution `name`, or joins it (same input, running), or redrives it (same input,
   * failed, timed out or aborted).
   * @throws SessiontrailError `EXECUTION_EXISTS` when an execution of that name has another input,
   *   has succeeded, or cannot be redriven; `ORCHESTRATION_UNAVAILABLE` when Step Functions fails otherwise.
   */
  start(name: string, input: string): Promise<{ readonly executionArn: string }>;
  /** @throws SessiontrailError `ORCHESTRATION_UNAVAILABLE` when Step Functions cannot be read. */
  describe(name: string): Promise<ExecutionState | null>;
}

/** {@link PackExecutions} over AWS Step Functions (standard workflows). */
export class StepFunctionsExecutions implements PackExecutions {
  readonly #client: SFNClient;
  readonly #stateMachineArn: string;

  constructor(options: { readonly client: SFNClient; readonly stateMachineArn: string }) {
    this.#client = options.client;
    this.#stateMachineArn = options.stateMachineArn;
  }

  /** `arn:…:states:…:execution:<state machine>:<name>` (the ARN format of the Step Functions docs). */
  executionArnOf(name: string): string {
    return `${this.#stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async start(name: string, input: string): Promise<{ executionArn: string }> {
    try {
      const out = await this.#client.send(
        new StartExecutionCommand({ stateMachineArn: this.#stateMachineArn, name, input }),
      );
      return { executionArn: out.executionArn ?? this.executionArnOf(name) };
    } catch (err) {
      if ((err as Error).name === 'ExecutionAlreadyExists') {
        const found = await this.describe(name);
        // The same request after its execution failed: redrive it from the failed stage (Step
        // Functions keeps a closed execution's name for 90 days, and redrives one up to 14 days
        // after it closed: developer guide, "Redriving executions"). The stages' writes are
        // write-once and content-checked, so the rerun completes the pack.
        if (found !== null && REDRIVABLE.has(found.status) && found.input === input) {
          await this.#redrive(found.executionArn, err);
          return { executionArn: found.executionArn };
        }
        throw new SessiontrailError(
          'EXECUTION_EXISTS',
          `the pack's execution ${name} exists with another request, or has ended (${found?.status ?? 'unknown'}): ask its status; a pack is never built twice`,
          { cause: err },
        );
      }
      throw unavailable('StartExecution', err);
    }
  }

  async #redrive(executionArn: string, exists: unknown): Promise<void> {
    try {
      await this.#client.send(new RedriveExecutionCommand({ executionArn }));
    } catch (err) {
      if (
        (err as Error).name === 'ExecutionNotRedrivable' ||
        (err as Error).name === 'ExecutionLimitExceeded'
      )
        throw new SessiontrailError(
          'EXECUTION_EXISTS',
          `the pack's execution ${executionArn} failed and cannot be redriven (${(err as Error).message}): rebuild the pack with "wait": true or the CLI`,
          { cause: exists },
        );
      throw unavailable('RedriveExecution', err);
    }
  }

  async describe(name: string): Promise<ExecutionState | null> {
    try {
      const out = await this.#client.send(
        new DescribeExecutionCommand({ executionArn: this.executionArnOf(name) }),
      );
      return {
        executionArn: out.executionArn ?? this.executionArnOf(name),
        status: (out.status ?? 'RUNNING') as ExecutionState['status'],
        ...(out.input === undefined ? {} : { input: out.input }),
        ...(out.error === undefined ? {} : { error: out.error }),
        ...(out.cause === undefined ? {} : { cause: out.cause }),
      };
    } catch (err) {
      if ((err as Error).name === 'ExecutionDoesNotExist') return null;
      throw unavailable('DescribeExecution', err);
    }
  }
}

/** Closed statuses Step Functions can redrive (RedriveExecution, API reference). */
const REDRIVABLE: ReadonlySet<ExecutionState['status']> = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

function unavailable(call: string, err: unknown): SessiontrailError {
  return new SessiontrailError(
    'ORCHESTRATION_UNAVAILABLE',
    `Step Functions ${call} failed: ${(err as Error).name}: ${(err as Error).message}`,
    { cause: err },
  );
}

// --- Stage errors ----------------------------------------------------------------------------------

/** The error name a stage Lambda fails with (Step Functions matches a Retry on it): `Sessiontrail.<CODE>`. */
export function stageErrorName(code: ErrorCode): string {
  return `Sessiontrail.${code}`;
}

/** The error names Step Functions retries: exactly the codes `ERROR_CLASSES` marks retryable. */
export const RETRYABLE_STAGE_ERRORS: readonly string[] = (Object.keys(ERROR_CLASSES) as ErrorCode[])
  .filter((code) => ERROR_CLASSES[code].retryable)
  .map(stageErrorName);

/**
 * The error a stage handler throws for `err`: named after its code, so that the state machine's
 * Retry sees the code ("The name property of the Error object must match the ErrorEquals value",
 * Lambda developer guide, Node.js function errors); an error that is not a
 * SessiontrailError is a bug, `Sessiontrail.INTERNAL`, never retried.
 */
export function stageFailure(err: unknown): Error {
  const code: ErrorCode = isSessiontrailError(err) ? err.code : 'INTERNAL';
  const failure = new Error((err as Error)?.message ?? String(err), { cause: err });
  failure.name = stageErrorName(code);
  return failure;
}

// --- Stage events and results ----------------------------------------------------------------------

/** The event of a source's query stage (the state machine's Map item). */
export interface SourceStageEvent {
  readonly stage: 'source';
  readonly request: ExportRequest;
  readonly packId: string;
  readonly source: string;
}

/** What a source stage returns to the state machine: small; the rows stay in the stage store. */
export interface SourceStageOutput {
  readonly source: string;
  /** Key of the stored {@link SourceStageResult} in the stage store (content-addressed). */
  readonly key: string;
  readonly statements: readonly { readonly name: string; readonly rows: number }[];
  /** Bytes the engine reported scanned by this stage's statements (0 for an engine that reports none). */
  readonly bytesScanned: number;
}

/** The event of the finish stage: the execution input and the Map's outputs, in source order. */
export interface FinishStageEvent {
  readonly stage: 'finish';
  readonly request: ExportRequest;
  readonly packId: string;
  readonly operator: string;
  readonly stages: readonly SourceStageOutput[];
  /** The deployment's bound on bytes scanned by the whole pack (infra setting `maxBytesScannedPerPack`). */
  readonly maxBytesScanned: number;
}

/** Folder of the stage results in the Athena results bucket (the CDK app grants exactly this folder). */
export const STAGES_PREFIX = 'stages';

/** What a stage needs beyond the export's dependencies: where stage results are kept. */
export interface StageDeps extends ExportDeps {
  /** Scratch storage of stage results (the Athena results bucket's `stages/` folder, which expires). */
  readonly stageStore: EvidenceStore;
}

/**
 * Runs one source's query stage of the pack `event.packId` and stores its result.
 * @throws SessiontrailError `PACK_CONFLICT` when the request no longer plans to that pack id (the
 *   configuration or the deployment changed since the execution started); as `runSourceStage`;
 *   `STORE_WRITE_FAILED` when the result cannot be stored.
 */
export async function runSourceStageOf(event: SourceStageEvent, deps: StageDeps): Promise<SourceStageOutput> {
  const plan = await planOf(event.request, event.packId, deps);
  const result = await runSourceStage(plan, event.source, {
    engine: deps.engine,
    locator: deps.locator,
    ...(deps.onProgress === undefined ? {} : { onProgress: deps.onProgress }),
    ...(deps.objectVersions === undefined ? {} : { objectVersions: deps.objectVersions }),
  });
  const bytes = canonicalBytes(JSON.parse(JSON.stringify(result)));
  // Content-addressed and write-once: a retried stage that read the same rows writes nothing new.
  const key = `${plan.packId}/${event.source}-${sha256Hex(bytes).slice(0, 16)}.json`;
  await deps.stageStore.putIdempotent(key, bytes);
  return {
    source: event.source,
    key,
    statements: result.statements.map((s) => ({ name: s.name, rows: s.rows })),
    bytesScanned: scanned(result),
  };
}

/**
 * The finish stage: reads the source stages' results, checks the scan bound, and assembles,
 * renders and seals the pack (`finishQueries`, then `finishPack`).
 * @throws SessiontrailError `PACK_CONFLICT` as {@link runSourceStageOf}; `COST_BOUND_EXCEEDED`
 *   when the stages scanned more than `maxBytesScanned` (nothing is written); `STORE_READ_FAILED`
 *   for a missing stage result; as `finishQueries` and `finishPack`.
 */
export async function finishStagesOf(event: FinishStageEvent, deps: StageDeps): Promise<ExportResult> {
  const plan = await planOf(event.request, event.packId, deps);
  const stages: SourceStageResult[] = [];
  for (const s of event.stages)
    stages.push(JSON.parse(new TextDecoder().decode(await deps.stageStore.get(s.key))) as SourceStageResult);
  checkScanBound(stages, event.maxBytesScanned);
  return finishPack(plan, event.request, finishQueries(plan, stages), deps);
}

/** Bytes scanned by one stage's statements, as the engine reported them. */
function scanned(result: SourceStageResult): number {
  return result.runs.reduce((sum, r) => sum + (r.bytesScanned ?? 0), 0);
}

/**
 * The cost bound: the stages' bytes scanned, summed from the stored results (what the engine
 * reported, not what the events claim), against the deployment's bound.
 * @throws SessiontrailError `COST_BOUND_EXCEEDED` naming the total, the bound and each source's share.
 */
export function checkScanBound(stages: readonly SourceStageResult[], maxBytesScanned: number): void {
  const per = stages.map((s) => ({ source: s.source, bytes: scanned(s) }));
  const total = per.reduce((sum, p) => sum + p.bytes, 0);
  if (total > maxBytesScanned)
    throw new SessiontrailError(
      'COST_BOUND_EXCEEDED',
      `the pack's queries scanned ${total} bytes, over the bound of ${maxBytesScanned} (${per.map((p) => `${p.source} ${p.bytes}`).join(', ')}); nothing was sealed: raise maxBytesScannedPerPack or narrow the request`,
    );
}

async function planOf(request: ExportRequest, packId: string, deps: StageDeps): Promise<PackPlan> {
  const plan = await planPack(request, deps.config, deps.locator);
  if (plan.packId !== packId)
    throw new SessiontrailError(
      'PACK_CONFLICT',
      `the request now plans pack ${plan.packId}, the execution was started for ${packId} (the configuration or the deployment changed): start it again`,
    );
  return plan;
}
