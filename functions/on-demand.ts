/**
 * Packs on request, for auditors (`kind: audit`) and incident responders (`kind: incident`), and
 * their status. Events (validated strictly, see lib/evidence/request-schema.ts):
 *
 * - `{ action: 'export', kind, from, to, users?, hosts?, … }`: answers at once with the pack's id
 *   and location, and starts the pack state machine's execution named after the pack id
 *   (lib/export/pack-execution.ts): an identical request joins the running execution, a different
 *   one for the same id is refused (`EXECUTION_EXISTS`); the pack id comes from the request's
 *   content, so the caller can ask for it later. `wait: true` builds it in this invocation instead
 *   (one Lambda, 15 minutes at most) and answers with the outcome.
 * - `{ action: 'status', series, packId }`: whether the pack is sealed (its signature and every
 *   digest verify with the key published beside the packs), unfinished or not started, and the
 *   state of its execution (DescribeExecution).
 * - `{ action: 'check' }`: loads the evidence schema and the PDF fonts (a post-deploy smoke test).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Summary } from '../lib/evidence/model.ts';
import { type ExportEvent, parseOnDemandEvent, toExportRequest } from '../lib/evidence/request-schema.ts';
import { validateEvidence } from '../lib/evidence/schema.ts';
import { type ExportResult, exportEvidence } from '../lib/export/export-evidence.ts';
import { type ExecutionState, executionNameOf, packExecutionInput } from '../lib/export/pack-execution.ts';
import { planPack } from '../lib/export/plan-pack.ts';
import { loadFontSet } from '../lib/render/pdf/font-set.ts';
import { packState } from '../lib/signing/pack-state.ts';
import type { EvidenceStore } from '../lib/storage/evidence-store.ts';
import { awsRuntime, type HandlerRuntime } from './_shared/deps.ts';
import { answerFor, type ErrorAnswer } from './_shared/errors.ts';
import { logFailure, logger, observability, recordExport } from './_shared/observability.ts';

export type PackState = 'sealed' | 'in_progress' | 'not_started';

export type OnDemandAnswer =
  | {
      readonly ok: true;
      readonly action: 'export';
      /** `started`: the pack's execution was started, or joined (an identical request's). */
      readonly status: 'started' | 'sealed';
      readonly packId: string;
      readonly series: string;
      readonly location: string;
      /** The execution building the pack (absent when the pack was already sealed). */
      readonly executionArn?: string;
      /** Send this event to learn when the pack is sealed. */
      readonly statusEvent: { readonly action: 'status'; readonly series: string; readonly packId: string };
    }
  | {
      readonly ok: true;
      readonly action: 'export';
      readonly status: ExportResult['status'];
      readonly packId: string;
      readonly series: string;
      readonly location: string;
      readonly evidenceSha256: string;
      readonly keyId: string;
      readonly summary: Summary;
    }
  | {
      readonly ok: true;
      readonly action: 'status';
      readonly packId: string;
      readonly series: string;
      readonly location: string;
      readonly sealed: boolean;
      readonly state: PackState;
      /** The pack's execution (status, and error and cause when it failed), or null when none was started. */
      readonly execution: ExecutionState | null;
    }
  | {
      readonly ok: true;
      readonly action: 'check';
      readonly schema: 'loaded';
      readonly fonts: readonly string[];
    }
  | ErrorAnswer;

/**
 * Builds the handler over a runtime (AWS in production, fakes in tests).
 * @throws anything but a caller's error (see functions/_shared/errors.ts), so Lambda retries it.
 */
export function makeOnDemandHandler(runtime: HandlerRuntime) {
  return async (event: unknown, context: Context): Promise<OnDemandAnswer> => {
    try {
      const parsed = parseOnDemandEvent(event);
      switch (parsed.action) {
        case 'check':
          return check();
        case 'status':
          return await status(runtime, parsed.series, parsed.packId);
        case 'export':
          return parsed.wait === true
            ? await build(runtime, parsed, context)
            : await start(runtime, parsed, context);
      }
    } catch (err) {
      const answer = answerFor(err);
      if (answer === null) {
        logFailure('on-demand request failed', err, packKeysOf(event));
        throw err;
      }
      logger.warn('request refused', { code: answer.error.code, reason: answer.error.message });
      return answer;
    }
  };
}

