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
  /** A user or host in the request's scope matches nothing in the data read. */
  | 'BAD_SCOPE'
  | 'LOGS_NOT_FOUND'
  | 'NO_SOURCE_DATA'
  // signing and keys
  | 'KEY_NOT_FOUND'
  | 'KEY_INVALID'
  | 'KEY_EXISTS'
  | 'SIGNER_UNAVAILABLE'
  // storage
  | 'PACK_EXISTS'
  /** An unfinished pack holds a file whose content differs from what the resumed build would write. */
  | 'PACK_CONFLICT'
  /** A path in the store is a symlink or not a regular file: evidence is read only from real files. */
  | 'STORE_NOT_REGULAR_FILE'
  | 'STORE_WRITE_FAILED'
  | 'STORE_READ_FAILED'
  // engines
  | 'QUERY_FAILED'
  | 'ENGINE_UNAVAILABLE'
  // orchestration (Step Functions)
  /** The pack's execution exists with another input, or has ended: the same name is not started twice. */
  | 'EXECUTION_EXISTS'
  /** Step Functions could not be reached, throttled, or refused a start for a limit. */
  | 'ORCHESTRATION_UNAVAILABLE'
  /** The pack's queries scanned more bytes than the deployment's bound: nothing is sealed. */
  | 'COST_BOUND_EXCEEDED'
  // verification
  | 'VERIFY_MISSING_FILE'
  | 'VERIFY_BAD_SIGNATURE'
  | 'VERIFY_DIGEST_MISMATCH'
  | 'VERIFY_UNLISTED_FILE'
  | 'VERIFY_SCHEMA'
  | 'VERIFY_MANIFEST_INVALID'
  | 'VERIFY_KEY_MISMATCH'
  /** No trusted key was given: the signature was checked with the key beside the pack (integrity only). */
  | 'VERIFY_ORIGIN_NOT_CHECKED'
  /** The folder's series or pack id differs from the manifest's: a pack copied or moved elsewhere. */
  | 'VERIFY_PACK_MOVED'
  /** manifest.json holds an object with the same key twice. */
  | 'VERIFY_DUPLICATE_KEY'
  /** manifest.json is not in RFC 8785 canonical form. */
  | 'VERIFY_NOT_CANONICAL'
  /** A subject is a symlink or otherwise not a regular file inside the pack. */
  | 'VERIFY_NOT_REGULAR_FILE'
  /** The evidence.json embedded in evidence.pdf differs from the pack's evidence.json (or is absent). */
  | 'VERIFY_PDF_ATTACHMENT_MISMATCH'
  /** manifest.dsse.json is missing, malformed, or does not carry manifest.json signed by the key. */
  | 'VERIFY_DSSE_INVALID'
  // series
  /** Another seal of the series holds the next sequence number, or its latest pack is unfinished. */
  | 'SERIES_BUSY'
  /** The latest pack of the series does not verify: it is never linked as `previous`. */
  | 'SERIES_PREDECESSOR_UNVERIFIED'
  /** A sequence number between 1 and the head has no sealed pack (a deleted pack). */
  | 'SERIES_MISSING_SEQUENCE'
  /** A pack's `previous` does not name the manifest digest of the pack before it. */
  | 'SERIES_BROKEN_LINK'
  /** Two packs of a series claim the same sequence number or the same predecessor. */
  | 'SERIES_FORK'
  /** A pack's manifest differs from the one recorded when it was sealed (a replaced pack). */
  | 'SERIES_REPLACED_PACK'
  /** A pack sits in the folder of another pack of the series (packs swapped or reordered). */
  | 'SERIES_REORDERED'
  /** Consecutive packs of a scheduled (review) series leave part of the time uncovered. */
  | 'SERIES_CADENCE_GAP'
  /** The series' head is below the head the auditor recorded earlier (the latest packs are gone). */
  | 'SERIES_HEAD_MISSING'
  // trusted time (RFC 3161)
  /** The TSA could not be reached, or its answer is no valid token over the manifest. */
  | 'TIMESTAMP_FAILED'
  /** manifest.tsr is unreadable, not granted, or its signature does not verify. */
  | 'VERIFY_TIMESTAMP_INVALID'
  /** manifest.tsr is a token over other bytes than manifest.json. */
  | 'VERIFY_TIMESTAMP_MISMATCH'
  /** manifest.tsr's TSA certificate is not issued by a TSA CA the verifier trusts (or is absent when one is required). */
  | 'VERIFY_TIMESTAMP_UNTRUSTED'
  // re-derivation (`sessiontrail rederive`)
  /** The pack lists no inputs (its engine listed the objects itself): it cannot be re-derived from files. */
  | 'REDERIVE_NO_INPUTS'
  /** The configuration given is not the one the pack was built with (`tool.config_sha256`). */
  | 'REDERIVE_CONFIG_MISMATCH'
  /** A file the pack lists is not in the logs given. */
  | 'REDERIVE_INPUT_MISSING'
  /** A file the pack lists has another size or sha256 than the pack records. */
  | 'REDERIVE_INPUT_CHANGED'
  /** The logs given hold a file of the pack's window that the pack does not list. */
  | 'REDERIVE_INPUT_UNLISTED'
  /** The same inputs and SQL gave another evidence.json than the pack's. */
  | 'REDERIVE_DIFFERS';

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

