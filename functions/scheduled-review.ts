/**
 * The monthly review: EventBridge Scheduler invokes this on the 1st with its own scheduled time;
 * the pack covers the previous calendar month (lib/evidence/schedule-window.ts). A retry or a late
 * run of the same schedule builds the same request, so it finds the same pack already sealed.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseScheduledEvent } from '../lib/evidence/request-schema.ts';
import { previousMonthWindow, type ReviewWindow } from '../lib/evidence/schedule-window.ts';
import { type ExportResult, exportEvidence } from '../lib/export/export-evidence.ts';
import { awsRuntime, type HandlerRuntime } from './_shared/deps.ts';
import { logFailure, logger, observability, recordExport } from './_shared/observability.ts';

export interface ScheduledReviewAnswer {
  readonly ok: true;
  readonly status: ExportResult['status'];
  readonly packId: string;
  readonly location: string;
  readonly window: ReviewWindow;
  readonly evidenceSha256: string;
}

/**
 * Builds the handler over a runtime (AWS in production, fakes in tests).
 * @throws SessiontrailError `BAD_REQUEST` for an event that is not a schedule's; anything the
 *   export throws (the scheduler's and Lambda's retries, then the dead-letter queue, take over).
 */
export function makeScheduledReviewHandler(runtime: HandlerRuntime) {
  return async (event: unknown, context: Context): Promise<ScheduledReviewAnswer> => {
    const scheduled = parseScheduledEvent(event);
    const window = previousMonthWindow(scheduled.scheduledTime, scheduled.timeZone ?? 'UTC');
    logger.info('scheduled review', { scheduledTime: scheduled.scheduledTime, window });
    const deps = await runtime.exportDeps({
      requestId: context.awsRequestId,
      remainingMs: context.getRemainingTimeInMillis(),
    });
    const keys = { series: scheduled.series ?? 'review', window, scheduledTime: scheduled.scheduledTime };
    let result: ExportResult;
    try {
      result = await exportEvidence(
        {
          kind: 'review',
          from: window.from,
          to: window.to,
          ...(scheduled.series ? { series: scheduled.series } : {}),
        },
        {
          ...deps,
          // The schedule is who asked; an EventBridge rule's event carries no ARN of its own.
          operator: scheduled.scheduleArn ?? `EventBridge event to ${context.invokedFunctionArn}`,
          onProgress: (step) => logger.debug(step),
        },
      );
    } catch (err) {
      logFailure('scheduled review failed', err, keys);
      throw err;
    } finally {
      await deps.close();
    }
    recordExport(result);
    logger.info('review pack', { status: result.status, packId: result.packId, location: result.location });
    return {
      ok: true,
      status: result.status,
      packId: result.packId,
      location: result.location,
      window,
      evidenceSha256: result.evidenceSha256,
    };
  };
}

export const handler = middy().use(observability()).handler(makeScheduledReviewHandler(awsRuntime()));
