import { SessiontrailError } from '../../errors.ts';
import { identifier, literal, type ParamList } from '../sql.ts';
import { type Dialect, INTEGER_TEXT, ISO_TIME_PROFILE, type RawInput } from './dialect.ts';

/**
 * DuckDB's side of the differences. Trino names that DuckDB lacks (`json_extract_scalar`,
 * `regexp_like`, …) are supplied as macros by {@link DUCKDB_SHIMS} instead.
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  // DuckDB's JSON path takes `$."key"`; it rejects Trino's `$["key"]` with a binder error.
  jsonPath: (keys) => literal(`$${keys.map((k) => `."${k.replaceAll('"', '\\"')}"`).join('')}`),
  // json_valid accepts what Trino's json_parse refuses (and RFC 8259 forbids): trailing commas and
  // NaN / Infinity. The pattern finds either outside string literals.
  // One json_value call over a list of paths parses the text once (3-4x faster than one call per
  // path); the transform gives json_extract_scalar's meaning (see the shim below).
  jsonScalars: (expr, paths) =>
    `list_transform(json_value(${expr}, [${paths.map((k) => duckdbDialect.jsonPath(k)).join(', ')}]), v -> CASE WHEN starts_with(CAST(v AS VARCHAR), '"') THEN json_extract_string(v, '$') ELSE CAST(v AS VARCHAR) END)`,
  // On lines whose lenient extras the intake replaced, json_valid alone decides: the pattern was
  // the costliest step of the Windows query (2.9 s of CPU on a 1 GiB part, json_valid about 0.7 s;
  // bench/RESULTS.md).
  isJson: (expr, lenientMarked) =>
    lenientMarked === true
      ? `json_valid(${expr})`
      : `(json_valid(${expr}) AND NOT regexp_matches(${expr}, ${literal(LENIENT_JSON)}))`,
  toJson: (expr) => `CAST(${expr} AS JSON)`,
  replaceAll: (expr, pattern, replacement) =>
    `regexp_replace(${expr}, ${literal(pattern)}, ${literal(replacement)}, 'g')`,
  sha256Hex: (expr) => `sha256(${expr})`,
  // Floor to the millisecond, as Trino's date_trunc does: epoch_ms truncates toward zero, which
  // moves pre-1970 times with a sub-millisecond fraction up by one. Integer arithmetic stays exact.
  epochMillis: (isoText) => {
    const us = `epoch_us(CAST(${isoText} AS TIMESTAMPTZ))`;
    return `((${us} - ((${us} % 1000) + 1000) % 1000) // 1000)`;
  },
  rawLines: (input: RawInput, params: ParamList) => {
    if (input.kind !== 'files') {
      throw new SessiontrailError('INTERNAL', `DuckDB reads files, received a ${input.kind} input`);
    }
    // One column per line: the files were taken in first (lib/locate/log-intake.ts), so no line
    // holds a raw U+0001 (the delimiter) or a byte that is not UTF-8; quoting is off so that a
    // malformed line reaches SQL as text and is counted, not dropped by the reader. Lines that the
    // intake marked as no record (LINE_MARKER) and blank lines are left out: no records, for every
    // source. File paths are mapped to their keys so that the pack names files the same way on
    // every machine. Lines are numbered before any is left out: the intake keeps every line of a
    // file in place (a marker for one that is no record), so `line_no` is the line of the file.
    // Each file is its own read, whose ordinality is its line number: the reader has no per-file
    // row number for text, and numbering one multi-file read per file took a window over every line
    // of the input (memory that grew with it, 0.96 GB at 0.25 M records; bench/RESULTS.md).
    params.holds('normalise');
    if (input.files.length === 0) {
      return `(SELECT CAST(NULL AS VARCHAR) AS object_key, CAST(NULL AS VARCHAR) AS line, CAST(NULL AS BIGINT) AS line_no WHERE false)`;
    }
    const reads = input.files.map(
      (f) =>
        `SELECT ${params.add(f.key)} AS object_key, line, ordinality AS line_no FROM ${lineReader(params.add(f.path, f.key))} WITH ORDINALITY`,
    );
    return `(SELECT object_key, line, line_no FROM (
  ${reads.join('\n  UNION ALL\n  ')}
) WHERE ${KEPT_LINE('line')})`;
  },
  jsonRecords: (input, params) => duckdbJsonRecords(input, params),
  awsTimeMillis: (text) =>
    `CASE WHEN regexp_matches(${text}, '^\\d{4}-\\d{2}-\\d{2}T.*(Z|[+-]\\d{2}:?\\d{2})$') THEN epoch_ms(try_cast(${text} AS TIMESTAMPTZ))
      ELSE epoch_ms(try_strptime(${text}, ['%b %d, %Y, %I:%M:%S %p', '%b %d, %Y %I:%M:%S %p', '%Y%m%dT%H%M%SZ'])) END`,
  workTable: (name) => identifier(name),
  // decode() throws on bytes that are not UTF-8; try() turns that into NULL.
  hexToText: (hexExpr) => `try(decode(unhex(${hexExpr})))`,
  // timezone(zone, TIMESTAMP) reads the wall-clock parts in that zone (ICU), giving a TIMESTAMPTZ.
  localTimeEpochMillis: (localText, zoneExpr) =>
    `epoch_ms(timezone(${zoneExpr}, try_cast(${localText} AS TIMESTAMP)))`,
  integerSeries: (fromExpr, toExpr) =>
    `generate_series(CAST(${fromExpr} AS BIGINT), CAST(${toExpr} AS BIGINT))`,
  joinTransformed: (listExpr, fn, sep) =>
    `array_to_string(list_transform(${listExpr}, lambda el: ${fn('el')}), ${literal(sep)})`,
  isoTimeText: (isoText) =>
    `CASE WHEN regexp_matches(${isoText}, ${literal(ISO_TIME_PROFILE)}) THEN regexp_replace(${isoText}, '([+-][0-9]{2})([0-9]{2})$', '\\1:\\2') END`,
  tryInteger: (text, type) =>
    `CASE WHEN regexp_matches(${text}, ${literal(INTEGER_TEXT)}) THEN try_cast(${text} AS ${type === 'INTEGER' ? 'INTEGER' : 'BIGINT'}) END`,
  regexpExtract: (text, pattern, group) => `regexp_extract(${text}, ${literal(pattern)}, ${group})`,
  jsonObjectText: (entries) =>
    `CAST(json_object(${entries.map(([k, v]) => `${literal(k)}, CAST(${v} AS VARCHAR)`).join(', ')}) AS VARCHAR)`,
};

/** Macros that give DuckDB the Trino function names the queries use. */
export const DUCKDB_SHIMS: readonly string[] = [
  // Trino's json_extract_scalar gives NULL for an object or array, json_extract_string their text.
  // json_value is NULL for them too but keeps a string's quotes and escapes: those are undone on the
  // small value. (Checking json_type first instead would parse every line twice: +50 % normalising.)
  `CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS CASE WHEN starts_with(json_value(j, p), '"') THEN json_extract_string(json_value(j, p), '$') ELSE json_value(j, p) END`,
  'CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)',
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
  // Trino's json_format(json) gives the JSON text; DuckDB's JSON values are text already.
  'CREATE OR REPLACE MACRO json_format(j) AS CAST(j AS VARCHAR)',
];

