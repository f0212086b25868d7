/**
 * DuckDB runs with a memory limit and a spill folder the tool owns, removed on close and when the
 * process exits without closing (issue 10: a gzip bomb once left 13 GB of spill files in `.tmp`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { partName } from '../../lib/export/input-parts.ts';
import { duckdbDialect } from '../../lib/query/dialects/duckdb-dialect.ts';
import {
  checkMemoryLimit,
  DuckDbEngine,
  memoryLimitFor,
  NORMALISE_MEMORY_LIMIT,
  PACK_QUERY_MEMORY_LIMIT,
  RELEASED_MEMORY_LIMIT,
  STATEMENT_INPUT_BYTES,
  WHOLE_DOCUMENT_MEMORY_LIMIT,
} from '../../lib/query/duckdb/duckdb-engine.ts';
import { ParamList, type SqlQuery } from '../../lib/query/sql.ts';
import { CLOUDTRAIL_SOURCE } from '../../lib/sources/cloudtrail.ts';
import { SOURCE_NAMES, SOURCES } from '../../lib/sources/index.ts';
import { OCSF_SOURCE } from '../../lib/sources/ocsf.ts';
import { buildWindowsNormaliseQuery, WINDOWS_SOURCE } from '../../lib/sources/windows.ts';

describe('DuckDbEngine resources', () => {
  it('sets the memory limit and a spill folder of its own, and removes the folder on close', async () => {
    const root = mkdtempSync(join(tmpdir(), 'st-spill-'));
    const engine = await DuckDbEngine.open({ threads: 1, tempRoot: root });
    const { rows } = await engine.select({
      name: 'settings',
      sql: `SELECT current_setting('memory_limit') AS mem, current_setting('temp_directory') AS tmp`,
      params: [],
    });
    expect(NORMALISE_MEMORY_LIMIT).toBe('512MB');
    // A statement runs under the statements' limit; DuckDB reports it in GiB-based units:
    // 512 MB = 488.2 MiB.
    expect(String(rows[0]?.mem)).toBe('488.2 MiB');
    expect(rows[0]?.tmp).toBe(engine.tempDirectory);
    expect(engine.tempDirectory.startsWith(root)).toBe(true);
    expect(existsSync(engine.tempDirectory)).toBe(true);
    await engine.close();
    expect(readdirSync(root)).toEqual([]);
  });

  it('applies 2 GB where a statement reads whole JSON documents, 512 MB to every other statement, and an explicit limit to all', async () => {
    // The setting read inside each statement is the limit DuckDB applied to it (512 MB = 488.2 MiB,
    // 2 GB = 1.8 GiB in DuckDB's GiB-based units); they bound the Windows export,
    // and a 50 MiB CloudTrail document needs 2 GB (bench/RESULTS.md,
    // test/sources/cloudtrail-large-file.test.ts). The limit goes with what the built query reads
    // (its reader marks it), so each source's real normalising query is built, and its text
    // replaced by the probe: under its own name, a part's name, or any other.
    const setting = `SELECT current_setting('memory_limit') AS mem`;
    const input = { kind: 'files', files: [{ path: '/nonexistent/a.json', key: 'a.json' }] } as const;
    const built = (source: string) => SOURCES[source]?.buildNormaliseQuery(duckdbDialect, input) as SqlQuery;
    const probe = (q: SqlQuery, name = q.name): SqlQuery => ({ ...q, name, sql: setting, params: [] });
    const wholeDocument = new Set([CLOUDTRAIL_SOURCE, OCSF_SOURCE]);
    const engine = await DuckDbEngine.open({ threads: 1 });
    try {
      const limitOf = async (q: SqlQuery) => String((await engine.select(q)).rows[0]?.mem);
      for (const source of SOURCE_NAMES) {
        const q = built(source);
        const expected = wholeDocument.has(source) ? '1.8 GiB' : '488.2 MiB';
        expect(q.memory, source).toBe(wholeDocument.has(source) ? 'whole-document' : 'normalise');
        expect(await limitOf(probe(q)), source).toBe(expected);
        // A part keeps its query's limit whatever it is called.
        expect(await limitOf(probe(q, partName(q.name, 1, 3))), source).toBe(expected);
        expect(await limitOf(probe(q, 'renamed')), source).toBe(expected);
      }
      expect(await limitOf({ name: 'session-events', sql: setting, params: [] })).toBe('488.2 MiB');
      expect(await limitOf({ name: 'normalise-cloudtrail', sql: setting, params: [] })).toBe('488.2 MiB');
      await engine.materialize('limit_probe', probe(built(CLOUDTRAIL_SOURCE)));
      const read = await engine.select({
        name: 'probe',
        sql: `SELECT mem FROM ${engine.dialect.workTable('limit_probe')}`,
        params: [],
      });
      expect(String(read.rows[0]?.mem)).toBe('1.8 GiB');
    } finally {
      await engine.close();
    }
    expect(WHOLE_DOCUMENT_MEMORY_LIMIT).toBe('2GB');
    expect(memoryLimitFor({ memory: 'normalise' }, undefined)).toBe(NORMALISE_MEMORY_LIMIT);
    expect(memoryLimitFor({ memory: 'whole-document' }, undefined)).toBe(WHOLE_DOCUMENT_MEMORY_LIMIT);
    expect(memoryLimitFor({}, undefined)).toBe(PACK_QUERY_MEMORY_LIMIT);
    const fixed = await DuckDbEngine.open({ threads: 1, memoryLimit: '3GB' });
    try {
      for (const q of [built(WINDOWS_SOURCE), built(CLOUDTRAIL_SOURCE)]) {
        const { rows } = await fixed.select(probe(q));
        expect(String(rows[0]?.mem)).toBe('2.7 GiB');
      }
    } finally {
      await fixed.close();
    }
  });

  it('marks a statement by the largest reader in it', () => {
    const p = new ParamList();
    expect(p.finish('x', 'SELECT 1').memory).toBeUndefined();
    p.holds('whole-document');
    p.holds('normalise');
    expect(p.finish('x', 'SELECT 1').memory).toBe('whole-document');
  });

  it('refuses a memory limit that is no size, before it reaches DuckDB, and names it in the refusal', async () => {
    for (const good of ['512MB', '2GB', '1.5GB', '2GiB', '100MiB']) expect(checkMemoryLimit(good)).toBe(good);
    for (const bad of ['2', 'GB', '2 GB', '-1GB', "1GB'; SELECT 1; --", '10MB', '0GB', '2PB']) {
      expect(() => checkMemoryLimit(bad)).toThrow(/is not a size of at least 64MB/);
    }
    const root = mkdtempSync(join(tmpdir(), 'st-spill-bad-'));
    await expect(
      DuckDbEngine.open({ threads: 1, memoryLimit: 'lots', tempRoot: root }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('"lots"'),
    });
    // Refused before the spill folder is made.
    expect(readdirSync(root)).toEqual([]);
  });

  it('gives back its cached blocks on release, and still reads every working table after it', async () => {
    const engine = await DuckDbEngine.open({ threads: 1 });
    try {
      await engine.materialize('held', {
        name: 'held',
        sql: `SELECT i, md5(CAST(i AS VARCHAR)) || md5(CAST(i + 1 AS VARCHAR)) AS s FROM range(5000000) t(i)`,
        params: [],
      });
      const used = async () =>
        Number(
          (
            await engine.select({
              name: 'memory',
              sql: 'SELECT sum(memory_usage_bytes) AS b FROM duckdb_memory()',
              params: [],
            })
          ).rows[0]?.b,
        );
      const before = await used();
      // the table's blocks are held after it was written (the premise: something to give back)
      expect(before).toBeGreaterThan(2 * 64 * 1000 * 1000);
      await engine.release();
      expect(await used()).toBeLessThanOrEqual(64 * 1000 * 1000);
      const { rows } = await engine.select({
        name: 'count',
        sql: `SELECT count(*) AS n, count(DISTINCT s) AS d FROM ${engine.dialect.workTable('held')}`,
        params: [],
      });
      expect(rows[0]).toEqual({ n: 5000000, d: 5000000 });
    } finally {
      await engine.close();
    }
    expect(RELEASED_MEMORY_LIMIT).toBe('64MB');
  });

  it('says which limit a statement ran out of and how to raise it', async () => {
    // One list of 2 M strings of about 200 bytes (0.4 GB) is one value: DuckDB cannot spill it,
    // so under 64 MB the statement fails with an Out of Memory Error.
    const engine = await DuckDbEngine.open({ threads: 1, memoryLimit: '64MB' });
    try {
      await expect(
        engine.select({
          name: 'oom-probe',
          sql: `SELECT list(repeat('x', 200) || i) AS l FROM range(2000000) t(i)`,
          params: [],
        }),
      ).rejects.toThrow(/Out of Memory Error.*memory limit of 64MB.*--memory-limit/s);
    } finally {
      await engine.close();
    }
  });

  it('appends the rows of a later part to a working table, counting the rows added, under the same limit', async () => {
    const engine = await DuckDbEngine.open({ threads: 1, statementInputBytes: 1000 });
    try {
      expect(engine.statementInputBytes).toBe(1000);
      await engine.materialize('parts', {
        name: 'normalise-windows-part-1-of-2',
        sql: 'SELECT range AS x FROM range(4)',
        params: [],
      });
      const added = await engine.append('parts', {
        name: 'normalise-windows-part-2-of-2',
        sql: `SELECT range + ? AS x FROM range(3)`,
        params: [10],
      });
      expect(added.rows).toBe(3);
      const { rows } = await engine.select({
        name: 'read',
        sql: `SELECT count(*) AS n, sum(x) AS s FROM ${engine.dialect.workTable('parts')}`,
        params: [],
      });
      expect(rows).toEqual([{ n: 7, s: 0 + 1 + 2 + 3 + 10 + 11 + 12 }]);
    } finally {
      await engine.close();
    }
    const byDefault = await DuckDbEngine.open({ threads: 1 });
    expect(byDefault.statementInputBytes).toBe(STATEMENT_INPUT_BYTES);
    await byDefault.close();
  });

  it('removes the spill folder when the process exits without closing the engine', () => {
    const root = mkdtempSync(join(tmpdir(), 'st-spill-exit-'));
    const engineModule = new URL('../../lib/query/duckdb/duckdb-engine.ts', import.meta.url).pathname;
    const script = `import { DuckDbEngine } from ${JSON.stringify(engineModule)};
const e = await DuckDbEngine.open({ threads: 1, tempRoot: ${JSON.stringify(root)} });
console.log(e.tempDirectory);
process.exit(0);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout.trim().startsWith(root)).toBe(true);
    expect(readdirSync(root)).toEqual([]);
  });

  it('normalises Windows lines in one streaming pass: no part of the query is materialised with the raw lines', async () => {
    // A CTE read twice (events, then problems, then malformed lines) is materialised by DuckDB with
    // every raw line in it: memory that grows with the input, 1.56 GB at 0.25 M records (bench/RESULTS.md).
    const dir = mkdtempSync(join(tmpdir(), 'st-stream-'));
    const file = join(dir, 'a.json');
    writeFileSync(file, '{"EventID":4624,"Channel":"Security"}\n');
    const engine = await DuckDbEngine.open({ threads: 1 });
    try {
      const q = buildWindowsNormaliseQuery(engine.dialect, {
        kind: 'files',
        files: [{ path: file, key: 'a.json' }],
      });
      const { rows } = await engine.select({ name: 'explain', sql: `EXPLAIN ${q.sql}`, params: q.params });
      const plan = rows.map((r) => String(r.explain_value)).join('\n');
      expect(plan).toContain('READ_CSV');
      expect(plan).not.toMatch(/CTE_SCAN|CTE Name/);
    } finally {
      await engine.close();
    }
  });

  it('numbers the lines of each file while streaming: no window over the input, line numbers of the file', async () => {
    // A window numbering the lines of one multi-file read per file held every line of the input:
    // 0.96 GB at 0.25 M records (bench/RESULTS.md). Each file's own read numbers its lines instead.
    const dir = mkdtempSync(join(tmpdir(), 'st-lines-'));
    writeFileSync(join(dir, 'a.json'), 'a1\n\n \t\na4\n\u0002marker\na6\n');
    writeFileSync(join(dir, 'b.json'), 'b1\nb2\n');
    const engine = await DuckDbEngine.open({ threads: 2 });
    try {
      const p = new ParamList();
      const lines = engine.dialect.rawLines(
        {
          kind: 'files',
          files: [
            { path: join(dir, 'a.json'), key: 'a.json' },
            { path: join(dir, 'b.json'), key: 'b.json' },
          ],
        },
        p,
      );
      const q = p.finish(
        'lines',
        `SELECT object_key, line, line_no FROM ${lines} ORDER BY object_key, line_no`,
      );
      const { rows } = await engine.select(q);
      // Blank lines (empty, spaces and a tab) and the intake's marker lines are numbered but no records.
      expect(rows).toEqual([
        { object_key: 'a.json', line: 'a1', line_no: 1 },
        { object_key: 'a.json', line: 'a4', line_no: 4 },
        { object_key: 'a.json', line: 'a6', line_no: 6 },
        { object_key: 'b.json', line: 'b1', line_no: 1 },
        { object_key: 'b.json', line: 'b2', line_no: 2 },
      ]);
      const plan = (await engine.select({ name: 'explain', sql: `EXPLAIN ${q.sql}`, params: q.params })).rows
        .map((r) => String(r.explain_value))
        .join('\n');
      expect(plan).toContain('READ_CSV');
      // WITH ORDINALITY is a streaming window; a (blocking) WINDOW would hold the input.
      expect(plan.replaceAll('STREAMING_WINDOW', '')).not.toContain('WINDOW');
    } finally {
      await engine.close();
    }
  });

  it('keeps the working tables in the database file of its spill folder, not in memory', async () => {
    // In memory, the Windows lines table took about 570 bytes per raw line, uncompressed
    // (bench/RESULTS.md); in the file DuckDB compresses it and can leave it on disk.
    const engine = await DuckDbEngine.open({ threads: 1 });
    try {
      await engine.materialize('work_probe', {
        name: 'probe',
        sql: 'SELECT range AS n FROM range(3)',
        params: [],
      });
      const { rows } = await engine.select({
        name: 'where',
        sql: `SELECT t.temporary, d.path FROM duckdb_tables() t JOIN duckdb_databases() d USING (database_name) WHERE t.table_name = 'work_probe'`,
        params: [],
      });
      expect(rows).toEqual([{ temporary: false, path: join(engine.tempDirectory, 'work.duckdb') }]);
    } finally {
      await engine.close();
    }
  });
});
