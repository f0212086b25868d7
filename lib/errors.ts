/**
 * The closed set of error codes that callers may branch on. Each code names one way a request,
 * an input or an adapter can fail; messages say what was expected and what was received.
 */
export type ErrorCode =
  // a bug in sessiontrail: never the caller's fault
  | 'INTERNAL'
  // request and configuration
  | 'BAD_REQUEST'
  | 'BAD_WINDOW'
  | 'BAD_CONFIG'
  | 'BAD_IDENTIFIER'
  | 'LOGS_NOT_FOUND'
  | 'NO_SOURCE_DATA'
  // signing and keys
  | 'KEY_NOT_FOUND'
  | 'KEY_INVALID'
  | 'KEY_EXISTS'
  | 'SIGNER_UNAVAILABLE'
  // storage
  | 'PACK_EXISTS'
  | 'STORE_WRITE_FAILED'
  | 'STORE_READ_FAILED'
  // engines
  | 'QUERY_FAILED'
  | 'ENGINE_UNAVAILABLE'
  // verification
  | 'VERIFY_MISSING_FILE'
  | 'VERIFY_BAD_SIGNATURE'
  | 'VERIFY_DIGEST_MISMATCH'
  | 'VERIFY_UNLISTED_FILE'
  | 'VERIFY_SCHEMA'
  | 'VERIFY_MANIFEST_INVALID'
  | 'VERIFY_KEY_MISMATCH';

/** An error with a code from {@link ErrorCode}, a message for a person, and the underlying cause. */
export class SessiontrailError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessiontrailError';
    this.code = code;
  }
}

/** True when `err` is a {@link SessiontrailError} with the given code (or any code when omitted). */
export function isSessiontrailError(err: unknown, code?: ErrorCode): err is SessiontrailError {
  return err instanceof SessiontrailError && (code === undefined || err.code === code);
}
