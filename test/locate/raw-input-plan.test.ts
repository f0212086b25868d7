import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import {
  parseSourceTables,
  planRawInput,
  type SourceTable,
  securityLakeTable,
  sourceTableOf,
  stagedLayoutOf,
} from '../../lib/locate/raw-input-plan.ts';
import { stagingListingsOf } from '../../lib/locate/record-staging.ts';
import { athenaDialect } from '../../lib/query/athena/athena-dialect.ts';
import { ParamList } from '../../lib/query/sql.ts';
import { SOURCES } from '../../lib/sources/index.ts';
import { OCSF_TABLE_COLUMNS } from '../../lib/sources/ocsf.ts';
import { OCSF_JSON_TABLE } from '../../lib/sources/ocsf-raw-table.ts';
import { placeholder } from '../../lib/sources/raw-table.ts';

const ROOT = 's3://corp-security-logs/logs/';
const FROM = Date.parse('2024-03-01T00:00:00Z');
const TO = Date.parse('2024-04-01T00:00:00Z');
const deployed = (source: string): SourceTable =>
  sourceTableOf(SOURCES[source]!.rawTable, { database: 'sessiontrail_raw', logsRoot: ROOT });

describe('planRawInput', () => {
  it.each([
    ['windows', 'windows_raw'],
    ['linux_auditd', 'linux_auditd_raw'],
    ['linux_auth', 'linux_auth_raw'],
  ])('reads %s as raw lines of the dt days of the window, empty lines skipped, keys relative to the logs root', (source, table) => {
    expect(planRawInput(deployed(source), FROM, TO)).toEqual({
      kind: 'table',
      table: `sessiontrail_raw.${table}`,
      dtFrom: '2024-03-01',
      dtTo: '2024-03-31',
      format: 'lines',
      skipEmptyLines: true,
      keyPrefix: ROOT,
    });
  });

  it('reads CloudTrail on its yyyy/MM/dd day partition, one day past the window for delivery lag', () => {
    expect(planRawInput(deployed('cloudtrail'), FROM, TO)).toEqual({
      kind: 'table',
      table: 'sessiontrail_raw.cloudtrail_raw',
      dtFrom: '2024-03-01',
      dtTo: '2024-04-01',
      partition: { column: 'day', format: 'yyyy/MM/dd' },
      format: 'records',
      skipEmptyLines: true,
      keyPrefix: ROOT,
    });
  });

  it('reads the OCSF Parquet table on its yyyyMMdd eventday partition, with its columns, lines not filtered', () => {
    expect(planRawInput(deployed('ocsf'), FROM, TO)).toEqual({
      kind: 'table',
      table: 'sessiontrail_raw.ocsf_raw',
      dtFrom: '2024-03-01',
      dtTo: '2024-03-31',
      partition: { column: 'eventday', format: 'yyyyMMdd' },
      format: 'parquet',
      columns: [...OCSF_TABLE_COLUMNS],
      keyPrefix: ROOT,
    });
  });

  it.each([
    ['a window within one day', '2024-03-04T08:00:00Z', '2024-03-04T20:00:00Z', '2024-03-04', '2024-03-04'],
    [
      'a window ending at midnight',
      '2024-03-04T08:00:00Z',
      '2024-03-05T00:00:00Z',
      '2024-03-04',
      '2024-03-04',
    ],
    ['an empty window', '2024-03-04T08:00:00Z', '2024-03-04T08:00:00Z', '2024-03-04', '2024-03-04'],
  ])('bounds the days of %s inclusively', (_what, from, to, dtFrom, dtTo) => {
    expect(planRawInput(deployed('windows'), Date.parse(from), Date.parse(to))).toMatchObject({
      dtFrom,
      dtTo,
    });
  });

  it.each([
    ['cloudtrail', /"day" BETWEEN/, ['2024/03/01', '2024/04/01']],
    ['ocsf', /"eventday" BETWEEN/, ['20240301', '20240331']],
  ])('makes the Athena dialect filter %s on its own day partition', (source, predicate, bounds) => {
    // Prepare
    const p = new ParamList();
    // Act
    const sql = athenaDialect('sessiontrail_work', 'run_1').jsonRecords(
      planRawInput(deployed(source), FROM, TO),
      p,
      {
        ...(source === 'ocsf' ? { columns: ['time'] } : {}),
      },
    );
    const q = p.finish('probe', sql);
    // Assess
    expect(q.sql).toMatch(predicate);
    expect(q.sql).not.toMatch(/\bdt BETWEEN|"dt" BETWEEN/);
    expect(q.params).toEqual(expect.arrayContaining([ROOT, ...bounds]));
  });

  it('makes the Athena dialect read raw lines on dt, skip empty lines and strip the logs root from keys', () => {
    const p = new ParamList();
    const q = p.finish(
      'probe',
      athenaDialect('w', 'r').rawLines(planRawInput(deployed('windows'), FROM, TO), p),
    );
    expect(q.sql).toMatch(/WHERE dt BETWEEN \? AND \? AND \(line IS NULL OR trim\(line\) <> ''\)/);
    expect(q.sql).toMatch(/starts_with\("\$path", \?\)/);
    expect(q.params).toEqual([ROOT, ROOT.length + 1, '2024-03-01', '2024-03-31']);
  });
});

