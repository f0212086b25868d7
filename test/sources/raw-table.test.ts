import { describe, expect, it } from 'vitest';
import { CLOUDTRAIL_RAW_TABLE, cloudTrailRawTable } from '../../lib/sources/cloudtrail-raw-table.ts';
import { SOURCE_NAMES, SOURCES } from '../../lib/sources/index.ts';
import { OCSF_TABLE_COLUMNS } from '../../lib/sources/ocsf.ts';
import { OCSF_PARQUET_TABLE } from '../../lib/sources/ocsf-raw-table.ts';
import {
  dayOfKey,
  partitionValuesOf,
  placeholder,
  type RawTableSpec,
  rawTableOf,
  rawTableProblems,
} from '../../lib/sources/raw-table.ts';

describe('raw-table specs', () => {
  it.each(SOURCE_NAMES)('the %s registry entry carries a coherent spec named after its source', (source) => {
    const spec = SOURCES[source]!.rawTable;
    expect(rawTableProblems(spec)).toEqual([]);
    expect(spec.source).toBe(source);
    expect(spec.table).toBe(`${source}_raw`);
  });

  it('one source reads an Amazon Security Lake table when one is named (OCSF, the format Security Lake stores)', () => {
    expect(SOURCE_NAMES.filter((s) => SOURCES[s]!.readsSecurityLake === true)).toEqual(['ocsf']);
  });

  it.each(['windows', 'linux_auditd', 'linux_auth'])('%s is the simple dt raw-line table', (source) => {
    expect(SOURCES[source]!.rawTable).toEqual(rawTableOf(source));
  });

  it('rawTableOf is one line column under <source>/dt=YYYY-MM-DD/, projected by day, no lag', () => {
    expect(rawTableOf('windows')).toMatchObject({
      format: 'lines',
      columns: [{ name: 'line', type: 'string' }],
      partitions: [
        {
          name: 'dt',
          type: 'string',
          projection: { type: 'date', format: 'yyyy-MM-dd', start: '2015-01-01' },
        },
      ],
      partition: { name: 'dt', format: 'yyyy-MM-dd' },
      location: 'windows',
      locationTemplate: `windows/dt=\${dt}`,
      deliveryLagDays: 0,
    });
  });

  it("CloudTrail is AWS's projected layout, staged per record: account and region enums, yyyy/MM/dd day, one day of delivery lag", () => {
    expect(SOURCES.cloudtrail!.rawTable).toBe(CLOUDTRAIL_RAW_TABLE);
    expect(CLOUDTRAIL_RAW_TABLE).toMatchObject({
      format: 'records',
      stagedFrom: 'cloudtrail/AWSLogs',
      columns: [{ name: 'line', type: 'string' }],
      partitions: [
        { name: 'account', projection: { type: 'enum', values: 'accounts' } },
        { name: 'region', projection: { type: 'enum', values: 'regions' } },
        { name: 'day', projection: { type: 'date', format: 'yyyy/MM/dd', start: '2015/01/01' } },
      ],
      partition: { name: 'day', format: 'yyyy/MM/dd' },
      location: 'cloudtrail-staging/records/AWSLogs',
      locationTemplate: `cloudtrail-staging/records/AWSLogs/\${account}/CloudTrail/\${region}/\${day}`,
      deliveryLagDays: 1,
    });
  });

  it('OCSF is Parquet with a type for every column the source serialises, in Security Lake custom-source folders', () => {
    expect(SOURCES.ocsf!.rawTable).toBe(OCSF_PARQUET_TABLE);
    expect(OCSF_PARQUET_TABLE.format).toBe('parquet');
    expect(OCSF_PARQUET_TABLE.columns.map((c) => c.name)).toEqual([...OCSF_TABLE_COLUMNS]);
    for (const c of OCSF_PARQUET_TABLE.columns)
      expect(c.type).toMatch(/^(string|bigint|int|boolean|struct<.+>|map<string,string>)$/);
    expect(OCSF_PARQUET_TABLE.locationTemplate).toBe(
      `ocsf/region=\${region}/accountId=\${accountid}/eventDay=\${eventday}`,
    );
    expect(OCSF_PARQUET_TABLE.partition).toEqual({ name: 'eventday', type: 'string', format: 'yyyyMMdd' });
  });

  it('OCSF struct types are balanced Hive type texts', () => {
    for (const c of OCSF_PARQUET_TABLE.columns) {
      let depth = 0;
      for (const ch of c.type) {
        depth += ch === '<' ? 1 : ch === '>' ? -1 : 0;
        expect(depth, c.name).toBeGreaterThanOrEqual(0);
      }
      expect(depth, c.name).toBe(0);
      expect(c.type, c.name).not.toMatch(/\s/);
    }
  });

  it.each<[string, Partial<RawTableSpec>, RegExp]>([
    [
      'a day partition that is not a projected date',
      { partition: { name: 'dt', type: 'string', format: 'yyyyMMdd' } },
      /day partition/,
    ],
    ['a template missing a partition', { locationTemplate: 'windows/all' }, /dt appears 0 times/],
    [
      'a template naming an unknown partition',
      { locationTemplate: `windows/dt=\${dt}/\${host}` },
      /unknown partitions host/,
    ],
    [
      'a template outside the location',
      { locationTemplate: `linux/dt=\${dt}` },
      /does not start at the location/,
    ],
    [
      'a lines table with two columns',
      {
        columns: [
          { name: 'line', type: 'string' },
          { name: 'x', type: 'string' },
        ],
      },
      /exactly one column/,
    ],
  ])('rawTableProblems finds %s', (_what, change, problem) => {
    expect(rawTableProblems({ ...rawTableOf('windows'), ...change }).join('; ')).toMatch(problem);
  });
});

