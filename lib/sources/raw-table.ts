/**
 * How a source's raw logs are laid out where they are stored, as a table: the one place that knows
 * the columns, the partitions and the folders. The Glue tables of the CDK app are generated from it
 * (infra/constructs/raw-tables.ts), the Athena input of a pack is planned from it
 * (lib/locate/raw-input-plan.ts), and the Hive table of the Trino tests follows it.
 *
 * Two formats:
 * - `lines`: **one string column per line** (`line`). The normalising query parses the JSON (or
 *   text) itself, so a malformed line reaches SQL and is counted instead of failing the table read,
 *   and records of several layouts can share a file. Windows, Linux and CloudTrail.
 * - `parquet`: typed columns (OCSF as Security Lake writes it); the reader serialises each row to
 *   JSON, so the same mapping serves Parquet and JSON lines.
 * - `records`: a raw-line table whose lines are written by sessiontrail's staging, one record per
 *   line with the key and position of the record in the object it was split from
 *   (`{"key":…,"position":…,"record":{…}}`, lib/locate/record-staging.ts). CloudTrail: a
 *   delivered file is one JSON document, split before the engine (`stagedFrom`); OCSF written as
 *   JSON ({@link stagedRecordsTable}): a Hive text table numbers no lines.
 *
 * Partitions are **projected** (Athena partition projection): no crawler, no `MSCK REPAIR`. A date
 * partition is projected from its first day to `NOW`; an enum partition (account, region) takes its
 * values from the deployment (`accounts`, `regions`), because the export's queries constrain only
 * the day: an `injected` projection would make Athena refuse every query that does not pin the
 * account and region with an equality.
 */

/** How a day partition's values are written. */
export type DayFormat = 'yyyy-MM-dd' | 'yyyy/MM/dd' | 'yyyyMMdd';

/** How Athena projects a partition's values. */
export type PartitionProjection =
  | {
      readonly type: 'date';
      readonly format: DayFormat;
      /** First day projected, written in `format`; the range ends at `NOW`. */
      readonly start: string;
    }
  | {
      readonly type: 'enum';
      /** Which list of the deployment gives the values (`logAccounts`, `logRegions` context). */
      readonly values: 'accounts' | 'regions';
    };

export interface RawTablePartition {
  readonly name: string;
  readonly type: 'string';
  readonly projection: PartitionProjection;
}

export interface RawTableColumn {
  readonly name: string;
  /** A Hive type: `string`, `bigint`, `int`, `boolean`, `struct<…>`, `map<string,string>`. */
  readonly type: string;
}

/** How a raw table holds records (see the top of this file). */
export type RawTableFormat = 'lines' | 'parquet' | 'records';

export interface RawTableSpec {
  /** Source name (the registry key). */
  readonly source: string;
  /** Table name in the raw-logs database (`windows_raw`). */
  readonly table: string;
  readonly format: RawTableFormat;
  /** `lines` / `records`: exactly `[{ name: 'line', type: 'string' }]`. `parquet`: the top-level columns read. */
  readonly columns: readonly RawTableColumn[];
  /** Every partition key, in the order of the folders. */
  readonly partitions: readonly RawTablePartition[];
  /** The day partition the export filters on (one of `partitions`, with a `date` projection). */
  readonly partition: { readonly name: string; readonly type: 'string'; readonly format: DayFormat };
  /**
   * `lines`: lines are split on newlines only; the field delimiter is U+0001, which JSON text never
   * holds raw, so one line is always one value. Gzip is read by file extension. (Unused by `parquet`.)
   */
  readonly fieldDelimiter: '\u0001';
  /** The table's LOCATION, a folder relative to the logs prefix, without slashes at either end. */
  readonly location: string;
  /**
   * Athena's `storage.location.template`, relative to the logs prefix: `${name}` stands for the
   * value of partition `name`; every partition appears once.
   */
  readonly locationTemplate: string;
  /**
   * Days read past the window's last day: a file lands in the folder of its **delivery** day, which
   * can follow the day of its last record (CloudTrail: up to about 15 minutes; domain notes §3.6).
   */
  readonly deliveryLagDays: number;
  /**
   * A `records` table: the folder (relative to the logs prefix) of the objects as delivered, which
   * the staging splits into this table's location, keeping the folders below it.
   */
  readonly stagedFrom?: string;
}

