/**
 * How a handler answers a failure: problems with the request are answered (the caller fixes and
 * resends; no alarm, no retry); everything else is thrown, so that Lambda counts an error, retries
 * an asynchronous invocation and finally parks it in the dead-letter queue.
 */
import { ERROR_CLASSES, type ErrorCode, isSessiontrailError } from '../../lib/errors.ts';

export interface ErrorAnswer {
  readonly ok: false;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/**
 * Codes answered to the caller (the request's own faults, from the one classification table
 * `ERROR_CLASSES`): retrying the same event cannot help. Everything else fails the invocation and
 * raises the alarm: a deployment's setup, a conflicting pack (late logs need a person), an outage, a bug.
 */
export const CALLER_ERRORS: readonly ErrorCode[] = (Object.keys(ERROR_CLASSES) as ErrorCode[]).filter(
  (code) => ERROR_CLASSES[code].fault === 'request',
);

/** The answer for a caller's error, or `null` when the error must be thrown. */
export function answerFor(err: unknown): ErrorAnswer | null {
  if (isSessiontrailError(err) && CALLER_ERRORS.includes(err.code)) {
    return { ok: false, error: { code: err.code, message: err.message } };
  }
  return null;
}