describe('securityLakeTable', () => {
  it.each([
    [
      'amazon_security_lake_glue_db_eu_west_1.amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0',
      undefined,
      'time_dt',
      'timestamp',
    ],
    [
      'amazon_security_lake_glue_db_eu_west_1.amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_1_0',
      undefined,
      'eventday',
      'yyyyMMdd',
    ],
    ['lake.custom_windows', 2, 'time_dt', 'timestamp'],
  ] as const)('reads %s on its day partition', (table, version, column, format) => {
    const t = securityLakeTable(table, version);
    expect(t).toEqual({ table, day: { column, format }, lagDays: 0, format: 'parquet' });
    expect(planRawInput(t, FROM, TO)).toEqual({
      kind: 'table',
      table,
      dtFrom: '2024-03-01',
      dtTo: '2024-03-31',
      partition: { column, format },
      format: 'parquet',
    });
  });

  it.each([
    ['no database', 'just_a_table'],
    ['no version in the name', 'lake.custom_windows'],
    ['upper case', 'Lake.Table_2_0'],
  ])('refuses a table name with %s (BAD_CONFIG)', (_what, name) => {
    let err: unknown;
    try {
      securityLakeTable(name);
    } catch (e) {
      err = e;
    }
    expect(isSessiontrailError(err) && err.code).toBe('BAD_CONFIG');
  });
});

describe('parseSourceTables', () => {
  it('reads back what the CDK app writes', () => {
    const tables = {
      windows: deployed('windows'),
      cloudtrail: deployed('cloudtrail'),
      ocsf: securityLakeTable('a.b_2_0'),
    };
    expect(parseSourceTables(JSON.stringify(tables))).toEqual(tables);
  });

  it.each([
    ['not JSON', 'nope', /JSON object/],
    ['a list', '[]', /JSON object/],
    ['an unknown key', JSON.stringify({ w: { ...deployed('windows'), extra: 1 } }), /w: only/],
    [
      'a bad day format',
      JSON.stringify({ w: { ...deployed('windows'), day: { column: 'dt', format: 'dd.MM' } } }),
      /w\.day/,
    ],
    ['a negative lag', JSON.stringify({ w: { ...deployed('windows'), lagDays: -1 } }), /w\.lagDays/],
    [
      'a staged table without its layout',
      JSON.stringify({ c: { ...deployed('cloudtrail'), stagedLayout: undefined } }),
      /c\.stagedLayout/,
    ],
    [
      'a staged layout with an unknown placeholder',
      JSON.stringify({ c: { ...deployed('cloudtrail'), stagedLayout: '$' + '{org}/CloudTrail' } }),
      /c\.stagedLayout/,
    ],
    [
      'a key prefix without /',
      JSON.stringify({ w: { ...deployed('windows'), keyPrefix: 's3://b/logs' } }),
      /w\.keyPrefix/,
    ],
  ])('refuses %s, naming what is wrong', (_what, text, message) => {
    expect(() => parseSourceTables(text)).toThrow(message);
  });
});

describe('stagedLayoutOf', () => {
  it("writes a staged table's folders by what each partition holds, from its spec", () => {
    const ph = (name: string) => placeholder(name);
    expect(stagedLayoutOf(SOURCES.cloudtrail!.rawTable)).toBe(
      `${ph('accounts')}/CloudTrail/${ph('regions')}/${ph('day')}`,
    );
    expect(stagedLayoutOf(OCSF_JSON_TABLE)).toBe(
      `region=${ph('regions')}/accountId=${ph('accounts')}/eventDay=${ph('day')}`,
    );
    const ocsf = sourceTableOf(OCSF_JSON_TABLE, { database: 'raw', logsRoot: ROOT });
    expect(ocsf).toMatchObject({ format: 'records', stagedFrom: 'ocsf', table: 'raw.ocsf_raw' });
    expect(parseSourceTables(JSON.stringify({ ocsf }))).toEqual({ ocsf });
  });

  it('gives the staging exactly the prefixes it lists in a deployment (its IAM listing grant)', () => {
    const values = { accounts: ['111122223333', '444455556666'], regions: ['eu-west-1', 'us-east-1'] };
    expect(stagingListingsOf(deployed('cloudtrail'), values)).toEqual([
      'cloudtrail/AWSLogs/',
      'cloudtrail/AWSLogs/111122223333/CloudTrail/',
      'cloudtrail/AWSLogs/444455556666/CloudTrail/',
    ]);
    const ocsf = sourceTableOf(OCSF_JSON_TABLE, { database: 'raw' });
    expect(stagingListingsOf(ocsf, values)).toEqual([
      'ocsf/',
      'ocsf/region=eu-west-1/',
      'ocsf/region=us-east-1/',
    ]);
    expect(stagingListingsOf(deployed('windows'), values)).toEqual([]);
  });
});
