/**
 * The normalising query on edge-case lines that the real datasets do not hold, on DuckDB and on
 * Trino, row for row: time formats, JSON values of every type where text is expected, malformed
 * and blank lines, escapes, line endings. Each case is one line in a file of its own day.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLocalLogs } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../lib/query/query-engine.ts';
import type { SqlQuery } from '../../lib/query/sql.ts';
import { buildWindowsNormaliseQuery } from '../../lib/sources/windows.ts';
import type { TestTrinoEngine } from '../query/trino/trino-test-server.ts';
import {
  registerRawTables,
  removeDir,
  type StagedLogs,
  testEngine,
  trinoAvailability,
  uniqueName,
} from '../query/trino/trino-test-server.ts';
import { diffRows } from './conformance-harness.ts';
import { CASES, KNOWN } from './windows-edge-cases.ts';

const trino = await trinoAvailability();

if (trino.unavailable !== null && trino.required) {
  describe('normalising edge-case lines (Trino required)', () => {
    it('has a reachable Trino', () => {
      throw new Error(`SESSIONTRAIL_REQUIRE_TRINO=1 but ${trino.unavailable}`);
    });
  });
}

describe.skipIf(trino.unavailable !== null)(
  `normalising edge-case lines, DuckDB vs Trino${trino.unavailable === null ? '' : ` (skipped: ${trino.unavailable})`}`,
  () => {
    let root: string;
    let staged: StagedLogs;
    let duck: DuckDbEngine;
    let tri: TestTrinoEngine;
    const schema = uniqueName('raw_edges');
    const day = (i: number) => new Date(Date.UTC(2030, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'st-edges-'));
      for (const [i, [, content]] of [...CASES, ...KNOWN].entries()) {
        const dir = join(root, 'windows', `dt=${day(i)}`);
        await mkdir(dir, { recursive: true });
        // Every other case gzipped: both readers decompress by extension.
        if (i % 2 === 0) await writeFile(join(dir, 'case.json'), content);
        else await writeFile(join(dir, 'case.json.gz'), gzipSync(Buffer.from(content)));
      }
      duck = await DuckDbEngine.open({ threads: 1 });
      tri = testEngine(trino.url as string, schema);
      staged = await registerRawTables(tri, root, schema, ['windows']);
    }, 120_000);

    afterAll(async () => {
      await duck?.close();
      await tri?.close();
      await staged?.remove();
      if (root !== undefined) await removeDir(root);
    });

    const rowsOf = async (engine: DuckDbEngine | TestTrinoEngine, q: SqlQuery): Promise<Row[]> => {
      await engine.materialize('edge_lines', q);
      return (
        await engine.select({
          name: 'read',
          sql: `SELECT * FROM ${engine.dialect.workTable('edge_lines')}`,
          params: [],
        })
      ).rows;
    };

    /**
     * A record without a record number is referred to by its line (`#line=N`) where the engine
     * numbers lines (DuckDB), else by its line's digest (`#sha256=…`: Hive text tables give no line
     * number). That one column is compared as "a reference to the line"; its uid, built from the
     * file, the line's content and its occurrence, is compared as is.
     */
    const byLine = (rows: Row[]): Row[] =>
      rows.map((r) =>
        r.record_no === null && typeof r.raw_ref === 'string'
          ? { ...r, raw_ref: r.raw_ref.replace(/#(line=[0-9]+|sha256=[0-9a-f]{16})$/, '#<the line>') }
          : r,
      );

    it.each(CASES.map(([name], i) => [name, i] as const))(
      '%s: same rows',
      async (name, i) => {
        const from = Date.parse(day(i));
        const found = await findLocalLogs(root, 'windows', from, from + 86_400_000);
        const d = await rowsOf(
          duck,
          buildWindowsNormaliseQuery(duck.dialect, { kind: 'files', files: found.files }),
        );
        const t = await rowsOf(
          tri,
          buildWindowsNormaliseQuery(
            tri.dialect,
            tri.rawInput('windows', from, from + 86_400_000, staged.keyPrefix),
          ),
        );
        expect(diffRows(name, byLine(d), byLine(t)) ?? '').toBe('');
      },
      60_000,
    );

    it.each(KNOWN.map(([name], i) => [name, CASES.length + i] as const))(
      '%s: still differs (documented, not shimmed)',
      async (name, i) => {
        const from = Date.parse(day(i));
        const found = await findLocalLogs(root, 'windows', from, from + 86_400_000);
        const d = await rowsOf(
          duck,
          buildWindowsNormaliseQuery(duck.dialect, { kind: 'files', files: found.files }),
        );
        const t = await rowsOf(
          tri,
          buildWindowsNormaliseQuery(
            tri.dialect,
            tri.rawInput('windows', from, from + 86_400_000, staged.keyPrefix),
          ),
        );
        expect(diffRows(name, d, t)).not.toBeNull();
      },
      60_000,
    );
  },
);
