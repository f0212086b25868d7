/**
 * Plans the table {@link RawInput} of a source for one pack, from what the deployment knows about
 * the source's table ({@link SourceTable}): the qualified table, its day partition and format, how
 * many days past the window to read, whether it is a raw-line table, and the prefix of `"$path"`
 * that object keys leave out. Pure: the CDK app computes the {@link SourceTable}s from the raw-table
 * specs (or the Security Lake table the user names) and hands them to the functions; the functions
 * plan each pack's input with {@link planRawInput}.
 */
import { SessiontrailError } from '../errors.ts';
import type { RawInput } from '../query/dialects/dialect.ts';
import { type DayFormat, placeholder, type RawTableFormat, type RawTableSpec } from '../sources/raw-table.ts';

/** The formats of a day partition a table input can filter on (`timestamp`: Security Lake v2 `time_dt`). */
export type DayPartitionFormat = DayFormat | 'timestamp';

/** What the export needs to know about one source's table. */
export interface SourceTable {
  /** `<database>.<table>`. */
  readonly table: string;
  /** The day partition filtered on. */
  readonly day: { readonly column: string; readonly format: DayPartitionFormat };
  /** Days read past the window's last day (files in the folder of their delivery day). */
  readonly lagDays: number;
  /**
   * `lines`: the raw-line table (Hive returns empty lines as rows, which are no records, so they are
   * skipped); `parquet`: typed columns, serialised per row by the reader.
   */
  readonly format: RawTableFormat;
  /**
   * A `records` table: the folder (relative to the logs root) of the delivered objects that the
   * staging splits into the table before the export reads it (lib/locate/record-staging.ts).
   */
  readonly stagedFrom?: string;
  /**
   * A `records` table: the folders below `stagedFrom` that the staging walks, as a template of
   * `/`-separated folders where `${accounts}` and `${regions}` stand for the folders found there
   * (an account folder: 12 digits) and `${day}` for each day read, in the day partition's format
   * (`${accounts}/CloudTrail/${regions}/${day}`, `region=${regions}/accountId=${accounts}/eventDay=${day}`).
   */
  readonly stagedLayout?: string;
  /** A `parquet` table's top-level columns, when known: the reader serialises only those it has. */
  readonly columns?: readonly string[];
  /** `s3://<bucket>/<prefix>/`, left out of object keys so that they name files relative to the logs root. */
  readonly keyPrefix?: string;
}

const DAY_MS = 86_400_000;
const DAY_FORMATS: readonly DayPartitionFormat[] = ['yyyy-MM-dd', 'yyyy/MM/dd', 'yyyyMMdd', 'timestamp'];
const NAME = /^[a-z_][a-z0-9_]*$/;

/** The {@link SourceTable} of a table generated from `spec` in `database`, over the logs at `logsRoot`. */
export function sourceTableOf(
  spec: RawTableSpec,
  where: { readonly database: string; readonly logsRoot?: string },
): SourceTable {
  return {
    table: `${where.database}.${spec.table}`,
    day: { column: spec.partition.name, format: spec.partition.format },
    lagDays: spec.deliveryLagDays,
    format: spec.format,
    ...(spec.format === 'parquet' ? { columns: spec.columns.map((c) => c.name) } : {}),
    ...(spec.stagedFrom === undefined
      ? {}
      : { stagedFrom: spec.stagedFrom, stagedLayout: stagedLayoutOf(spec) }),
    ...(where.logsRoot === undefined ? {} : { keyPrefix: where.logsRoot }),
  };
}

/**
 * The {@link SourceTable.stagedLayout} of a staged spec: its location template below the location,
 * each partition written as what it holds (`${accounts}`, `${regions}`, `${day}`).
 * @throws {SessiontrailError} `INTERNAL` for a partition that is none of those.
 */
export function stagedLayoutOf(spec: RawTableSpec): string {
  let layout = spec.locationTemplate.slice(spec.location.length + 1);
  for (const p of spec.partitions) {
    const as =
      p.name === spec.partition.name ? 'day' : p.projection.type === 'enum' ? p.projection.values : null;
    if (as === null)
      throw new SessiontrailError('INTERNAL', `partition ${p.name} of ${spec.table} cannot be staged`);
    layout = layout.replace(placeholder(p.name), placeholder(as));
  }
  return layout;
}

/** A staged layout: folders, each literal or holding one of the three placeholders. */
const STAGED_LAYOUT =
  /^([A-Za-z0-9_.=-]*(\$\{(accounts|regions|day)\})?[A-Za-z0-9_.=-]*)(\/[A-Za-z0-9_.=-]*(\$\{(accounts|regions|day)\})?[A-Za-z0-9_.=-]*)*$/;

/**
 * The {@link SourceTable} of an existing Amazon Security Lake table (`<database>.<table>`): v1 tables
 * are partitioned by `eventday` (`yyyyMMdd`), v2 tables by `time_dt` (a timestamp; domain notes §4.5).
 * The version is read from the table name's `_1_0` / `_2_0` suffix unless given.
 * @throws {SessiontrailError} `BAD_CONFIG` when the name is not `<database>.<table>` or the version
 *   cannot be told.
 */
