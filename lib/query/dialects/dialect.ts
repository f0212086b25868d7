import type { ParamList, SqlQuery } from '../sql.ts';

/**
 * What differs between the engines' SQL and cannot be hidden behind a DuckDB macro, as two small
 * interfaces: {@link ExpressionShims} (pure expression rewrites a builder writes inline) and
 * {@link RawReaders} (the relations a source reads its raw logs from: files for DuckDB, tables for
 * Trino and Athena). The queries are Trino SQL (Athena engine v3); each difference is one small pure
 * function here, never an `if (engine === …)` in a builder.
 */
export interface Dialect extends ExpressionShims, RawReaders {
  readonly name: 'duckdb' | 'trino';
  /** A qualified name for a working table of this pack (validated identifier). */
  workTable(name: string): string;
  /**
   * The query as this engine is sent it, where the engine takes values only in some places
   * (Athena: `?` only in a WHERE clause; the others become literals). The pack records the result,
   * so that `queries/*.sql` is exactly what ran. Applying it twice changes nothing. Unset: the
   * query as built (every value a parameter).
   */
  bindValues?(query: SqlQuery): SqlQuery;
}

/** Expression shims: one SQL expression in, one out, the same meaning on every engine. */
export interface ExpressionShims {
  /** A JSON path literal for the given keys, e.g. `['@timestamp']`. */
  jsonPath(keys: readonly string[]): string;
  /**
   * A list (1-based, `x[i]`) of the scalars at each path of a JSON text or value, with
   * `json_extract_scalar`'s meaning (strings unquoted, NULL for objects, arrays and missing keys),
   * extracted in one parse where the engine can: DuckDB takes a list of paths in one call.
   */
  jsonScalars(expr: string, paths: readonly (readonly string[])[]): string;
  /**
   * A boolean expression: `expr` is a well-formed JSON text (RFC 8259). `lenientMarked`: `expr` is
   * a line of an input whose lines with JSON's lenient extras were replaced
   * ({@link RawInput} `lenientJsonMarked`), so those need no test of their own.
   */
  isJson(expr: string, lenientMarked?: boolean): string;
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
   * Milliseconds since the epoch of an AWS time text, NULL when it is none of: ISO 8601 with a zone
   * (`2023-07-10T12:09:47Z`), ISO basic (`20131102T010628Z`), or STS's `credentials.expiration`
   * (`Jul 10, 2023, 12:09:47 PM`, `Jul 18, 2014 4:07:39 PM`; UTC).
   */
  awsTimeMillis(text: string): string;
  /** A JSON object text from name / expression pairs (values cast to VARCHAR; NULL values stay `null`). */
  jsonObjectText(entries: readonly (readonly [string, string])[]): string;
  /**
   * The UTF-8 text of a hex string of even length (auditd's encoding of untrusted fields). Bytes
   * that are not UTF-8 give NULL on DuckDB and U+FFFD replacements on Trino.
   */
  hexToText(hexExpr: string): string;
  /**
   * Milliseconds since the epoch of a zone-less local time text `YYYY-MM-DD HH:MM:SS[.fff]` read in
   * the IANA zone `zoneExpr` (an SQL expression, e.g. a parameter); NULL when the text is not a
   * valid time. For syslog stamps, which carry neither year nor zone.
   */
  localTimeEpochMillis(localText: string, zoneExpr: string): string;
  /**
   * The list of whole numbers from `fromExpr` to `toExpr` inclusive (BIGINT), for \`UNNEST\`: at
   * most 10,000 entries, Trino's limit for \`sequence\`.
   */
  integerSeries(fromExpr: string, toExpr: string): string;
  /** Applies `fn` (given the element's SQL name) to each element of a list and joins them with `sep`. */
  joinTransformed(listExpr: string, fn: (element: string) => string, sep: string): string;
  /**
   * The ISO 8601 date-time text `isoText` in the one form every engine parses alike
   * (`YYYY-MM-DDTHH:MM:SS[.f…](Z|±HH:MM)`; a `±HHMM` offset is given its colon), or NULL when it is
   * not of the profile {@link ISO_TIME_PROFILE}. Never fails. DuckDB's cast and Trino's parsers each
   * accept texts the other refuses (a space for `T`, hour 24, no seconds, `±HHMM` for
   * `from_iso8601_timestamp_nanos`, which then fails the whole query).
   */
  isoTimeText(isoText: string): string;
  /**
   * A decimal integer text (sign, ASCII digits, spaces around) as INTEGER or BIGINT, NULL for
   * anything else, out-of-range included. Never fails. DuckDB's cast rounds `1.5` and reads `1e3`
   * and `0x10`; Trino's refuses those and reads full-width digits.
   */
  tryInteger(text: string, type: 'INTEGER' | 'BIGINT'): string;
  /**
   * `regexp_extract(text, pattern, group)` as DuckDB gives it: `''` when the pattern does not match
   * (or the group takes no part), NULL only for a NULL text. Trino gives NULL for no match.
   */
  regexpExtract(text: string, pattern: string, group: number): string;
}