/**
 * Trailing commas or NaN / Infinity outside string literals: what DuckDB's JSON reader tolerates and
 * Trino's (and RFC 8259) does not. Strings are skipped whole, escapes included.
 */
export const LENIENT_JSON = '^(?:[^"]|"(?:[^"\\\\]|\\\\.)*")*?(?:,\\s*[\\]}]|[:,\\[]\\s*[+-]?(?i:nan|inf))';

const PARQUET = /\.parquet$/i;

/**
 * The reader's longest line: the intake rejects longer lines (and splits JSON documents into one
 * line per record), so no line the reader sees is longer. DuckDB sizes its read buffers from it, so
 * a larger value costs memory under the engine's memory limit.
 */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * The reader's buffer per thread: twice the longest line, so that any line fits across two buffers.
 * DuckDB's default is 16 × `max_line_size` (256 MiB here), and two threads' buffers alone then
 * exceed a statement's 512 MB limit (memoryLimitFor in duckdb-engine.ts) and fail the read; 32 MiB
 * is also the buffer DuckDB uses with its own default line limit.
 */
export const READ_BUFFER_BYTES = 2 * MAX_LINE_BYTES;

/**
 * The largest document (a file's kept lines joined) read as one JSON value; a larger file is read
 * line by line. The record staging's bound (lib/locate/record-staging.ts, same name), so that both
 * give a file the same records.
 */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * A line that is a record: not a marker of the intake (U+0002, see log-intake.ts), not blank (a
 * character other than space, tab and CR). The search stops at the line's first such character;
 * `trim(line, …) <> ''` meant the same but cost 3× the read itself (bench/RESULTS.md).
 */
