import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { SessiontrailError } from '../errors.ts';

/**
 * Serialises a JSON value as RFC 8785 (JCS) canonical JSON, UTF-8 encoded, with no trailing newline:
 * the exact bytes that are hashed and signed. The same value gives the same bytes whatever the
 * order in which its keys were inserted.
 *
 * Object properties whose value is `undefined` are left out, as `JSON.stringify` does; `toJSON`
 * (e.g. on `Date`) is honoured.
 *
 * @throws {SessiontrailError} `BAD_REQUEST` when the value is not plain JSON: functions, symbols,
 *   bigints, `NaN`, infinities, lone surrogates, cycles, `undefined` at the top level, or class
 *   instances without `toJSON` (Map, Set, typed arrays), which would otherwise serialise lossily.
 *   The message names the path of the offending value.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  assertJsonValue(value, '$', new Set());
  // canonicalize 4 turns a function-valued property into the text `undefined` instead of failing;
  // the walk above rejects those first, so whatever it returns here is valid JSON.
  const text = canonicalize(value);
  if (text === undefined) {
    throw new SessiontrailError('BAD_REQUEST', 'canonical JSON: expected a JSON value, received undefined');
  }
  return new TextEncoder().encode(text);
}

/** Lower-case hex SHA-256 of the given bytes (what `sha256sum` prints). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function assertJsonValue(value: unknown, path: string, ancestors: Set<object>): void {
  const fail = (what: string): never => {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `canonical JSON: expected a JSON value at ${path}, received ${what}`,
    );
  };
  switch (typeof value) {
    case 'string':
      if (hasLoneSurrogate(value)) fail('a string with a lone UTF-16 surrogate');
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(String(value));
      return;
    case 'boolean':
      return;
    case 'undefined':
      if (path === '$') fail('undefined');
      return;
    case 'bigint':
    case 'function':
    case 'symbol':
      fail(`a ${typeof value}`);
      return;
    case 'object': {
      if (value === null) return;
      if (ancestors.has(value)) fail('a circular reference');
      const withToJson = value as { toJSON?: unknown };
      if (typeof withToJson.toJSON === 'function') {
        ancestors.add(value);
        assertJsonValue((withToJson.toJSON as () => unknown).call(value), path, ancestors);
        ancestors.delete(value);
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
        // Map, Set, typed arrays and class instances would serialise as `{}` or as index keys:
        // silently lossy, so refuse them rather than hash something that is not what was meant.
        fail(`an instance of ${(value as object).constructor?.name ?? 'an unknown class'}`);
      }
      ancestors.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          // Arrays turn undefined into null (as JSON.stringify does), so only non-JSON items fail.
          if (item !== undefined) assertJsonValue(item, `${path}[${i}]`, ancestors);
        });
      } else {
        for (const [key, item] of Object.entries(value)) {
          if (hasLoneSurrogate(key)) fail(`a key with a lone UTF-16 surrogate (${JSON.stringify(key)})`);
          assertJsonValue(item, `${path}.${key}`, ancestors);
        }
      }
      ancestors.delete(value);
      return;
    }
  }
}

function hasLoneSurrogate(text: string): boolean {
  // In `u` mode a surrogate pair is one code point, so \p{Cs} matches only unpaired halves, which
  // have no UTF-8 encoding (String.prototype.isWellFormed is ES2024, beyond our `lib`).
  return /\p{Cs}/u.test(text);
}
