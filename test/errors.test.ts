import { describe, expect, it } from 'vitest';
import { CALLER_ERRORS } from '../functions/_shared/errors.ts';
import { classifyError, ERROR_CLASSES, type ErrorCode, SessiontrailError } from '../lib/errors.ts';

const codes = Object.keys(ERROR_CLASSES) as ErrorCode[];

describe('ERROR_CLASSES', () => {
  it.each(codes)('%s exits as its fault says: 2 bad input, 1 verification, 3 the rest', (code) => {
    const { fault, exit } = ERROR_CLASSES[code];
    const expected = { request: 2, setup: 2, conflict: 2, verification: 1, environment: 3, internal: 3 }[
      fault
    ];
    expect(exit).toBe(expected);
  });

  it('retries only outages: never a request, a setup, a conflict, a verification or a bug', () => {
    const retryable = codes.filter((c) => ERROR_CLASSES[c].retryable);
    for (const c of retryable) expect(ERROR_CLASSES[c].fault).toBe('environment');
    expect(retryable).toEqual(
      expect.arrayContaining(['ENGINE_UNAVAILABLE', 'STORE_READ_FAILED', 'STORE_WRITE_FAILED']),
    );
  });

  it('classifies anything that is not a SessiontrailError as INTERNAL (a bug), exit 3', () => {
    expect(classifyError(new TypeError('x is undefined'))).toMatchObject({ code: 'INTERNAL', exit: 3 });
    expect(classifyError(new SessiontrailError('BAD_WINDOW', 'reversed'))).toMatchObject({
      code: 'BAD_WINDOW',
      exit: 2,
      fault: 'request',
    });
  });

  it('answers to a Lambda caller exactly the request faults; setup, conflicts and bugs raise the alarm', () => {
    expect([...CALLER_ERRORS].sort()).toEqual(
      codes.filter((c) => ERROR_CLASSES[c].fault === 'request').sort(),
    );
    for (const c of ['BAD_CONFIG', 'PACK_EXISTS', 'INTERNAL', 'KEY_NOT_FOUND'] as const)
      expect(CALLER_ERRORS).not.toContain(c);
  });
});