/**
 * Whose problem an error is: `request` (the request as asked: the caller fixes it and asks again),
 * `setup` (what the operator gave the tool: configuration, keys, logs path, identifiers), `conflict`
 * (the store holds something else under the same name: a person decides), `verification` (a pack
 * failed a check: the evidence, not the tool, is at fault), `environment` (an engine, store, signer
 * or network outside the tool), `internal` (a bug in sessiontrail).
 */
export type ErrorFault = 'request' | 'setup' | 'conflict' | 'verification' | 'environment' | 'internal';

export interface ErrorClass {
  readonly fault: ErrorFault;
  /** The CLI's exit code: 2 bad input, 1 verification failed, 3 anything else. */
  readonly exit: 1 | 2 | 3;
  /** The same call may succeed later without any change (a transient outage). */
  readonly retryable: boolean;
}

const request: ErrorClass = { fault: 'request', exit: 2, retryable: false };
const setup: ErrorClass = { fault: 'setup', exit: 2, retryable: false };
const verification: ErrorClass = { fault: 'verification', exit: 1, retryable: false };
const transient: ErrorClass = { fault: 'environment', exit: 3, retryable: true };
const environment: ErrorClass = { fault: 'environment', exit: 3, retryable: false };

/**
 * Every error code, classified: the one table the CLI (exit codes), the Lambdas (answer or throw,
 * retry) and the docs read. Exhaustive by type: a new code does not compile until it is classified.
 */
export const ERROR_CLASSES: Readonly<Record<ErrorCode, ErrorClass>> = {
  INTERNAL: { fault: 'internal', exit: 3, retryable: false },
  BAD_REQUEST: request,
  BAD_WINDOW: request,
  BAD_CONFIG: setup,
  BAD_IDENTIFIER: setup,
  BAD_SCOPE: request,
  LOGS_NOT_FOUND: setup,
  NO_SOURCE_DATA: request,
  KEY_NOT_FOUND: setup,
  KEY_INVALID: setup,
  KEY_EXISTS: setup,
  SIGNER_UNAVAILABLE: transient,
  // A pack of the same id with other evidence (late logs, a changed configuration) needs a person.
  PACK_EXISTS: { fault: 'conflict', exit: 2, retryable: false },
  STORE_WRITE_FAILED: transient,
  STORE_READ_FAILED: transient,
  QUERY_FAILED: environment,
  ENGINE_UNAVAILABLE: transient,
  // A duplicate request of a pack whose execution runs with another input (or has ended): answered,
  // the caller asks the status; never a second build.
  EXECUTION_EXISTS: request,
  ORCHESTRATION_UNAVAILABLE: transient,
  // The bound is the deployment's (infra setting maxBytesScannedPerPack): an operator raises it.
  COST_BOUND_EXCEEDED: setup,
  VERIFY_MISSING_FILE: verification,
  VERIFY_BAD_SIGNATURE: verification,
  VERIFY_DIGEST_MISMATCH: verification,
  VERIFY_UNLISTED_FILE: verification,
  VERIFY_SCHEMA: verification,
  VERIFY_MANIFEST_INVALID: verification,
  VERIFY_KEY_MISMATCH: verification,
  // An unfinished pack holding other content, or a file that is a symlink: a person looks.
  PACK_CONFLICT: { fault: 'conflict', exit: 2, retryable: false },
  STORE_NOT_REGULAR_FILE: { fault: 'conflict', exit: 2, retryable: false },
  VERIFY_ORIGIN_NOT_CHECKED: verification,
  VERIFY_PACK_MOVED: verification,
  VERIFY_DUPLICATE_KEY: verification,
  VERIFY_NOT_CANONICAL: verification,
  VERIFY_NOT_REGULAR_FILE: verification,
  VERIFY_PDF_ATTACHMENT_MISMATCH: verification,
  VERIFY_DSSE_INVALID: verification,
  // Another seal of the series is running (or died and is rerun): the same call succeeds later.
  SERIES_BUSY: transient,
  // The series' latest pack does not verify: never linked past silently; a person decides.
  SERIES_PREDECESSOR_UNVERIFIED: { fault: 'conflict', exit: 2, retryable: false },
  SERIES_MISSING_SEQUENCE: verification,
  SERIES_BROKEN_LINK: verification,
  SERIES_FORK: verification,
  SERIES_REPLACED_PACK: verification,
  SERIES_REORDERED: verification,
  SERIES_CADENCE_GAP: verification,
  SERIES_HEAD_MISSING: verification,
  // The TSA is a network service: a later seal may reach it.
  TIMESTAMP_FAILED: transient,
  VERIFY_TIMESTAMP_INVALID: verification,
  VERIFY_TIMESTAMP_MISMATCH: verification,
  VERIFY_TIMESTAMP_UNTRUSTED: verification,
  // A pack that lists no inputs cannot be re-derived from files; a configuration that is not the
  // pack's is the operator's to give again.
  REDERIVE_NO_INPUTS: request,
  REDERIVE_CONFIG_MISMATCH: setup,
  REDERIVE_INPUT_MISSING: verification,
  REDERIVE_INPUT_CHANGED: verification,
  REDERIVE_INPUT_UNLISTED: verification,
  REDERIVE_DIFFERS: verification,
};

/** The class of any thrown value: a {@link SessiontrailError}'s code, else an internal error (a bug). */
export function classifyError(err: unknown): ErrorClass & { readonly code: ErrorCode } {
  const code: ErrorCode = err instanceof SessiontrailError ? err.code : 'INTERNAL';
  return { code, ...ERROR_CLASSES[code] };
}
