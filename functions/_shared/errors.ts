/**
 * How a handler answers a failure: problems with the request are answered (the caller fixes and
 * resends; no alarm, no retry); everything else is thrown, so that Lambda counts an error, retries
 * an asynchronous invocation and finally parks it in the dead-letter queue.
 */
import { type ErrorCode, isSessiontrailError } from '../../lib/errors.ts';

export interface ErrorAnswer {
  readonly ok: false;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/**
 * Codes that mean "the request cannot be served as asked": retrying the same event cannot help.
 * PACK_EXISTS is not one of them: an unfinished pack, or a sealed one whose evidence now differs
 * (late logs), needs a person, so it fails the invocation and raises the alarm.
 */
export const CALLER_ERRORS: readonly ErrorCode[] = ['BAD_REQUEST', 'BAD_WINDOW', 'NO_SOURCE_DATA'];

/** The answer for a caller's error, or `null` when the error must be thrown. */
export function answerFor(err: unknown): ErrorAnswer | null {
  if (isSessiontrailError(err) && CALLER_ERRORS.includes(err.code)) {
    return { ok: false, error: { code: err.code, message: err.message } };
  }
  return null;
}