export function securityLakeTable(qualified: string, version?: 1 | 2): SourceTable {
  const parts = qualified.split('.');
  if (parts.length !== 2 || !parts.every((p) => NAME.test(p)))
    throw new SessiontrailError(
      'BAD_CONFIG',
      `Security Lake table: expected <database>.<table> in lower-case letters, digits and _, received ${JSON.stringify(qualified)}`,
    );
  const v = version ?? (/_1_0$/.test(qualified) ? 1 : /_2_0$/.test(qualified) ? 2 : undefined);
  if (v === undefined)
    throw new SessiontrailError(
      'BAD_CONFIG',
      `Security Lake table ${qualified}: its name ends neither in _1_0 nor in _2_0; give the version (1 or 2)`,
    );
  return {
    table: qualified,
    day: v === 1 ? { column: 'eventday', format: 'yyyyMMdd' } : { column: 'time_dt', format: 'timestamp' },
    lagDays: 0,
    // Its columns depend on the table (one OCSF class per source): the reader asks for its usual ones.
    format: 'parquet',
  };
}

/**
 * The table input of `[fromMs, toMs)`: the days from the day of `fromMs` to the day of the last
 * millisecond before `toMs`, plus the table's lag days; the day partition when it is not `dt` as
 * `yyyy-MM-dd`; empty lines skipped on raw-line tables; the key prefix.
 */
export function planRawInput(t: SourceTable, fromMs: number, toMs: number): RawInput {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const isDefaultDay = t.day.column === 'dt' && t.day.format === 'yyyy-MM-dd';
  return {
    kind: 'table',
    table: t.table,
    dtFrom: day(fromMs),
    dtTo: day(Math.max(fromMs, toMs - 1) + t.lagDays * DAY_MS),
    ...(isDefaultDay ? {} : { partition: { column: t.day.column, format: t.day.format } }),
    format: t.format,
    ...(t.format !== 'parquet' ? { skipEmptyLines: true } : {}),
    ...(t.columns === undefined ? {} : { columns: t.columns }),
    ...(t.keyPrefix === undefined ? {} : { keyPrefix: t.keyPrefix }),
  };
}

/**
 * Reads the source tables of a deployment from their JSON text (what the CDK app sets in the
 * functions' environment).
 * @throws {SessiontrailError} `BAD_CONFIG` naming the first source or field that is not as expected.
 */
export function parseSourceTables(text: string): Readonly<Record<string, SourceTable>> {
  const bad = (what: string, received: unknown): never => {
    throw new SessiontrailError(
      'BAD_CONFIG',
      `source tables: expected ${what}, received ${JSON.stringify(received)?.slice(0, 200)}`,
    );
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad('a JSON object of source → table', text);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return bad('a JSON object of source → table', raw);
  const out: Record<string, SourceTable> = {};
  for (const [source, value] of Object.entries(raw)) {
    const v = value as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null) return bad(`${source}: an object`, v);
    const known = ['table', 'day', 'lagDays', 'format', 'columns', 'keyPrefix', 'stagedFrom', 'stagedLayout'];
    const extra = Object.keys(v).filter((k) => !known.includes(k));
    if (extra.length > 0) bad(`${source}: only ${known.join(', ')}`, extra);
    const table = v.table;
    if (typeof table !== 'string' || !/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(table))
      bad(`${source}.table: <database>.<table>`, table);
    const day = v.day as Record<string, unknown> | undefined;
    if (
      typeof day !== 'object' ||
      day === null ||
      typeof day.column !== 'string' ||
      !NAME.test(day.column) ||
      !DAY_FORMATS.includes(day.format as DayPartitionFormat)
    )
      bad(`${source}.day: { column, format: ${DAY_FORMATS.join(' | ')} }`, day);
    if (typeof v.lagDays !== 'number' || !Number.isInteger(v.lagDays) || v.lagDays < 0 || v.lagDays > 7)
      bad(`${source}.lagDays: a whole number from 0 to 7`, v.lagDays);
    if (v.format !== 'lines' && v.format !== 'parquet' && v.format !== 'records')
      bad(`${source}.format: lines, parquet or records`, v.format);
    if (
      v.stagedFrom !== undefined &&
      (typeof v.stagedFrom !== 'string' || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(v.stagedFrom))
    )
      bad(`${source}.stagedFrom: a folder relative to the logs root`, v.stagedFrom);
    if (
      (v.stagedLayout !== undefined) !== (v.stagedFrom !== undefined) ||
      (v.stagedLayout !== undefined &&
        (typeof v.stagedLayout !== 'string' || !STAGED_LAYOUT.test(v.stagedLayout)))
    )
      bad(
        `${source}.stagedLayout: with stagedFrom, folders with \${accounts}, \${regions}, \${day}`,
        v.stagedLayout,
      );
    if (
      v.columns !== undefined &&
      (!Array.isArray(v.columns) || !v.columns.every((c) => typeof c === 'string' && NAME.test(c)))
    )
      bad(`${source}.columns: a list of column names`, v.columns);
    if (v.keyPrefix !== undefined && (typeof v.keyPrefix !== 'string' || !v.keyPrefix.endsWith('/')))
      bad(`${source}.keyPrefix: a location ending in /`, v.keyPrefix);
    out[source] = {
      table: table as string,
      day: { column: day?.column as string, format: day?.format as DayPartitionFormat },
      lagDays: v.lagDays as number,
      format: v.format as RawTableFormat,
      ...(v.stagedFrom === undefined
        ? {}
        : { stagedFrom: v.stagedFrom as string, stagedLayout: v.stagedLayout as string }),
      ...(v.columns === undefined ? {} : { columns: v.columns as string[] }),
      ...(v.keyPrefix === undefined ? {} : { keyPrefix: v.keyPrefix as string }),
    };
  }
  return out;
}