/** The pack keys an event carries (series, pack id, kind, window), for the failure's log line. */
function packKeysOf(event: unknown): Record<string, unknown> {
  if (typeof event !== 'object' || event === null) return {};
  const e = event as Record<string, unknown>;
  const keys: Record<string, unknown> = {};
  for (const k of ['action', 'kind', 'series', 'packId', 'from', 'to', 'incidentId'])
    if (typeof e[k] === 'string') keys[k] = e[k];
  return keys;
}

function check(): OnDemandAnswer {
  // validateEvidence throws BAD_CONFIG when the schema file is not where the module expects it.
  validateEvidence({});
  return { ok: true, action: 'check', schema: 'loaded', fonts: Object.keys(loadFontSet().fonts).sort() };
}

/** The one pack-state decision (lib/signing/pack-state.ts) in this answer's words. */
async function stateOf(store: EvidenceStore, dir: string): Promise<PackState> {
  const { state } = await packState(store, dir);
  return state === 'sealed' ? 'sealed' : state === 'unfinished' ? 'in_progress' : 'not_started';
}

async function status(runtime: HandlerRuntime, series: string, packId: string): Promise<OnDemandAnswer> {
  const dir = `${series}/${packId}`;
  const store = runtime.store();
  const state = await stateOf(store, dir);
  const execution = await runtime.executions().describe(executionNameOf(packId));
  return {
    ok: true,
    action: 'status',
    packId,
    series,
    location: store.describe(dir),
    sealed: state === 'sealed',
    state,
    execution,
  };
}

async function start(runtime: HandlerRuntime, event: ExportEvent, context: Context): Promise<OnDemandAnswer> {
  const request = toExportRequest(event);
  const plan = await planPack(request, await runtime.config(), runtime.locator());
  const series = plan.request.series;
  const store = runtime.store();
  const sealed = (await stateOf(store, plan.dir)) === 'sealed';
  // An unfinished pack is started too: the execution resumes it (every write is write-once and
  // content-checked); a running execution of the same request is joined, not doubled.
  const execution = sealed
    ? undefined
    : await runtime
        .executions()
        .start(executionNameOf(plan.packId), packExecutionInput(plan, request, operatorOf(event, context)));
  if (execution) logger.info('export started', { packId: plan.packId, executionArn: execution.executionArn });
  return {
    ok: true,
    action: 'export',
    status: sealed ? 'sealed' : 'started',
    packId: plan.packId,
    series,
    location: store.describe(plan.dir),
    ...(execution ? { executionArn: execution.executionArn } : {}),
    statusEvent: { action: 'status', series, packId: plan.packId },
  };
}

async function build(runtime: HandlerRuntime, event: ExportEvent, context: Context): Promise<OnDemandAnswer> {
  const planned = await planPack(toExportRequest(event), await runtime.config(), runtime.locator());
  const deps = await runtime.exportDeps({
    packId: planned.packId,
    remainingMs: context.getRemainingTimeInMillis(),
  });
  let result: ExportResult;
  try {
    result = await exportEvidence(toExportRequest(event), {
      ...deps,
      operator: operatorOf(event, context),
      onProgress: (step) => logger.debug(step),
    });
  } finally {
    await deps.close();
  }
  recordExport(result);
  logger.info('pack', { status: result.status, packId: result.packId, location: result.location });
  return {
    ok: true,
    action: 'export',
    status: result.status,
    packId: result.packId,
    series: result.pack.pack.series,
    location: result.location,
    evidenceSha256: result.evidenceSha256,
    keyId: result.keyId,
    summary: result.pack.summary,
  };
}

/**
 * Lambda does not tell a function which IAM principal invoked it (the context carries no caller for
 * IAM-signed Invoke), so the operator says what is known: the requester the request states, marked
 * as stated, and the function it came through. CloudTrail's Invoke data events hold the principal.
 */
function operatorOf(event: ExportEvent, context: Context): string {
  const via = context.invokedFunctionArn;
  return event.requester
    ? `${event.requester} (as stated in the request), via ${via}`
    : `caller of ${via} (the IAM principal is in CloudTrail's Invoke data events)`;
}

export const handler = middy().use(observability()).handler(makeOnDemandHandler(awsRuntime()));
