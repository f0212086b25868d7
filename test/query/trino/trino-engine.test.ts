/**
 * The Trino adapter: parameter binding, result typing, query ids and stats, error codes, working
 * tables. The pure parts (literals, exact JSON, DDL) run everywhere; the rest needs a Trino
 * (TRINO_URL) and is skipped with the reason without one, failed when SESSIONTRAIL_REQUIRE_TRINO=1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../../lib/errors.ts';
import { catalogTables } from '../../../lib/locate/catalog-tables.ts';
import { buildRawTableDdl } from '../../../lib/locate/raw-table-ddl.ts';
import { tableLocator } from '../../../lib/locate/table-locator.ts';
import { ParamList } from '../../../lib/query/sql.ts';
import { TrinoEngine, toLiteral } from '../../../lib/query/trino/trino-engine.ts';
import { parseExactJson } from '../../../lib/query/trino/trino-json.ts';
import { rawTableOf } from '../../../lib/sources/raw-table.ts';
import { testEngine, trinoAvailability, uniqueName } from './trino-test-server.ts';

const trino = await trinoAvailability();

describe('parseExactJson', () => {
  it.each([
    ['9223372036854775807', '9223372036854775807'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['9007199254740991', 9007199254740991],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['"a\\"b\\u00e9"', 'a"bé'],
    ['[true,false,null,{"k":[]}]', [true, false, null, { k: [] }]],
  ])('parses %s exactly', (text, expected) => {
    expect(parseExactJson(text)).toEqual(expected);
  });

  it('refuses a document that is not JSON with QUERY_FAILED', () => {
    expect(() => parseExactJson('{"a":1')).toThrow(expect.objectContaining({ code: 'QUERY_FAILED' }));
    expect(() => parseExactJson('[1] x')).toThrow(expect.objectContaining({ code: 'QUERY_FAILED' }));
  });
});

describe('toLiteral', () => {
  it.each([
    [null, 'NULL'],
    [true, 'true'],
    [42, "BIGINT '42'"],
    [1.5, "DOUBLE '1.5'"],
    [1234567890123456789n, "BIGINT '1234567890123456789'"],
    ["O'Brien\\", "'O''Brien\\'"],
    [['a', "b'c"], "ARRAY['a', 'b''c']"],
    [[], 'CAST(ARRAY[] AS ARRAY(VARCHAR))'],
  ] as const)('renders a parameter as the literal %#', (value, expected) => {
    expect(toLiteral(value)).toBe(expected);
  });

  it('refuses a non-finite number as an INTERNAL error (values are computed by the tool)', () => {
    expect(() => toLiteral(Number.NaN)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('buildRawTableDdl', () => {
  it('makes the raw-line table from the spec: line, dt partition, TEXTFILE split on U+0001', () => {
    const [drop, create, sync] = buildRawTableDdl(rawTableOf('windows'), {
      catalog: 'hive',
      schema: 'raw',
      location: 'local:///logs/windows',
    });
    expect(drop).toBe('DROP TABLE IF EXISTS hive.raw.windows_raw');
    expect(create).toContain('CREATE TABLE hive.raw.windows_raw ("line" varchar, dt varchar)');
    expect(create).toContain("external_location = 'local:///logs/windows'");
    expect(create).toContain("partitioned_by = ARRAY['dt']");
    expect(create).toContain("textfile_field_separator = U&'\\0001'");
    expect(sync).toBe("CALL hive.system.sync_partition_metadata('raw', 'windows_raw', 'FULL', false)");
  });
});

describe('TrinoEngine without a server', () => {
  it('reports ENGINE_UNAVAILABLE when nothing listens at the URL', async () => {
    const engine = new TrinoEngine({
      server: 'http://127.0.0.1:1',
      workCatalog: 'memory',
      workSchema: 'work',
      user: 'test',
    });
    const err = await engine.select({ name: 'q', sql: 'SELECT 1', params: [] }).catch((e: unknown) => e);
    expect(isSessiontrailError(err, 'ENGINE_UNAVAILABLE')).toBe(true);
    expect(String((err as Error).message)).toContain('http://127.0.0.1:1');
  });

  it('reads raw lines from <catalog>.<schema>.<source>_raw for the days of the window', async () => {
    const engine = new TrinoEngine({
      server: 'http://127.0.0.1:1',
      workCatalog: 'memory',
      workSchema: 'work',
      user: 'test',
    });
    const locator = tableLocator(catalogTables(['windows'], { catalog: 'hive', schema: 'raw' }));
    expect(await locator.sources()).toEqual(['windows']);
    const located = await locator.locate(
      'windows',
      Date.parse('2024-05-05T00:00:00Z'),
      Date.parse('2024-05-09T00:00:00Z'),
    );
    expect(located.input).toEqual({
      kind: 'table',
      table: 'hive.raw.windows_raw',
      dtFrom: '2024-05-05',
      dtTo: '2024-05-08',
      skipEmptyLines: true,
      format: 'lines',
    });
    const p = new ParamList();
    const sql = engine.dialect.rawLines(
      { kind: 'table', table: 'hive.raw.windows_raw', dtFrom: 'a', dtTo: 'b', keyPrefix: 'local:///x/' },
      p,
    );
    const q = p.finish('q', sql);
    expect(q.params).toEqual(['local:///x/', 12, 'a', 'b']);
    // The pack's copy of the query names no machine-specific path.
    expect(q.recordedParams).toEqual(['<logs root>/', '<length of logs root> + 1', 'a', 'b']);
  });
});

if (trino.unavailable !== null && trino.required) {
  describe('TrinoEngine (Trino required)', () => {
    it('has a reachable Trino', () => {
      throw new Error(`SESSIONTRAIL_REQUIRE_TRINO=1 but ${trino.unavailable}`);
    });
  });
}

describe.skipIf(trino.unavailable !== null)(
  `TrinoEngine on a real Trino${trino.unavailable === null ? '' : ` (skipped: ${trino.unavailable})`}`,
  () => {
    let engine: TrinoEngine;
    beforeAll(() => {
      engine = testEngine(trino.url as string, 'raw', uniqueName('work_engine'));
    });
    afterAll(async () => {
      await engine.close();
    });

    it('describes itself as trino with the server version', async () => {
      const info = await engine.describe();
      expect(info.name).toBe('trino');
      expect(info.version).toMatch(/^\d+/);
    });

    it('binds every kind of parameter as a value, never as SQL text', async () => {
      const { rows } = await engine.select({
        name: 'params',
        sql: `SELECT ? AS s, ? AS n, ? AS b, ? AS z, cardinality(?) AS c, ? AS big, ? AS f, ? = 'x'' OR 1=1 --' AS same_text`,
        params: ["it's", 42, true, null, ['a', 'b'], 1_700_000_000_000, 0.25, "x' OR 1=1 --"],
      });
      expect(rows).toEqual([
        { s: "it's", n: 42, b: true, z: null, c: 2, big: 1_700_000_000_000, f: 0.25, same_text: true },
      ]);
    });

    it('types results as the DuckDB adapter does: exact BIGINTs, booleans, varchar, null, decimals', async () => {
      const { rows } = await engine.select({
        name: 'types',
        sql: `SELECT BIGINT '9223372036854775807' AS max_big, BIGINT '9007199254740991' AS safe, 3 > 2 AS yes,
  CAST(NULL AS VARCHAR) AS nothing, 'é' AS text, DECIMAL '1.50' AS dec, CAST(7 AS INTEGER) AS i`,
        params: [],
      });
      expect(rows).toEqual([
        {
          max_big: '9223372036854775807',
          safe: 9007199254740991,
          yes: true,
          nothing: null,
          text: 'é',
          dec: 1.5,
          i: 7,
        },
      ]);
    });

    it('records the query id, the bytes processed and the elapsed time of a run', async () => {
      const { run } = await engine.select({
        name: 'stats',
        sql: 'SELECT count(*) AS n FROM UNNEST(sequence(1, 1000)) AS t(x) WHERE x > ?',
        params: [10],
      });
      expect(run.name).toBe('stats');
      expect(run.engineQueryId).toMatch(/^\d{8}_\d{6}_\d{5}_\w+$/);
      expect(run.rows).toBe(1);
      expect(run.bytesScanned).not.toBeNull();
      expect(run.durationMs).toBeGreaterThanOrEqual(0);
    });

    it("fails with QUERY_FAILED carrying Trino's error name and message", async () => {
      const err = await engine
        .select({ name: 'bad', sql: 'SELECT no_such_column FROM (VALUES 1) AS t(x)', params: [] })
        .catch((e: unknown) => e);
      expect(isSessiontrailError(err, 'QUERY_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(/query bad .*COLUMN_NOT_FOUND: .*no_such_column/);
    });

    it('materialises a working table with CREATE TABLE AS, replacing one of the same name', async () => {
      const first = await engine.materialize('things', {
        name: 'things',
        sql: 'SELECT x FROM UNNEST(sequence(1, ?)) AS t(x)',
        params: [5],
      });
      expect(first.rows).toBe(5);
      expect(first.engineQueryId).not.toBeNull();
      const second = await engine.materialize('things', {
        name: 'things',
        sql: 'SELECT x FROM UNNEST(sequence(1, ?)) AS t(x)',
        params: [3],
      });
      expect(second.rows).toBe(3);
      const { rows } = await engine.select({
        name: 'read',
        sql: `SELECT count(*) AS n, max(x) AS m FROM ${engine.dialect.workTable('things')}`,
        params: [],
      });
      expect(rows).toEqual([{ n: 3, m: 3 }]);
    });

    it('appends the rows of a later part to a working table with INSERT INTO, counting the rows added', async () => {
      await engine.materialize('parts', {
        name: 'part-1',
        sql: 'SELECT x FROM UNNEST(sequence(1, ?)) AS t(x)',
        params: [4],
      });
      const added = await engine.append('parts', {
        name: 'part-2',
        sql: 'SELECT x FROM UNNEST(sequence(?, ?)) AS t(x)',
        params: [10, 12],
      });
      expect(added.rows).toBe(3);
      expect(added.name).toBe('part-2');
      const { rows } = await engine.select({
        name: 'read',
        sql: `SELECT count(*) AS n, sum(x) AS s FROM ${engine.dialect.workTable('parts')}`,
        params: [],
      });
      expect(rows).toEqual([{ n: 7, s: 1 + 2 + 3 + 4 + 10 + 11 + 12 }]);
    });
  },
);
