/**
 * The monthly review: EventBridge Scheduler invokes this on the 1st with its own scheduled time;
 * the pack covers the previous calendar month (lib/evidence/schedule-window.ts). It starts the pack
 * state machine's execution named after the pack id (lib/export/pack-execution.ts), which runs the
 * sources' query stages and seals the pack. A retry or a late run of the same schedule plans the
 * same pack: it joins the running execution or finds the pack already sealed.
 *
 * A second schedule invokes it at the review's deadline with `check: 'deadline'`: it builds
 * nothing, plans the month's pack and answers whether its signature is there; when it is not, it
 * counts `ReviewDeadlineMissed`, on which the stack alarms (a review that never ran raises no error).
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ExportRequest } from '../lib/evidence/request.ts';
import { parseScheduledEvent } from '../lib/evidence/request-schema.ts';
import { previousMonthWindow, type ReviewWindow } from '../lib/evidence/schedule-window.ts';
import { executionNameOf, packExecutionInput } from '../lib/export/pack-execution.ts';
import { planPack } from '../lib/export/plan-pack.ts';
import { packState } from '../lib/signing/pack-state.ts';
import { awsRuntime, type HandlerRuntime } from './_shared/deps.ts';
import { logFailure, logger, metrics, observability } from './_shared/observability.ts';

export interface ScheduledReviewAnswer {
  readonly ok: true;
  /** `started`: the execution was started (or joined); `already_sealed`: the month's pack exists. */
  readonly status: 'started' | 'already_sealed';
  readonly packId: string;
  readonly location: string;
  readonly window: ReviewWindow;
  /** The execution building the pack (absent when it was already sealed). */
  readonly executionArn?: string;
}

/**
 * Builds the handler over a runtime (AWS in production, fakes in tests).
 * @throws SessiontrailError `BAD_REQUEST` for an event that is not a schedule's; anything the
 *   export throws (the scheduler's and Lambda's retries, then the dead-letter queue, take over).
 */
export function makeScheduledReviewHandler(runtime: HandlerRuntime) {
  return async (event: unknown, context: Context): Promise<ScheduledReviewAnswer | DeadlineAnswer> => {
    const deadline = deadlineCheckOf(event);
    if (deadline !== null) return checkDeadline(runtime, deadline);
    const scheduled = parseScheduledEvent(event);
    const window = previousMonthWindow(scheduled.scheduledTime, scheduled.timeZone ?? 'UTC');
    logger.info('scheduled review', { scheduledTime: scheduled.scheduledTime, window });
    const request: ExportRequest = {
      kind: 'review',
      from: window.from,
      to: window.to,
      ...(scheduled.series ? { series: scheduled.series } : {}),
    };
    const keys = { series: scheduled.series ?? 'review', window, scheduledTime: scheduled.scheduledTime };
    try {
      const plan = await planPack(request, await runtime.config(), runtime.locator());
      const store = runtime.store();
      const location = store.describe(plan.dir);
      if ((await packState(store, plan.dir)).state === 'sealed') {
        logger.info('review pack already sealed', { packId: plan.packId, location });
        return { ok: true, status: 'already_sealed', packId: plan.packId, location, window };
      }
      // The schedule is who asked; an EventBridge rule's event carries no ARN of its own. Nothing
      // of the attempt (execution id, attempt number) goes in: a retry must send the same input.
      const operator = scheduled.scheduleArn ?? `EventBridge event to ${context.invokedFunctionArn}`;
      const { executionArn } = await runtime
        .executions()
        .start(executionNameOf(plan.packId), packExecutionInput(plan, request, operator));
      logger.info('review pack started', { packId: plan.packId, location, executionArn });
      return { ok: true, status: 'started', packId: plan.packId, location, window, executionArn };
    } catch (err) {
      logFailure('scheduled review failed', err, keys);
      throw err;
    }
  };
}

/** The answer of a deadline check: whether the month's review pack is sealed. */
export interface DeadlineAnswer {
  readonly ok: true;
  readonly check: 'deadline';
  readonly sealed: boolean;
  readonly packId: string;
  readonly location: string;
  readonly window: ReviewWindow;
}

/** The schedule's event without its `check: 'deadline'` marker, or null for a review event. */
function deadlineCheckOf(event: unknown): unknown | null {
  if (typeof event !== 'object' || event === null || (event as { check?: unknown }).check !== 'deadline')
    return null;
  const { check: _check, ...rest } = event as Record<string, unknown>;
  return rest;
}

/** Plans the month's pack as the review does and tells whether its signature exists. */
async function checkDeadline(runtime: HandlerRuntime, event: unknown): Promise<DeadlineAnswer> {
  const scheduled = parseScheduledEvent(event);
  const window = previousMonthWindow(scheduled.scheduledTime, scheduled.timeZone ?? 'UTC');
  const plan = await planPack(
    {
      kind: 'review',
      from: window.from,
      to: window.to,
      ...(scheduled.series ? { series: scheduled.series } : {}),
    },
    await runtime.config(),
    runtime.locator(),
  );
  const store = runtime.store();
  const sealed = await store.exists(`${plan.dir}/manifest.sig`);
  if (!sealed) {
    metrics.addMetric('ReviewDeadlineMissed', MetricUnit.Count, 1);
    logger.error('review pack missing at its deadline', { packId: plan.packId, window });
  }
  return {
    ok: true,
    check: 'deadline',
    sealed,
    packId: plan.packId,
    location: store.describe(plan.dir),
    window,
  };
}

export const handler = middy().use(observability()).handler(makeScheduledReviewHandler(awsRuntime()));
