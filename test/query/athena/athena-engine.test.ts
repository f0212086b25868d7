/**
 * AthenaEngine against a mocked Athena API (aws-sdk-client-mock): no Athena runs here, so these
 * tests prove what the adapter sends and how it reads what Athena answers, as documented in the
 * Athena API reference (StartQueryExecution, GetQueryExecution, GetQueryResults, GetWorkGroup).
 */
import {
  AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsOutput,
  GetWorkGroupCommand,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../../lib/errors.ts';
import { athenaDialect } from '../../../lib/query/athena/athena-dialect.ts';
import { AthenaEngine, type AthenaEngineOptions, toCell } from '../../../lib/query/athena/athena-engine.ts';
import { trinoDialect } from '../../../lib/query/dialects/trino-dialect.ts';
import { ParamList, type SqlQuery } from '../../../lib/query/sql.ts';

const athena = mockClient(AthenaClient);

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err;
  }
}

/** A fake clock that only moves when the engine sleeps, and records every sleep. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

function engine(overrides: Partial<AthenaEngineOptions> = {}) {
  const time = fakeTime();
  const e = new AthenaEngine({
    client: new AthenaClient({ region: 'eu-west-1' }),
    workGroup: 'sessiontrail',
    workDatabase: 'sessiontrail_work',
    runId: 'run_0f3c2a9b',
    pollMs: { initial: 100, max: 1600 },
    deadlineMs: 60_000,
    sleep: time.sleep,
    now: time.now,
    // The top of every jitter range, so waits are predictable.
    random: () => 0.999999,
    ...overrides,
  });
  return { engine: e, time };
}

const succeeded = (id: string, bytes = 1234, ms = 56) => ({
  QueryExecution: {
    QueryExecutionId: id,
    Status: { State: 'SUCCEEDED' as QueryExecutionState },
    Statistics: { DataScannedInBytes: bytes, EngineExecutionTimeInMillis: ms },
  },
});
const inState = (id: string, state: QueryExecutionState, reason?: string) => ({
  QueryExecution: {
    QueryExecutionId: id,
    Status: { State: state, ...(reason ? { StateChangeReason: reason } : {}) },
  },
});

const col = (Name: string, Type: string): ColumnInfo => ({ Name, Type });
const page = (
  columns: ColumnInfo[],
  rows: (string | undefined)[][],
  extra: Partial<GetQueryResultsOutput> = {},
): GetQueryResultsOutput => ({
  ResultSet: {
    ResultSetMetadata: { ColumnInfo: columns },
    Rows: rows.map((r) => ({ Data: r.map((v) => (v === undefined ? {} : { VarCharValue: v })) })),
  },
  ...extra,
});

function hostileQuery(): SqlQuery {
  const p = new ParamList();
  const sql = `SELECT host, n FROM t WHERE user_name = ${p.add("O'Brien'); DROP TABLE x; --")} AND n > ${p.add(42)} AND big = ${p.add(9007199254740993n)} AND ok = ${p.add(true)} AND gone IS ${p.add(null)}`;
  return p.finish('hostile', sql);
}

describe('AthenaEngine (aws-sdk-client-mock)', () => {
  beforeEach(() => {
    athena.reset();
  });
  afterEach(() => {
    athena.reset();
  });

  it('sends the values of a WHERE clause as typed execution parameters, never spliced into the text', async () => {
    // Prepare
    const { engine: e } = engine();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves(succeeded('q1'));
    athena.on(GetQueryResultsCommand).resolves(page([col('host', 'varchar')], [['host']]));
    const query = hostileQuery();

    // Act
    await e.select(query);

    // Assess
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(input?.QueryString).toBe(query.sql);
    expect(input?.QueryString).not.toContain('Brien');
    expect(input?.QueryString).not.toContain('42');
    expect(input?.ExecutionParameters).toEqual([
      "'O''Brien''); DROP TABLE x; --'",
      "BIGINT '42'",
      "BIGINT '9007199254740993'",
      'true',
      'NULL',
    ]);
    expect(input?.WorkGroup).toBe('sessiontrail');
    expect(input?.QueryExecutionContext).toEqual({
      Catalog: 'AwsDataCatalog',
      Database: 'sessiontrail_work',
    });
    expect(input?.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes a value outside WHERE (select list, CASE) as its literal, since Athena takes ? only in WHERE', async () => {
    // Prepare
    const { engine: e } = engine();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves(succeeded('q1'));
    athena.on(GetQueryResultsCommand).resolves(page([col('k', 'varchar')], [['k']]));
    const p = new ParamList();
    const query = p.finish(
      'mixed',
      `SELECT CASE WHEN starts_with("$path", ${p.add("s3://b/it's/")}) THEN substr("$path", ${p.add(12)}) END AS k FROM t WHERE dt BETWEEN ${p.add('2024-03-01')} AND ${p.add('2024-03-02')}`,
    );

    // Act
    await e.select(query);

    // Assess
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(input?.QueryString).toBe(
      `SELECT CASE WHEN starts_with("$path", 's3://b/it''s/') THEN substr("$path", BIGINT '12') END AS k FROM t WHERE dt BETWEEN ? AND ?`,
    );
    expect(input?.ExecutionParameters).toEqual(["'2024-03-01'", "'2024-03-02'"]);
  });

  it('writes a list value as an ARRAY literal, Athena execution parameters being scalars only', async () => {
    // Prepare
    const { engine: e } = engine();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves(succeeded('q1'));
    athena.on(GetQueryResultsCommand).resolves(page([col('x', 'varchar')], [['x']]));
    const p = new ParamList();
    const query = p.finish('lists', `SELECT x FROM t WHERE contains(${p.add(['a', "b'c"])}, x)`);

    // Act
    await e.select(query);

    // Assess
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(input?.QueryString).toBe(`SELECT x FROM t WHERE contains(ARRAY['a', 'b''c'], x)`);
    expect(input?.ExecutionParameters).toBeUndefined();
  });

  it('polls with exponential backoff and full jitter until the query succeeds, and records its statistics', async () => {
    // Prepare
    const { engine: e, time } = engine();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-slow' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(inState('q-slow', 'QUEUED'))
      .resolvesOnce(inState('q-slow', 'RUNNING'))
      .resolvesOnce(inState('q-slow', 'RUNNING'))
      .resolvesOnce(inState('q-slow', 'RUNNING'))
      .resolvesOnce(inState('q-slow', 'RUNNING'))
      .resolvesOnce(inState('q-slow', 'RUNNING'))
      .resolves(succeeded('q-slow', 987_654, 4321));
    athena.on(GetQueryResultsCommand).resolves(page([col('n', 'bigint')], [['n'], ['7']]));

    // Act
    const { rows, run } = await e.select({ name: 'slow', sql: 'SELECT 7 AS n', params: [] });

    // Assess: 100, 200, 400, 800, then capped at 1600 (random() just under 1 takes the top of each range).
    expect(time.sleeps).toEqual([99, 199, 399, 799, 1599, 1599]);
    expect(rows).toEqual([{ n: 7 }]);
    expect(run).toEqual({
      name: 'slow',
      engineQueryId: 'q-slow',
      rows: 1,
      durationMs: 4321,
      bytesScanned: 987_654,
    });
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input.ExecutionParameters).toBe(
      undefined,
    );
  });

  it('draws each wait uniformly below the capped exponential (full jitter)', async () => {
    // Prepare
    const { engine: e, time } = engine({ random: () => 0.5 });
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(inState('q', 'RUNNING'))
      .resolvesOnce(inState('q', 'RUNNING'))
      .resolves(succeeded('q'));
    athena.on(GetQueryResultsCommand).resolves(page([col('n', 'integer')], [['n']]));

    // Act
    await e.select({ name: 'q', sql: 'SELECT 1 AS n', params: [] });

    // Assess
    expect(time.sleeps).toEqual([50, 100]);
  });

  it('pages through GetQueryResults across NextToken and skips only the header row of the first page', async () => {
    // Prepare
    const { engine: e } = engine();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-pages' });
    athena.on(GetQueryExecutionCommand).resolves(succeeded('q-pages'));
    const columns = [col('host', 'varchar'), col('n', 'integer')];
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(
        page(
          columns,
          [
            ['host', 'n'],
            ['A', '1'],
            ['B', '2'],
          ],
          { NextToken: 't1' },
        ),
      )
      .resolvesOnce(
        page(
          columns,
          [
            // A data row that looks like the header must survive on later pages.
            ['host', '3'],
            ['C', '4'],
          ],
          { NextToken: 't2' },
        ),
      )
      .resolvesOnce(page(columns, [['D', '5']]));

    // Act
    const { rows } = await e.select({ name: 'pages', sql: 'SELECT host, n FROM t', params: [] });

    // Assess
    expect(rows).toEqual([
      { host: 'A', n: 1 },
      { host: 'B', n: 2 },
      { host: 'host', n: 3 },
      { host: 'C', n: 4 },
      { host: 'D', n: 5 },
    ]);
    const calls = athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.NextToken)).toEqual([undefined, 't1', 't2']);
    expect(calls.every((c) => c.QueryExecutionId === 'q-pages' && c.MaxResults === 1000)).toBe(true);
  });

  it('converts cells by the column type from ResultSetMetadata', async () => {
    // Prepare
    const { engine: e } = engine();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-types' });
    athena.on(GetQueryExecutionCommand).resolves(succeeded('q-types'));
    const columns = [
      col('s', 'varchar'),
      col('small', 'bigint'),
      col('huge', 'bigint'),
      col('i', 'integer'),
      col('b', 'boolean'),
      col('f', 'boolean'),
      col('d', 'double'),
      col('ts', 'timestamp'),
      col('tz', 'timestamp with time zone'),
      col('dec', 'decimal'),
      col('nothing', 'varchar'),
      col('arr', 'array'),
    ];
    athena
      .on(GetQueryResultsCommand)
      .resolves(
        page(columns, [
          columns.map((c) => c.Name),
          [
            'x',
            '-9007199254740991',
            '9223372036854775807',
            '42',
            'true',
            'false',
            '0.25',
            '2024-03-04 08:00:00.123456',
            '2024-03-04 10:00:00.5 +02:00',
            '12.30',
            undefined,
            '[a, b]',
          ],
        ]),
      );

    // Act
    const { rows } = await e.select({ name: 'types', sql: 'SELECT …', params: [] });

    // Assess
    expect(rows).toEqual([
      {
        s: 'x',
        small: -9007199254740991,
        huge: '9223372036854775807',
        i: 42,
        b: true,
        f: false,
        d: 0.25,
        ts: '2024-03-04T08:00:00.123Z',
        tz: '2024-03-04T08:00:00.500Z',
        dec: '12.30',
        nothing: null,
        arr: '[a, b]',
      },
    ]);
  });

  it.each([
    ['bigint', 'abc'],
    ['boolean', 'yes'],
    ['double', 'x1'],
    ['timestamp', 'yesterday'],
  ])('refuses a %s cell holding %j with QUERY_FAILED', (type, text) => {
    expect(() => toCell(text, col('c', type), 'q')).toThrow(
      expect.objectContaining({ code: 'QUERY_FAILED' }),
    );
  });

  it('maps a FAILED query to QUERY_FAILED with Athena’s reason in the message', async () => {
    // Prepare
    const { engine: e } = engine();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-bad' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        QueryExecutionId: 'q-bad',
        Status: {
          State: 'FAILED',
          StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
          AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false },
        },
      },
    });

    // Act
    const err = await errorOf(e.select({ name: 'bad', sql: 'SELECT nope FROM t', params: [] }));

    // Assess
    expect(isSessiontrailError(err, 'QUERY_FAILED')).toBe(true);
    expect((err as Error).message).toContain("Column 'nope' cannot be resolved");
    expect((err as Error).message).toContain('q-bad');
  });

  it('maps a CANCELLED query (e.g. past the workgroup scan limit) to QUERY_FAILED with the reason', async () => {
    // Prepare
    const { engine: e } = engine();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-big' });
    athena
      .on(GetQueryExecutionCommand)
      .resolves(inState('q-big', 'CANCELLED', 'Query exhausted the data scanned limit of the workgroup'));

    // Act
    const err = await errorOf(e.select({ name: 'big', sql: 'SELECT 1', params: [] }));

    // Assess
    expect(isSessiontrailError(err, 'QUERY_FAILED')).toBe(true);
    expect((err as Error).message).toContain('data scanned limit');
  });

  it('retries TooManyRequestsException with backoff, reusing the ClientRequestToken, then succeeds', async () => {
    // Prepare
    const { engine: e, time } = engine();
    const throttled = () =>
      new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    athena
      .on(StartQueryExecutionCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ QueryExecutionId: 'q-t' });
    athena
      .on(GetQueryExecutionCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .resolves(succeeded('q-t'));
    athena.on(GetQueryResultsCommand).resolves(page([col('n', 'integer')], [['n'], ['1']]));

    // Act
    const { rows } = await e.select({ name: 'throttled', sql: 'SELECT 1 AS n', params: [] });

    // Assess
    expect(rows).toEqual([{ n: 1 }]);
    const tokens = athena
      .commandCalls(StartQueryExecutionCommand)
      .map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
    expect(time.sleeps).toEqual([99, 199, 99]);
  });

  it('gives up with ENGINE_UNAVAILABLE after 5 throttled tries, naming the Athena error', async () => {
    // Prepare
    const { engine: e } = engine();
    athena
      .on(StartQueryExecutionCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));

    // Act
    const err = await errorOf(e.select({ name: 'q', sql: 'SELECT 1', params: [] }));

    // Assess
    expect(isSessiontrailError(err, 'ENGINE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/TooManyRequestsException: Rate exceeded/);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(5);
  });

  it('maps an InvalidRequestException (bad SQL at submission) to QUERY_FAILED without retrying', async () => {
    // Prepare
    const { engine: e } = engine();
    athena
      .on(StartQueryExecutionCommand)
      .rejects(Object.assign(new Error('line 1:1: mismatched input'), { name: 'InvalidRequestException' }));

    // Act
    const err = await errorOf(e.select({ name: 'q', sql: 'SELEC 1', params: [] }));

    // Assess
    expect(isSessiontrailError(err, 'QUERY_FAILED')).toBe(true);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('stops a query that outlives the deadline and reports ENGINE_UNAVAILABLE', async () => {
    // Prepare
    const { engine: e, time } = engine({ deadlineMs: 5_000 });
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-forever' });
    athena.on(GetQueryExecutionCommand).resolves(inState('q-forever', 'RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});

    // Act
    const err = await errorOf(e.select({ name: 'forever', sql: 'SELECT 1', params: [] }));

    // Assess
    expect(isSessiontrailError(err, 'ENGINE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/did not finish within 5000 ms \(last state RUNNING\)/);
    expect(athena.commandCalls(StopQueryExecutionCommand)[0]?.args[0].input).toEqual({
      QueryExecutionId: 'q-forever',
    });
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
  });

  it('materializes with DROP TABLE IF EXISTS then CTAS as Parquet, parameters bound, rows from UpdateCount', async () => {
    // Prepare
    const { engine: e } = engine();
    let n = 0;
    athena.on(StartQueryExecutionCommand).callsFake(() => ({ QueryExecutionId: `q${++n}` }));
    athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
      const bytes = input.QueryExecutionId === 'q2' ? 5000 : 0;
      return succeeded(input.QueryExecutionId, bytes, 800);
    });
    athena.on(GetQueryResultsCommand).resolves({ UpdateCount: 321, ResultSet: { Rows: [] } });
    const p = new ParamList();
    const query = p.finish('normalise-windows', `SELECT * FROM raw WHERE dt >= ${p.add('2024-03-04')}`);

    // Act
    const run = await e.materialize('windows_lines', query);

    // Assess
    const inputs = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.QueryString)).toEqual([
      'DROP TABLE IF EXISTS `sessiontrail_work`.`run_0f3c2a9b_windows_lines`',
      `CREATE TABLE "sessiontrail_work"."run_0f3c2a9b_windows_lines" WITH (format = 'PARQUET') AS\nSELECT * FROM raw WHERE dt >= ?`,
    ]);
    expect(inputs[0]?.ExecutionParameters).toBeUndefined();
    expect(inputs[1]?.ExecutionParameters).toEqual(["'2024-03-04'"]);
    expect(run).toEqual({
      name: 'normalise-windows',
      engineQueryId: 'q2',
      rows: 321,
      durationMs: 800,
      bytesScanned: 5000,
    });
  });

  it('appends with INSERT INTO the working table, parameters bound, rows from UpdateCount, and refuses a missing count', async () => {
    // Prepare
    const { engine: e } = engine();
    let n = 0;
    athena.on(StartQueryExecutionCommand).callsFake(() => ({ QueryExecutionId: `q${++n}` }));
    athena
      .on(GetQueryExecutionCommand)
      .callsFake((input: { QueryExecutionId: string }) => succeeded(input.QueryExecutionId, 700, 90));
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q1' })
      .resolves({ UpdateCount: 12, ResultSet: { Rows: [] } })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q2' })
      .resolves({ ResultSet: { Rows: [] } });
    const p = new ParamList();
    const query = p.finish(
      'normalise-windows-part-2-of-2',
      `SELECT * FROM raw WHERE dt >= ${p.add('2024-03-04')}`,
    );

    // Act
    const run = await e.append('windows_lines', query);
    const refused = await e.append('windows_lines', query).catch((err: unknown) => err);

    // Assess
    const inputs = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(inputs[0]?.QueryString).toBe(
      'INSERT INTO "sessiontrail_work"."run_0f3c2a9b_windows_lines"\nSELECT * FROM raw WHERE dt >= ?',
    );
    expect(inputs[0]?.ExecutionParameters).toEqual(["'2024-03-04'"]);
    expect(run).toEqual({
      name: 'normalise-windows-part-2-of-2',
      engineQueryId: 'q1',
      rows: 12,
      durationMs: 90,
      bytesScanned: 700,
    });
    expect(isSessiontrailError(refused, 'QUERY_FAILED')).toBe(true);
    expect((refused as Error).message).toContain('did not report how many rows');
  });

  it('counts the working table when Athena reports no UpdateCount for the CTAS', async () => {
    // Prepare
    const { engine: e } = engine();
    let n = 0;
    athena.on(StartQueryExecutionCommand).callsFake(() => ({ QueryExecutionId: `q${++n}` }));
    athena
      .on(GetQueryExecutionCommand)
      .callsFake((input: { QueryExecutionId: string }) => succeeded(input.QueryExecutionId, 10));
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q2' })
      .resolves({ ResultSet: { Rows: [] } })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q3' })
      .resolves(page([col('n', 'bigint')], [['n'], ['77']]));

    // Act
    const run = await e.materialize('attributed', { name: 'attributed', sql: 'SELECT 1 AS x', params: [] });

    // Assess
    expect(athena.commandCalls(StartQueryExecutionCommand)[2]?.args[0].input.QueryString).toBe(
      'SELECT count(*) AS n FROM "sessiontrail_work"."run_0f3c2a9b_attributed"',
    );
    expect(run.rows).toBe(77);
    expect(run.bytesScanned).toBe(30);
  });

  it('drops every working table it created on close()', async () => {
    // Prepare
    const { engine: e } = engine();
    let n = 0;
    athena.on(StartQueryExecutionCommand).callsFake(() => ({ QueryExecutionId: `q${++n}` }));
    athena
      .on(GetQueryExecutionCommand)
      .callsFake((input: { QueryExecutionId: string }) => succeeded(input.QueryExecutionId));
    athena.on(GetQueryResultsCommand).resolves({ UpdateCount: 1 });
    await e.materialize('a_lines', { name: 'a', sql: 'SELECT 1 AS x', params: [] });
    await e.materialize('b_events', { name: 'b', sql: 'SELECT 1 AS x', params: [] });
    athena.resetHistory();

    // Act
    await e.close();

    // Assess
    expect(athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.QueryString)).toEqual([
      'DROP TABLE IF EXISTS `sessiontrail_work`.`run_0f3c2a9b_a_lines`',
      'DROP TABLE IF EXISTS `sessiontrail_work`.`run_0f3c2a9b_b_events`',
    ]);
  });

  it('describes itself with the workgroup’s effective engine version, read once', async () => {
    // Prepare
    const { engine: e } = engine();
    athena.on(GetWorkGroupCommand).resolves({
      WorkGroup: {
        Name: 'sessiontrail',
        Configuration: {
          EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
        },
      },
    });

    // Act
    const first = await e.describe();
    const second = await e.describe();

    // Assess
    expect(first).toEqual({ name: 'athena', version: 'Athena engine version 3' });
    expect(second).toEqual(first);
    expect(athena.commandCalls(GetWorkGroupCommand)).toHaveLength(1);
    expect(athena.commandCalls(GetWorkGroupCommand)[0]?.args[0].input).toEqual({ WorkGroup: 'sessiontrail' });
  });

  it('falls back to "Athena engine version 3" when the workgroup names no engine version', async () => {
    const { engine: e } = engine();
    athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'sessiontrail' } });
    expect(await e.describe()).toEqual({ name: 'athena', version: 'Athena engine version 3' });
  });
});

describe('athenaDialect', () => {
  it('names working tables "<workDatabase>"."<runId>_<name>"', () => {
    expect(athenaDialect('sessiontrail_work', 'run_1').workTable('session_events')).toBe(
      '"sessiontrail_work"."run_1_session_events"',
    );
  });

  it('accepts a run id that starts with a digit (it is never the start of an unquoted name)', () => {
    expect(athenaDialect('w', '20240304_ab12').workTable('t')).toBe('"w"."20240304_ab12_t"');
  });

  it.each([
    ['table name with a quote', 'w', 'run', 'x"; DROP TABLE y; --'],
    ['upper-case table name', 'w', 'run', 'Sessions'],
    ['table name with a dot', 'w', 'run', 'other.table'],
    ['empty table name', 'w', 'run', ''],
  ])('refuses a %s with BAD_IDENTIFIER', (_what, db, runId, name) => {
    const dialect = athenaDialect(db, runId);
    expect(() => dialect.workTable(name)).toThrow(expect.objectContaining({ code: 'BAD_IDENTIFIER' }));
  });

  it.each([
    ['work database with a hyphen', 'work-db', 'run'],
    ['upper-case run id', 'w', 'RUN'],
    ['run id with a hyphen', 'w', 'run-1'],
    ['empty run id', 'w', ''],
  ])('refuses a %s when the engine is built', (_what, workDatabase, runId) => {
    const err = (() => {
      try {
        new AthenaEngine({
          client: new AthenaClient({ region: 'eu-west-1' }),
          workGroup: 'g',
          workDatabase,
          runId,
        });
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(isSessiontrailError(err, 'BAD_IDENTIFIER')).toBe(true);
  });

  it('refuses a bad working-table name in materialize() before any query starts', async () => {
    athena.reset();
    const { engine: e } = engine();
    const err = await errorOf(e.materialize('x; DROP', { name: 'x', sql: 'SELECT 1', params: [] }));
    expect(isSessiontrailError(err, 'BAD_IDENTIFIER')).toBe(true);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it('is the Trino dialect in every other respect', () => {
    const athenaSql = athenaDialect('w', 'r');
    const trino = trinoDialect('w');
    expect(athenaSql.name).toBe('trino');
    expect(athenaSql.jsonPath(['a', 'b'])).toBe(trino.jsonPath(['a', 'b']));
    expect(athenaSql.epochMillis('t')).toBe(trino.epochMillis('t'));
    expect(athenaSql.sha256Hex('x')).toBe(trino.sha256Hex('x'));
    const [pa, pt] = [new ParamList(), new ParamList()];
    const input = { kind: 'table', table: 'logs.windows', dtFrom: '2024-03-01', dtTo: '2024-03-02' } as const;
    expect(athenaSql.rawLines(input, pa)).toBe(trino.rawLines(input, pt));
  });
});
