import { SessiontrailError } from '../../errors.ts';
import { identifier, literal, type ParamList } from '../sql.ts';
import {
  type Dialect,
  INTEGER_TEXT,
  ISO_TIME_PROFILE,
  type JsonRecordsOptions,
  type RawInput,
} from './dialect.ts';

/** Trino's JSON path: `$["a"]["b"]` (DuckDB's `$."a"` form is refused by Trino's parser). */
function jsonPathOf(keys: readonly string[]): string {
  return literal(`$${keys.map((k) => `["${k.replaceAll('"', '\\"')}"]`).join('')}`);
}

/** Trino's (and Athena engine v3's) side of the differences. */
export function trinoDialect(workSchema: string): Dialect {
  const schema = identifier(workSchema);
  return {
    name: 'trino',
    jsonPath: jsonPathOf,
    jsonScalars: (expr, paths) =>
      `ARRAY[${paths.map((k) => `json_extract_scalar(${expr}, ${jsonPathOf(k)})`).join(', ')}]`,
    isJson: (expr) => `(try(json_parse(${expr})) IS NOT NULL)`,
    toJson: (expr) => `json_parse(${expr})`,
    replaceAll: (expr, pattern, replacement) =>
      `regexp_replace(${expr}, ${literal(pattern)}, ${literal(replacement)})`,
    sha256Hex: (expr) => `lower(to_hex(sha256(to_utf8(${expr}))))`,
    // date_trunc keeps the value exact at millisecond precision, so the double round trip is exact.
    epochMillis: (isoText) =>
      `CAST(round(to_unixtime(date_trunc('millisecond', from_iso8601_timestamp_nanos(${isoText}))) * 1000) AS BIGINT)`,
    rawLines: (input: RawInput, params: ParamList) => {
      if (input.kind !== 'table') {
        throw new SessiontrailError('INTERNAL', `Trino reads tables, received a ${input.kind} input`);
      }
      const table = input.table
        .split('.')
        .map((p) => identifier(p))
        .join('.');
      const key =
        input.keyPrefix === undefined
          ? '"$path"'
          : // The prefix is machine-specific; the pack's copy of the query records a portable name.
            `CASE WHEN starts_with("$path", ${params.add(input.keyPrefix, '<logs root>/')}) THEN substr("$path", ${params.add([...input.keyPrefix].length + 1, '<length of logs root> + 1')}) ELSE "$path" END`;
      // Hive reads a line `\N` as NULL (its default null format): kept, to be counted as malformed.
      // Blank and whitespace-only lines are no records, for every source (as the file reader).
      const lines = input.skipEmptyLines === true ? ` AND (line IS NULL OR trim(line) <> '')` : '';
      // Hive text tables give no line number ("$path" and "$file_size" only, no row position).
      return `(SELECT ${key} AS object_key, line, CAST(NULL AS BIGINT) AS line_no FROM ${table} WHERE dt BETWEEN ${params.add(input.dtFrom)} AND ${params.add(input.dtTo)}${lines})`;
    },
    jsonRecords: (input, params, options) => trinoJsonRecords(input, params, options),
    awsTimeMillis: (text) =>
      `CASE WHEN regexp_like(${text}, '^\\d{4}-\\d{2}-\\d{2}T.*(Z|[+-]\\d{2}:?\\d{2})$') THEN to_unixtime(try(from_iso8601_timestamp(${text}))) * 1000
        ELSE to_unixtime(coalesce(try(parse_datetime(${text}, 'MMM d, yyyy, h:mm:ss a ZZZ')), try(parse_datetime(${text} || ' UTC', 'MMM d, yyyy, h:mm:ss a ZZZ')), try(parse_datetime(${text} || ' UTC', 'MMM d, yyyy h:mm:ss a ZZZ')), try(parse_datetime(${text}, 'yyyyMMdd''T''HHmmss''Z''')))) * 1000 END`.replace(
        /to_unixtime\((.*)\) \* 1000/g,
        (_m, inner: string) => `CAST(round(to_unixtime(${inner}) * 1000) AS BIGINT)`,
      ),
    workTable: (name) => `${schema}.${identifier(name)}`,
    hexToText: (hexExpr) => `from_utf8(from_hex(${hexExpr}))`,
    localTimeEpochMillis: (localText, zoneExpr) =>
      `CAST(round(to_unixtime(with_timezone(try_cast(${localText} AS timestamp(3)), ${zoneExpr})) * 1000) AS BIGINT)`,
    integerSeries: (fromExpr, toExpr) => `sequence(CAST(${fromExpr} AS BIGINT), CAST(${toExpr} AS BIGINT))`,
    joinTransformed: (listExpr, fn, sep) =>
      `array_join(transform(${listExpr}, el -> ${fn('el')}), ${literal(sep)})`,
    // from_iso8601_timestamp_nanos wants the offset's colon; the profile check comes first.
    isoTimeText: (isoText) =>
      `CASE WHEN regexp_like(${isoText}, ${literal(ISO_TIME_PROFILE)}) THEN regexp_replace(${isoText}, '([+-][0-9]{2})([0-9]{2})$', '$1:$2') END`,
    tryInteger: (text, type) =>
      `CASE WHEN regexp_like(${text}, ${literal(INTEGER_TEXT)}) THEN try_cast(${text} AS ${type === 'INTEGER' ? 'INTEGER' : 'BIGINT'}) END`,
    regexpExtract: (text, pattern, group) =>
      `CASE WHEN ${text} IS NOT NULL THEN coalesce(regexp_extract(${text}, ${literal(pattern)}, ${group}), '') END`,
    // Keys in the given order, as DuckDB's json_object writes them: CAST(map AS JSON) sorts them.
    // CAST(varchar AS JSON) is a JSON string (quoted and escaped), not a parse.
    jsonObjectText: (entries) =>
      entries.length === 0
        ? `'{}'`
        : `concat('{', ${entries
            .map(
              ([k, v], i) =>
                `${literal(`${i === 0 ? '' : ','}${JSON.stringify(k)}:`)}, coalesce(json_format(CAST(CAST(${v} AS VARCHAR) AS JSON)), 'null')`,
            )
            .join(', ')}, '}')`,
  };
}