describe("partitionValuesOf / dayOfKey: a stored key read with the table's own template", () => {
  // One day written in each format, and the other partitions' values.
  const DAY = { 'yyyy-MM-dd': '2024-03-04', 'yyyy/MM/dd': '2024/03/04', yyyyMMdd: '20240304' } as const;
  const OTHER = 'x1';

  it.each(SOURCE_NAMES)('%s: the key its template writes reads back its values and day', (source) => {
    const spec = SOURCES[source]!.rawTable;
    const values = Object.fromEntries(
      spec.partitions.map((p) => [
        p.name,
        p.name === spec.partition.name ? DAY[spec.partition.format] : OTHER,
      ]),
    );
    const key = `${spec.partitions.reduce((t, p) => t.replace(placeholder(p.name), values[p.name] as string), spec.locationTemplate)}/file.json.gz`;
    expect(partitionValuesOf(spec, key)).toEqual(values);
    expect(dayOfKey(spec, key)).toBe('2024-03-04');
  });

  it('reads an organization trail with the single-account table (the org id folder is not a partition)', () => {
    const key = 'cloudtrail/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2024/03/04/f.json.gz';
    expect(partitionValuesOf(CLOUDTRAIL_RAW_TABLE, key)).toEqual({
      account: '111122223333',
      region: 'eu-west-1',
      day: '2024/03/04',
    });
    expect(partitionValuesOf(cloudTrailRawTable('o-a1b2c3d4e5'), key)).toEqual(
      partitionValuesOf(CLOUDTRAIL_RAW_TABLE, key),
    );
  });

  it('reads the folder of a day before its files, and nothing outside the layout', () => {
    expect(dayOfKey(rawTableOf('windows'), 'windows/dt=2024-03-04/')).toBe('2024-03-04');
    expect(dayOfKey(OCSF_PARQUET_TABLE, 'ocsf/region=eu-west-1/accountId=1/eventDay=20240304/')).toBe(
      '2024-03-04',
    );
    expect(dayOfKey(rawTableOf('windows'), 'windows/old/security.json')).toBeNull();
    expect(dayOfKey(rawTableOf('windows'), 'windows/dt=2024-03-04')).toBeNull(); // a file, not a folder
    expect(
      dayOfKey(CLOUDTRAIL_RAW_TABLE, 'cloudtrail/AWSLogs/1/CloudTrail-Digest/eu-west-1/2024/03/04/d.json.gz'),
    ).toBeNull();
  });
});
