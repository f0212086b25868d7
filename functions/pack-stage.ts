/**
 * The stages of the pack state machine (infra/constructs/pack-state-machine.ts), one function:
 *
 * - `{ stage: 'source', request, packId, source }`: runs that source's statements on Athena, stores
 *   its rows in the results bucket's `stages/` folder and answers a small summary (statements, rows,
 *   bytes scanned) that the state machine passes on;
 * - `{ stage: 'finish', request, packId, operator, stages, maxBytesScanned }`: checks the scan
 *   bound, assembles, renders and seals the pack.
 *
 * A failure is thrown named `Sessiontrail.<CODE>` (lib/export/pack-execution.ts), so the state
 * machine retries exactly the codes lib/errors.ts marks retryable and fails the execution otherwise.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { SessiontrailError } from '../lib/errors.ts';
import type { ExportRequest } from '../lib/evidence/request.ts';
import {
  type FinishStageEvent,
  finishStagesOf,
  runSourceStageOf,
  type SourceStageEvent,
  type SourceStageOutput,
  stageFailure,
} from '../lib/export/pack-execution.ts';
import { awsRuntime, type HandlerRuntime } from './_shared/deps.ts';
import { logFailure, logger, observability, recordExport } from './_shared/observability.ts';

/** The finish stage's answer: the sealed pack. */
export interface FinishStageAnswer {
  readonly ok: true;
  readonly status: 'written' | 'already_sealed';
  readonly packId: string;
  readonly location: string;
  readonly evidenceSha256: string;
  readonly keyId: string;
}

/**
 * Builds the handler over a runtime (AWS in production, fakes in tests).
 * @throws Error named `Sessiontrail.<CODE>` for every failure (see {@link stageFailure}).
 */
export function makePackStageHandler(runtime: HandlerRuntime) {
  return async (event: unknown, context: Context): Promise<SourceStageOutput | FinishStageAnswer> => {
    try {
      const parsed = parseStageEvent(event);
      const deps = await runtime.exportDeps({
        packId: parsed.packId,
        remainingMs: context.getRemainingTimeInMillis(),
      });
      const stageDeps = {
        ...deps,
        stageStore: runtime.stageStore(),
        onProgress: (s: string) => logger.debug(s),
      };
      try {
        if (parsed.stage === 'source') {
          const out = await runSourceStageOf(parsed, stageDeps);
          logger.info('source stage', {
            packId: parsed.packId,
            source: out.source,
            bytesScanned: out.bytesScanned,
          });
          return out;
        }
        const result = await finishStagesOf(parsed, { ...stageDeps, operator: parsed.operator });
        recordExport(result);
        logger.info('pack', { status: result.status, packId: result.packId, location: result.location });
        return {
          ok: true,
          status: result.status,
          packId: result.packId,
          location: result.location,
          evidenceSha256: result.evidenceSha256,
          keyId: result.keyId,
        };
      } finally {
        // Drops the stage's working tables; the finish stage created none.
        await deps.close();
      }
    } catch (err) {
      logFailure('pack stage failed', err, keysOf(event));
      throw stageFailure(err);
    }
  };
}

/**
 * The stage event, as the state machine sends it.
 * @throws SessiontrailError `BAD_REQUEST` naming what is missing.
 */
export function parseStageEvent(event: unknown): SourceStageEvent | FinishStageEvent {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const bad = (what: string): never => {
    throw new SessiontrailError('BAD_REQUEST', `pack stage event: ${what}`);
  };
  if (typeof e.packId !== 'string') bad('packId must be a string');
  if (typeof e.request !== 'object' || e.request === null) bad('request must be an object');
  const base = { request: e.request as ExportRequest, packId: e.packId as string };
  if (e.stage === 'source') {
    if (typeof e.source !== 'string') bad('source must be a string');
    return { stage: 'source', ...base, source: e.source as string };
  }
  if (e.stage === 'finish') {
    if (typeof e.operator !== 'string') bad('operator must be a string');
    if (!Array.isArray(e.stages)) bad('stages must be the source stages’ outputs');
    if (typeof e.maxBytesScanned !== 'number' || !(e.maxBytesScanned >= 0))
      bad('maxBytesScanned must be a number >= 0');
    return {
      stage: 'finish',
      ...base,
      operator: e.operator as string,
      stages: e.stages as SourceStageOutput[],
      maxBytesScanned: e.maxBytesScanned as number,
    };
  }
  return bad(`stage must be 'source' or 'finish', received ${JSON.stringify(e.stage)}`);
}

function keysOf(event: unknown): Record<string, unknown> {
  if (typeof event !== 'object' || event === null) return {};
  const e = event as Record<string, unknown>;
  const keys: Record<string, unknown> = {};
  for (const k of ['stage', 'packId', 'source']) if (typeof e[k] === 'string') keys[k] = e[k];
  return keys;
}

export const handler = middy().use(observability()).handler(makePackStageHandler(awsRuntime()));
