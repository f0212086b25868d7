import { SessiontrailError } from '../../errors.ts';
import { identifier, literal, type ParamList } from '../sql.ts';
import type { Dialect, RawInput } from './dialect.ts';

/** Trino's (and Athena engine v3's) side of the differences. */
export function trinoDialect(workSchema: string): Dialect {
  const schema = identifier(workSchema);
  return {
    name: 'trino',
    jsonPath: (keys) => literal(`$${keys.map((k) => `["${k.replaceAll('"', '\\"')}"]`).join('')}`),
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
        throw new SessiontrailError('BAD_REQUEST', `Trino reads tables, received a ${input.kind} input`);
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
      return `(SELECT ${key} AS object_key, line FROM ${table} WHERE dt BETWEEN ${params.add(input.dtFrom)} AND ${params.add(input.dtTo)})`;
    },
    workTable: (name) => `${schema}.${identifier(name)}`,
  };
}