/**
 * The text of a regular expression's group, NULL when the pattern does not match, the group is
 * empty or `text` is NULL: the same on every engine (through {@link ExpressionShims.regexpExtract}).
 */
export function regexpGroup(d: ExpressionShims, text: string, pattern: string, group: number): string {
  return `nullif(${d.regexpExtract(text, pattern, group)}, '')`;
}

/** The raw relations a source reads: what a locator's {@link RawInput} becomes in SQL. */
export interface RawReaders {
  /**
   * The relation of raw log lines for a source as `(object_key, line, line_no)`: files on disk for
   * DuckDB, a partitioned table for Trino and Athena. Values go through `params`. `line_no` is the
   * line's number in its file (from 1; after decompression), NULL where the engine cannot know it:
   * Hive text tables (Trino, Athena) do not number the lines of a file.
   */
  rawLines(input: RawInput, params: ParamList): string;
  /**
   * The records of JSON log files, one row each, as `(object_key, position, record, problem)`:
   * a file holding one JSON document yields the elements of its `Records` array (CloudTrail), or of
   * the array it is, or the object it is; a file of JSON lines yields one record per line; Parquet
   * files (DuckDB) yield one record per row (`to_json` of the row). A line that is not JSON yields
   * one row with `record` NULL and `problem` `malformed_json` (an empty file `empty_file`), so that
   * the source counts it instead of the reader failing. Lines the local intake marked (U+0002) and
   * blank lines are no records (the intake counted them). `position` is the record's index in its
   * file (array index or line, from 0), the same on every engine for text files (a staged table
   * carries it, lib/locate/record-staging.ts); NULL for a Parquet row, whose row number a Hive
   * table does not expose, and for a raw-line table. A text file is one document when its kept
   * lines make one strict JSON value of at most 16 MiB, else JSON lines.
   */
  jsonRecords(input: RawInput, params: ParamList, options?: JsonRecordsOptions): string;
}

/**
 * Event times both engines read alike: calendar date, `T`, hours 00–23, minutes and seconds 00–59
 * (no leap second), up to nine fraction digits, and `Z` or an offset `±HH:MM` / `±HHMM`.
 * (A regular expression for `regexp_like`, as SQL literal text.)
 */
export const ISO_TIME_PROFILE =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])$';

/** Integer texts both engines cast alike (see {@link Dialect.tryInteger}). */
export const INTEGER_TEXT = '^ *[+-]?[0-9]+ *$';

/** Where a source's raw lines are, as planned for one pack. */
export type RawInput =
  | {
      readonly kind: 'files';
      /** `path` is read; `key` (relative to the logs root) is what the pack records. */
      readonly files: readonly { readonly path: string; readonly key: string }[];
      /**
       * Every line holding JSON's lenient extras outside its strings (trailing commas, NaN /
       * Infinity) was replaced by a line no JSON reader accepts (the local intake's
       * `NOT_JSON_MARKER`, lib/locate/log-intake.ts), so a line-level {@link Dialect.isJson} may
       * leave out its own test for them.
       */
      readonly lenientJsonMarked?: boolean;
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
      /**
       * Leave out empty lines (read by {@link Dialect.rawLines}): Hive's text reader returns them as
       * rows, DuckDB's line reader skips them, and an empty line is no record to count as malformed.
       */
      readonly skipEmptyLines?: boolean;
      /**
       * The day partition when it is not `dt` as `yyyy-MM-dd` (read by {@link Dialect.jsonRecords}):
       * CloudTrail's projected `yyyy/MM/dd` path, Security Lake v1 `eventday` (`yyyyMMdd`) or v2
       * `time_dt` (a timestamp).
       */
      readonly partition?: {
        readonly column: string;
        readonly format: 'yyyy-MM-dd' | 'yyyy/MM/dd' | 'yyyyMMdd' | 'timestamp';
      };
      /**
       * How the table holds records (read by {@link Dialect.jsonRecords}): `lines`, the raw-line
       * table (`line`, one JSON document per line), or `parquet`, typed columns (Security Lake's
       * OCSF tables), or `records`, one staged record per line (`{"key","position","record"}` or
       * `{"key","position","problem"}`, lib/locate/record-staging.ts). Unset: typed when the reader asks for columns ({@link JsonRecordsOptions}),
       * as before this field existed.
       */
      readonly format?: 'lines' | 'parquet' | 'records';
      /**
       * The top-level columns a `parquet` table has: a row is serialised from those of
       * {@link JsonRecordsOptions.columns} that it has (a column the table lacks cannot be named).
       * Unset: all of the requested columns.
       */
      readonly columns?: readonly string[];
    };

/** How {@link Dialect.jsonRecords} reads a table. */
export interface JsonRecordsOptions {
  /**
   * The table is typed (Security Lake's OCSF tables): each row is serialised from these top-level
   * columns. Without it the table is the raw-line table (`line`), one JSON document per line.
   */
  readonly columns?: readonly string[];
}
