/**
 * DuckDB runs with a memory limit and a spill folder the tool owns, removed on close and when the
 * process exits without closing (issue 10: a gzip bomb once left 13 GB of spill files in `.tmp`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_LIMIT, DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { buildWindowsNormaliseQuery } from '../../lib/sources/windows.ts';

describe('DuckDbEngine resources', () => {
  it('sets the memory limit and a spill folder of its own, and removes the folder on close', async () => {
    const root = mkdtempSync(join(tmpdir(), 'st-spill-'));
    const engine = await DuckDbEngine.open({ threads: 1, tempRoot: root });
    const { rows } = await engine.select({
      name: 'settings',
      sql: `SELECT current_setting('memory_limit') AS mem, current_setting('temp_directory') AS tmp`,
      params: [],
    });
    expect(DEFAULT_MEMORY_LIMIT).toBe('2GB');
    // DuckDB reports the limit in GiB-based units: 2 GB = 1.8 GiB.
    expect(String(rows[0]?.mem)).toMatch(/^1\.8 GiB$/);
    expect(rows[0]?.tmp).toBe(engine.tempDirectory);
    expect(engine.tempDirectory.startsWith(root)).toBe(true);
    expect(existsSync(engine.tempDirectory)).toBe(true);
    await engine.close();
    expect(readdirSync(root)).toEqual([]);
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
});
