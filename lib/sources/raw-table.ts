/**
 * How a source's raw logs are laid out where they are stored, as a table: the one place that knows
 * the columns, used by the local reader (DuckDB reads the same files as lines), the Glue table of
 * the CDK app, and the Hive table of the Trino tests.
 *
 * Every source is read as **one string column per line**: the normalising query parses the JSON (or
 * text) itself, so a malformed line reaches SQL and is counted instead of failing the table read,
 * and records of several layouts can share a file.
 */
export interface RawTableSpec {
  /** Source name, also the folder under the logs prefix: `<prefix>/<source>/dt=YYYY-MM-DD/`. */
  readonly source: string;
  /** Table name in the raw-logs database (`windows_raw`). */
  readonly table: string;
  readonly columns: readonly { readonly name: string; readonly type: 'string' }[];
  /** The date partition: `dt=YYYY-MM-DD` folders, projected (no partition crawling). */
  readonly partition: { readonly name: 'dt'; readonly type: 'string'; readonly format: 'yyyy-MM-dd' };
  /**
   * Lines are split on newlines only: the field delimiter is U+0001, which JSON text never holds
   * raw, so one line is always one value. Gzip is read by file extension.
   */
  readonly fieldDelimiter: '\u0001';
  /** First day the partition projection allows. */
  readonly projectionStart: string;
}

/** The raw-line table of a source. */
export function rawTableOf(source: string): RawTableSpec {
  return {
    source,
    table: `${source}_raw`,
    columns: [{ name: 'line', type: 'string' }],
    partition: { name: 'dt', type: 'string', format: 'yyyy-MM-dd' },
    fieldDelimiter: '\u0001',
    projectionStart: '2015-01-01',
  };
}
