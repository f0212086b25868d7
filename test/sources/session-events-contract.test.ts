/**
 * The session-events contract, checked on every registered source: its normalising query, run on
 * real DuckDB over its seeded sample, produces exactly the classified-lines columns of
 * `lib/query/session-events.ts` (names, order, types), and only the statuses and kinds the
 * contract names. A source that adds, drops, renames or retypes a column fails here, not in a pack.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import { localLocator } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import {
  CLASSIFIED_COLUMNS,
  classifiedRow,
  LINE_STATUSES,
  SESSION_EVENT_KINDS,
} from '../../lib/query/session-events.ts';
import { SOURCE_NAMES, SOURCES } from '../../lib/sources/index.ts';
import { generateSamples, SAMPLE_KINDS } from '../../sample/samples.ts';

describe('the session-events contract', () => {
  let logs: string;
  let engine: DuckDbEngine;

  beforeAll(async () => {
    logs = await mkdtemp(join(tmpdir(), 'st-contract-'));
    await generateSamples({
      kinds: SAMPLE_KINDS,
      seed: 7,
      hosts: 3,
      days: 1,
      from: '2024-03-04',
      outDir: logs,
    });
    engine = await DuckDbEngine.open({ threads: 1 });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await rm(logs, { recursive: true, force: true });
  });

  it('is held by a sample of every registered source', async () => {
    expect([...(await localLocator(logs).sources())].sort()).toEqual([...SOURCE_NAMES].sort());
  });

  it.each(
    SOURCE_NAMES,
  )('%s: its classified lines have exactly the contract columns, in order, typed', async (source) => {
    // Prepare
    const located = await localLocator(logs).locate(
      source,
      Date.parse('2024-03-03T00:00:00Z'),
      Date.parse('2024-03-06T00:00:00Z'),
    );
    const table = `${source}_contract`;
    // Act
    await engine.materialize(
      table,
      SOURCES[source]!.buildNormaliseQuery(engine.dialect, located.input, DEFAULT_CONFIG),
    );
    await located.cleanup();
    const { rows: described } = await engine.select({
      name: 'describe',
      sql: `DESCRIBE ${engine.dialect.workTable(table)}`,
      params: [],
    });
    const { rows: values } = await engine.select({
      name: 'values',
      sql: `SELECT DISTINCT status, kind FROM ${engine.dialect.workTable(table)}`,
      params: [],
    });
    // Assess
    expect(described.map((r) => `${r.column_name} ${r.column_type}`)).toEqual(
      CLASSIFIED_COLUMNS.map((c) => `${c.name} ${c.type}`),
    );
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) {
      expect(LINE_STATUSES).toContain(v.status);
      if (v.status === 'event') expect(SESSION_EVENT_KINDS).toContain(v.kind);
    }
    expect(values.some((v) => v.status === 'event')).toBe(true);
  });
});

describe('classifiedRow', () => {
  it('writes every column in contract order, typed NULLs for the ones not given', () => {
    const list = classifiedRow({ status: `'rejected'`, reason: `'malformed_json'` }).split(',\n  ');
    expect(list).toHaveLength(CLASSIFIED_COLUMNS.length);
    expect(list[0]).toBe(`'rejected' AS status`);
    expect(list[4]).toBe('CAST(NULL AS BIGINT) AS record_no');
  });

  it('refuses a column the contract does not have', () => {
    // A key built at run time escapes the type check: the function still refuses it.
    const misspelt = JSON.parse('{"sesion_uid": "x"}') as Record<string, string>;
    expect(() => classifiedRow(misspelt)).toThrow(/sesion_uid is not a classified-lines column/);
  });
});