/** Where a `dt=YYYY-MM-DD` raw-line table's projection starts. */
export const DT_PROJECTION_START = '2015-01-01';

/**
 * The simple raw-line table of a source: `<prefix>/<source>/dt=YYYY-MM-DD/*`, one `line` column,
 * the `dt` partition projected by day.
 */
export function rawTableOf(source: string): RawTableSpec {
  return {
    source,
    table: `${source}_raw`,
    format: 'lines',
    columns: [{ name: 'line', type: 'string' }],
    partitions: [
      {
        name: 'dt',
        type: 'string',
        projection: { type: 'date', format: 'yyyy-MM-dd', start: DT_PROJECTION_START },
      },
    ],
    partition: { name: 'dt', type: 'string', format: 'yyyy-MM-dd' },
    fieldDelimiter: '\u0001',
    location: source,
    locationTemplate: `${source}/dt=${placeholder('dt')}`,
    deliveryLagDays: 0,
  };
}

/** `${name}`, the projection placeholder of a partition in a location template. */
export function placeholder(name: string): string {
  return `${'$'}{${name}}`;
}

/**
 * Checks that a spec is coherent: the day partition is a projected date partition, every partition
 * appears once in the template, the template starts at the location, a `lines` table has the one
 * `line` column.
 * @returns the problems found (empty when the spec is coherent).
 */
export function rawTableProblems(spec: RawTableSpec): string[] {
  const problems: string[] = [];
  const day = spec.partitions.find((p) => p.name === spec.partition.name);
  if (day === undefined || day.projection.type !== 'date' || day.projection.format !== spec.partition.format)
    problems.push(`day partition ${spec.partition.name} is not a projected ${spec.partition.format} date`);
  for (const p of spec.partitions) {
    const n = spec.locationTemplate.split(placeholder(p.name)).length - 1;
    if (n !== 1) problems.push(`partition ${p.name} appears ${n} times in the location template`);
  }
  const unknown = [...spec.locationTemplate.matchAll(/\$\{([^}]*)\}/g)]
    .map((m) => m[1])
    .filter((name) => !spec.partitions.some((p) => p.name === name));
  if (unknown.length > 0) problems.push(`template names unknown partitions ${unknown.join(', ')}`);
  if (!spec.locationTemplate.startsWith(`${spec.location}/`))
    problems.push(`template does not start at the location ${spec.location}/`);
  if (/^\/|\/$/.test(spec.location)) problems.push('location has a leading or trailing /');
  if (
    spec.format !== 'parquet' &&
    (spec.columns.length !== 1 || spec.columns[0]?.name !== 'line' || spec.columns[0]?.type !== 'string')
  )
    problems.push('a lines table has exactly one column, line string');
  if ((spec.format === 'records') !== (spec.stagedFrom !== undefined))
    problems.push('a records table, and only it, names the folder it is staged from');
  if (spec.partitions.some((p) => spec.columns.some((c) => c.name === p.name)))
    problems.push('a partition key is also a column');
  return problems;
}

/**
 * The folder (under the logs prefix) of the staging's output for objects delivered under
 * `stagedFrom`: `<first folder of stagedFrom>-staging` (`cloudtrail-staging`, `ocsf-staging`), with
 * `records/` holding the per-record copies the table reads and `accounts/` what the staging counted
 * in each delivered object (lib/locate/record-staging.ts).
 */
export function stagingFolderOf(stagedFrom: string): string {
  return `${stagedFrom.split('/')[0]}-staging`;
}

/**
 * Where the staging writes the per-record copies of the objects under `stagedFrom`: the same folders
 * below it, under `<staging folder>/records` (`cloudtrail/AWSLogs` → `cloudtrail-staging/records/AWSLogs`,
 * `ocsf` → `ocsf-staging/records`).
 */
export function stagedLocationOf(stagedFrom: string): string {
  const below = stagedFrom.split('/').slice(1).join('/');
  return `${stagingFolderOf(stagedFrom)}/records${below === '' ? '' : `/${below}`}`;
}

