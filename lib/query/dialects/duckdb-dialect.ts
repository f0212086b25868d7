import { SessiontrailError } from '../../errors.ts';
import { identifier, literal, type ParamList } from '../sql.ts';
import type { Dialect, RawInput } from './dialect.ts';

/**
 * DuckDB's side of the differences. Trino names that DuckDB lacks (`json_extract_scalar`,
 * `regexp_like`, …) are supplied as macros by {@link DUCKDB_SHIMS} instead.
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  // DuckDB's JSON path takes `$."key"`; it rejects Trino's `$["key"]` with a binder error.
  jsonPath: (keys) => literal(`$${keys.map((k) => `."${k.replaceAll('"', '\\"')}"`).join('')}`),
  isJson: (expr) => `json_valid(${expr})`,
  toJson: (expr) => `CAST(${expr} AS JSON)`,
  replaceAll: (expr, pattern, replacement) =>
    `regexp_replace(${expr}, ${literal(pattern)}, ${literal(replacement)}, 'g')`,
  sha256Hex: (expr) => `sha256(${expr})`,
  epochMillis: (isoText) => `epoch_ms(CAST(${isoText} AS TIMESTAMPTZ))`,
  rawLines: (input: RawInput, params: ParamList) => {
    if (input.kind !== 'files') {
      throw new SessiontrailError('BAD_REQUEST', `DuckDB reads files, received a ${input.kind} input`);
    }
    // One column per line: JSON never holds a raw U+0001, so no line is split; quoting is off so that
    // a malformed line reaches SQL as text and is counted, not dropped by the reader. File paths
    // are mapped to their keys so that the pack names files the same way on every machine.
    if (input.files.length === 0) {
      return `(SELECT CAST(NULL AS VARCHAR) AS object_key, CAST(NULL AS VARCHAR) AS line WHERE false)`;
    }
    const keys = input.files.map((f) => f.key);
    const paths = params.add(
      input.files.map((f) => f.path),
      keys,
    );
    const keyList = params.add(keys);
    return `(SELECT k.object_key, r.line
  FROM read_csv(${paths}, columns = {'line': 'VARCHAR'}, header = false, delim = E'\\x01', quote = '', escape = '', auto_detect = false, filename = true, max_line_size = 16777216) r
  JOIN (SELECT unnest(${paths}) AS path, unnest(${keyList}) AS object_key) k ON k.path = r.filename)`;
  },
  workTable: (name) => identifier(name),
};

/** Macros that give DuckDB the Trino function names the queries use. */
export const DUCKDB_SHIMS: readonly string[] = [
  'CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
  'CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)',
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
];