/** The predicate on a table's day partition for the inclusive `YYYY-MM-DD` bounds. */
function dayPredicate(input: Extract<RawInput, { kind: 'table' }>, params: ParamList): string {
  const part = input.partition ?? { column: 'dt', format: 'yyyy-MM-dd' as const };
  const column = `"${identifier(part.column)}"`;
  switch (part.format) {
    case 'yyyy-MM-dd':
      return `${column} BETWEEN ${params.add(input.dtFrom)} AND ${params.add(input.dtTo)}`;
    case 'yyyy/MM/dd':
      return `${column} BETWEEN ${params.add(input.dtFrom.replaceAll('-', '/'))} AND ${params.add(input.dtTo.replaceAll('-', '/'))}`;
    case 'yyyyMMdd':
      return `${column} BETWEEN ${params.add(input.dtFrom.replaceAll('-', ''))} AND ${params.add(input.dtTo.replaceAll('-', ''))}`;
    case 'timestamp':
      return `${column} >= from_iso8601_timestamp(${params.add(`${input.dtFrom}T00:00:00Z`)}) AND ${column} < from_iso8601_timestamp(${params.add(`${input.dtTo}T00:00:00Z`)}) + INTERVAL '1' DAY`;
  }
}

/**
 * Trino's {@link Dialect.jsonRecords}. A raw-line table holds one JSON document per line (CloudTrail
 * delivers each file as one minified line): the document's `Records` (or the array it is) is
 * unnested, an object line is one record. A `records` table holds the staging's lines, one record
 * each with its delivered object's key and its position. A typed table (Security Lake) is serialised row by row:
 * Trino casts a ROW with named fields to a JSON object.
 */
function trinoJsonRecords(input: RawInput, params: ParamList, options?: JsonRecordsOptions): string {
  if (input.kind !== 'table') {
    throw new SessiontrailError('INTERNAL', `Trino reads tables, received a ${input.kind} input`);
  }
  const table = input.table
    .split('.')
    .map((p) => identifier(p))
    .join('.');
  const key =
    input.keyPrefix === undefined
      ? '"$path"'
      : `CASE WHEN starts_with("$path", ${params.add(input.keyPrefix, '<logs root>/')}) THEN substr("$path", ${params.add([...input.keyPrefix].length + 1, '<length of logs root> + 1')}) ELSE "$path" END`;
  const where = dayPredicate(input, params);
  if (options?.columns !== undefined && (input.format === 'parquet' || input.format === undefined)) {
    const has = input.columns === undefined ? null : new Set(input.columns);
    const cols = options.columns.filter((c) => has === null || has.has(c)).map((c) => identifier(c));
    return `(SELECT ${key} AS object_key, CAST(NULL AS BIGINT) AS position,
  json_format(CAST(MAP(ARRAY[${cols.map((c) => literal(c)).join(', ')}], ARRAY[${cols.map((c) => `CAST("${c}" AS JSON)`).join(', ')}]) AS JSON)) AS record,
  CAST(NULL AS VARCHAR) AS problem
FROM ${table} WHERE ${where})`;
  }
  if (input.format === 'records') {
    // One staged record per line (lib/locate/record-staging.ts): its object key and position are
    // the ones of the delivered object it was split from, as the file reader gives them; a line
    // of that object that is no JSON is staged as its `problem`. json_extract keeps the record's
    // members in the order of the file (json_parse sorts them).
    return `(WITH src AS (SELECT ${key} AS path, line, try(json_parse(line)) AS ok FROM ${table} WHERE ${where})
SELECT json_extract_scalar(line, '$.key') AS object_key, CAST(json_extract_scalar(line, '$.position') AS BIGINT) AS position,
  json_format(json_extract(line, '$.record')) AS record, json_extract_scalar(line, '$.problem') AS problem
FROM src WHERE ok IS NOT NULL
UNION ALL
SELECT path, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR), 'malformed_json' FROM src WHERE ok IS NULL AND trim(line) <> '')`;
  }
  // json_parse checks the line (strictly); the records are cut from json_extract's copy of it, which
  // keeps the members in the order of the file, as DuckDB does (json_parse sorts them by name).
  return `(WITH src AS (SELECT ${key} AS object_key, line, try(json_parse(line)) AS ok FROM ${table} WHERE ${where}),
  docs AS (
    SELECT object_key, j,
      CASE WHEN json_array_length(j) IS NOT NULL THEN CAST(j AS ARRAY(JSON))
           WHEN json_array_length(json_extract(j, '$.Records')) IS NOT NULL THEN CAST(json_extract(j, '$.Records') AS ARRAY(JSON))
           END AS recs
    FROM (SELECT object_key, json_extract(line, '$') AS j FROM src WHERE ok IS NOT NULL) v)
SELECT object_key, CAST(o - 1 AS BIGINT) AS position, json_format(r) AS record, CAST(NULL AS VARCHAR) AS problem
FROM docs CROSS JOIN UNNEST(recs) WITH ORDINALITY AS u(r, o) WHERE recs IS NOT NULL
UNION ALL
SELECT object_key, CAST(NULL AS BIGINT), json_format(j), CAST(NULL AS VARCHAR) FROM docs WHERE recs IS NULL
UNION ALL
SELECT object_key, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR), 'malformed_json' FROM src WHERE ok IS NULL AND trim(line) <> '')`;
}