const KEPT_LINE = (line: string) =>
  `(NOT starts_with(${line}, chr(2)) AND regexp_matches(${line}, '[^ \\t\\r]'))`;

/** One text file read as lines, one VARCHAR column `line` (see {@link duckdbDialect.rawLines}). */
const lineReader = (pathToken: string) =>
  `read_csv(${pathToken}, columns = {'line': 'VARCHAR'}, header = false, delim = E'\\x01', quote = '', escape = '', auto_detect = false, max_line_size = ${MAX_LINE_BYTES}, buffer_size = ${READ_BUFFER_BYTES})`;

/**
 * DuckDB's {@link Dialect.jsonRecords}: text files are read as lines (gzip by extension, as for
 * `rawLines`) and put back together per file, so that a pretty-printed document, a minified one and
 * JSON lines are all read, and a malformed file reaches SQL instead of failing the reader (DuckDB's
 * JSON readers cannot skip a bad document outside newline-delimited mode). Parquet files are read
 * with `read_parquet` and each row turned into JSON.
 */
function duckdbJsonRecords(input: RawInput, params: ParamList): string {
  if (input.kind !== 'files') {
    throw new SessiontrailError('INTERNAL', `DuckDB reads files, received a ${input.kind} input`);
  }
  // DuckDB holds a file read as one JSON document whole while it parses it, and cannot spill it.
  params.holds('whole-document');
  const empty = `SELECT CAST(NULL AS VARCHAR) AS object_key, CAST(NULL AS BIGINT) AS position, CAST(NULL AS VARCHAR) AS record, CAST(NULL AS VARCHAR) AS problem WHERE false`;
  const text = input.files.filter((f) => !PARQUET.test(f.path));
  const parquet = input.files.filter((f) => PARQUET.test(f.path));
  const parts: string[] = [];
  if (text.length > 0) {
    const paths = params.add(
      text.map((f) => f.path),
      text.map((f) => f.key),
    );
    const keys = params.add(text.map((f) => f.key));
    parts.push(`SELECT object_key, position, record, problem FROM (
  WITH k AS (SELECT unnest(${paths}) AS path, unnest(${keys}) AS object_key),
  l AS (
    SELECT filename AS path, line, row_number() OVER (PARTITION BY filename ORDER BY ordinality) - 1 AS line_no
    FROM read_csv(${paths}, columns = {'line': 'VARCHAR'}, header = false, delim = E'\\x01', quote = '', escape = '', auto_detect = false, filename = true, max_line_size = ${MAX_LINE_BYTES}, buffer_size = ${READ_BUFFER_BYTES}) WITH ORDINALITY
  ),
  -- Marker and blank lines are numbered (positions stay the file's) but are no records.
  d AS (
    SELECT path, string_agg(line, chr(10) ORDER BY line_no) AS doc
    FROM l WHERE NOT starts_with(line, chr(2)) GROUP BY path
  ),
  -- first_kept: the line of a file's first record once the intake's marker lines are dropped.
  n AS (
    SELECT path, count(*) AS all_lines, count(*) FILTER (WHERE starts_with(line, chr(2))) AS markers,
      min(line_no) FILTER (WHERE ${KEPT_LINE('line')}) AS first_kept,
      sum(strlen(line) + 1) FILTER (WHERE ${KEPT_LINE('line')}) - 1 AS kept_bytes
    FROM l GROUP BY path
  ),
  f AS (
    SELECT k.object_key, k.path, d.doc, n.markers, n.first_kept,
      CASE WHEN n.path IS NULL THEN 'empty_file'
           WHEN d.path IS NULL OR trim(d.doc, chr(10) || chr(13) || ' ' || chr(9)) = '' THEN 'no_records'
           -- One JSON value (strictly, as Trino reads it) of at most MAX_DOCUMENT_BYTES of kept
           -- lines: the rule of the record staging (lib/locate/record-staging.ts, RecordsOfLines).
           WHEN n.kept_bytes <= ${MAX_DOCUMENT_BYTES} AND ${duckdbDialect.isJson('d.doc')} THEN 'document'
           -- Not one document: each line is a record or a malformed one, counted as the intake
           -- counted the file's lines.
           ELSE 'lines' END AS shape
    FROM k LEFT JOIN d ON d.path = k.path LEFT JOIN n ON n.path = k.path
  ),
  docs AS (
    SELECT object_key,
      CASE WHEN json_type(doc) = 'ARRAY' THEN json_extract(doc, '$[*]')
           WHEN json_type(doc, '$.Records') = 'ARRAY' THEN json_extract(doc, '$.Records[*]')
           ELSE [CAST(doc AS JSON)] END AS recs,
      -- One record left among the intake's marker lines (the others rejected) is the record of
      -- that line, not record 0: its position is its line, as for the records of a split document.
      CASE WHEN markers > 0 AND json_type(doc) <> 'ARRAY' AND json_type(doc, '$.Records') IS DISTINCT FROM 'ARRAY'
           THEN [first_kept] END AS kept_at
    FROM f WHERE shape = 'document'
  )
  SELECT object_key, CAST(unnest(coalesce(kept_at, range(len(recs)))) AS BIGINT) AS position, CAST(unnest(recs) AS VARCHAR) AS record, CAST(NULL AS VARCHAR) AS problem FROM docs
  UNION ALL
  SELECT f.object_key, l.line_no, CASE WHEN ${duckdbDialect.isJson('l.line')} THEN l.line END, CASE WHEN NOT ${duckdbDialect.isJson('l.line')} THEN 'malformed_json' END
  FROM f JOIN l ON l.path = f.path WHERE f.shape = 'lines' AND ${KEPT_LINE('l.line')}
  UNION ALL
  SELECT object_key, NULL, NULL, shape FROM f WHERE shape = 'empty_file'
)`);
  }
  if (parquet.length > 0) {
    const paths = params.add(
      parquet.map((f) => f.path),
      parquet.map((f) => f.key),
    );
    const keys = params.add(parquet.map((f) => f.key));
    // json_merge_patch with a null removes the reader's column from the record. No position: a
    // Hive table (Trino, Athena) exposes no row number of a Parquet file, so a row is cited by its
    // content (the OCSF record's metadata.uid) on every engine.
    parts.push(`SELECT k.object_key, CAST(NULL AS BIGINT) AS position,
  CAST(json_merge_patch(to_json(p), '{"filename":null}') AS VARCHAR) AS record, CAST(NULL AS VARCHAR) AS problem
FROM read_parquet(${paths}, filename = true, union_by_name = true) p
JOIN (SELECT unnest(${paths}) AS path, unnest(${keys}) AS object_key) k ON k.path = p.filename`);
  }
  return `(${parts.length === 0 ? empty : parts.join('\nUNION ALL\n')})`;
}