/**
 * The staged version of a table layout (format `records`): the delivered objects at the spec's
 * location are split per record by the staging into the same folders and partitions under
 * {@link stagedLocationOf}, one line per record with the key and position the file reader gives it.
 * For OCSF written as JSON (lines, documents or arrays) in Security Lake's folders instead of
 * Parquet: a Hive text table numbers no lines, the staged lines carry the positions.
 */
export function stagedRecordsTable(spec: RawTableSpec): RawTableSpec {
  const location = stagedLocationOf(spec.location);
  return {
    ...spec,
    format: 'records',
    columns: [{ name: 'line', type: 'string' }],
    location,
    locationTemplate: `${location}${spec.locationTemplate.slice(spec.location.length)}`,
    stagedFrom: spec.location,
  };
}

/** The text of a day partition's value, by its format. */
const DAY_PATTERN: Readonly<Record<DayFormat, string>> = {
  'yyyy-MM-dd': '\\d{4}-\\d{2}-\\d{2}',
  'yyyy/MM/dd': '\\d{4}/\\d{2}/\\d{2}',
  yyyyMMdd: '\\d{8}',
};

/**
 * The partition values a stored file's key names, read with the spec's location template: `key` is
 * relative to the logs prefix (`cloudtrail/AWSLogs/1234…/CloudTrail/eu-west-1/2024/03/04/f.json.gz`).
 * The part of the template below the location is matched anywhere in the key, so that folders the
 * template does not name (an organization trail's `<org-id>/`) do not hide the values; names are
 * compared without case (Security Lake writes `eventDay=`, Glue names it `eventday`). Null when the
 * key is not in the layout (a file outside any day folder).
 */
export function partitionValuesOf(spec: RawTableSpec, key: string): Readonly<Record<string, string>> | null {
  const below = spec.locationTemplate.slice(spec.location.length + 1);
  const names: string[] = [];
  const pattern = below
    .split(/(\$\{[^}]*\})/)
    .map((part) => {
      const name = /^\$\{([^}]*)\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(name);
      return name === spec.partition.name ? `(${DAY_PATTERN[spec.partition.format]})` : '([^/]+)';
    })
    .join('');
  const m = new RegExp(`(?:^|/)${pattern}/`, 'i').exec(key);
  if (m === null) return null;
  return Object.fromEntries(names.map((name, i) => [name, m[i + 1] as string]));
}

/** The day (`YYYY-MM-DD`) of the day partition a key names ({@link partitionValuesOf}), or null. */
export function dayOfKey(spec: RawTableSpec, key: string): string | null {
  const value = partitionValuesOf(spec, key)?.[spec.partition.name];
  if (value === undefined) return null;
  const digits = value.replace(/\D/g, '');
  return `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`;
}

/**
 * What local discovery (lib/locate/local-logs.ts) needs to know of a source's files beyond their
 * layout ({@link RawTableSpec}). A source without it writes line logs, and every log file of a
 * plain folder is its own.
 */
export interface LocalFiles {
  /** The files hold JSON documents whose records the intake splits (CloudTrail's `Records`, arrays). */
  readonly documents: boolean;
  /**
   * Whether a file of a plain folder, which may hold several sources, is this source's: from its
   * path, else its first 64 KiB (decompressed), read only when asked.
   */
  recognises(path: string, head: () => Promise<string>): Promise<boolean>;
}

/**
 * The layout of a source's objects as delivered: the spec itself, or for a staged table (`records`,
 * CloudTrail) the same folders and partitions under its `stagedFrom`, read as raw lines. Local
 * discovery reads the delivered files; the staging and its permissions read them too.
 */
export function deliveredLayoutOf(spec: RawTableSpec): RawTableSpec {
  if (spec.stagedFrom === undefined) return spec;
  const { stagedFrom, ...rest } = spec;
  return {
    ...rest,
    format: 'lines',
    location: stagedFrom,
    locationTemplate: `${stagedFrom}${spec.locationTemplate.slice(spec.location.length)}`,
  };
}
