import type { ParamList } from '../sql.ts';

/**
 * What differs between the engines' SQL and cannot be hidden behind a DuckDB macro. The queries are
 * Trino SQL (Athena engine v3); each difference is one small pure function here, never an
 * `if (engine === …)` in a builder.
 */
export interface Dialect {
  readonly name: 'duckdb' | 'trino';
  /** A JSON path literal for the given keys, e.g. `['@timestamp']`. */
  jsonPath(keys: readonly string[]): string;
  /** A boolean expression: `expr` is a well-formed JSON text. */
  isJson(expr: string): string;
  /** Parses a JSON text known to be valid into the engine's JSON type. */
  toJson(expr: string): string;
  /** Replaces every match of a regular expression. */
  replaceAll(expr: string, pattern: string, replacement: string): string;
  /**
   * Milliseconds since the epoch of an ISO 8601 text with a zone, truncated (not rounded) to the
   * millisecond, exactly: Windows SystemTime carries 100 ns digits, and a float round trip would
   * move some events by a millisecond.
   */
  epochMillis(isoText: string): string;
  /** Lower-case hex SHA-256 of a string. */
  sha256Hex(expr: string): string;
  /**
   * The relation of raw log lines for a source as `(object_key, line)`: files on disk for DuckDB,
   * a partitioned table for Trino and Athena. Values go through `params`.
   */
  rawLines(input: RawInput, params: ParamList): string;
  /** A qualified name for a working table of this pack (validated identifier). */
  workTable(name: string): string;
}

/** Where a source's raw lines are, as planned for one pack. */
export type RawInput =
  | {
      readonly kind: 'files';
      /** `path` is read; `key` (relative to the logs root) is what the pack records. */
      readonly files: readonly { readonly path: string; readonly key: string }[];
    }
  | {
      readonly kind: 'table';
      readonly table: string;
      /** Inclusive `YYYY-MM-DD` bounds on the `dt` partition column. */
      readonly dtFrom: string;
      readonly dtTo: string;
      /**
       * A prefix of the files' locations (`"$path"`) that the pack leaves out of object keys, so that
       * a key names a file relative to the logs root as the file reader records it. Without it the
       * key is the whole location (`s3://bucket/prefix/…`).
       */
      readonly keyPrefix?: string;
    };
