/**
 * Every statement the Athena engine sends for a pack over every source, recorded from a mocked
 * Athena API (aws-sdk-client-mock: no Athena runs here; the statements themselves run on Trino in
 * the conformance suite's Athena mode). The Athena user guide: "`?` parameters can be placed only in
 * the WHERE clause". The queries as the builders make them have `?` in select lists and CASE
 * expressions; as sent, none is outside a WHERE clause and each has its execution parameter.
 */

import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../../lib/clock.ts';
import { DEFAULT_CONFIG } from '../../../lib/config/config.ts';
import type { ExportRequest } from '../../../lib/evidence/request.ts';
import { type ExportResult, exportEvidence } from '../../../lib/export/export-evidence.ts';
import { sourceTableOf } from '../../../lib/locate/raw-input-plan.ts';
import { tableLocator } from '../../../lib/locate/table-locator.ts';
import { AthenaEngine } from '../../../lib/query/athena/athena-engine.ts';
import { athenaQuery, placeholderClauses } from '../../../lib/query/athena/athena-sql.ts';
import type { QueryEngine } from '../../../lib/query/query-engine.ts';
import type { SqlQuery } from '../../../lib/query/sql.ts';
import { LocalKeySigner } from '../../../lib/signing/local-key-signer.ts';
import { SOURCE_NAMES, SOURCES } from '../../../lib/sources/index.ts';
import { FsEvidenceStore } from '../../../lib/storage/fs-evidence-store.ts';
import { makeKey } from '../../helpers/local-export.ts';

const athena = mockClient(AthenaClient);

afterEach(() => {
  athena.reset();
});

/**
 * Runs a pack over every source on AthenaEngine against the mocked Athena API, which answers every
 * query with success and no rows; `wrap` may put a spy engine around the adapter. Returns the pack
 * and the StartQueryExecution inputs as sent, in order.
 */
async function exportOnMockedAthena(options: {
  readonly request: ExportRequest;
  readonly runId: string;
  readonly logsRoot: string;
  readonly wrap?: (adapter: AthenaEngine) => QueryEngine;
}): Promise<{ result: ExportResult; storeRoot: string; sent: StartQueryExecutionCommandInput[] }> {
  let n = 0;
  athena.on(GetWorkGroupCommand).resolves({});
  athena.on(StartQueryExecutionCommand).callsFake(() => ({ QueryExecutionId: `q${++n}` }));
  athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => ({
    QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: 'SUCCEEDED' } },
  }));
  athena
    .on(GetQueryResultsCommand)
    .resolves({ UpdateCount: 0, ResultSet: { ResultSetMetadata: { ColumnInfo: [] }, Rows: [] } });
  const adapter = new AthenaEngine({
    client: new AthenaClient({ region: 'eu-west-1' }),
    workGroup: 'sessiontrail',
    workDatabase: 'sessiontrail_work',
    runId: options.runId,
    sleep: async () => {},
  });
  const engine = options.wrap ? options.wrap(adapter) : adapter;
  const tables = Object.fromEntries(
    SOURCE_NAMES.map((s) => [
      s,
      sourceTableOf(SOURCES[s]?.rawTable as never, {
        database: 'sessiontrail_raw',
        logsRoot: options.logsRoot,
      }),
    ]),
  );
  const storeRoot = await mkdtemp(join(tmpdir(), 'st-athena-'));
  const result = await exportEvidence(options.request, {
    engine,
    store: new FsEvidenceStore(storeRoot),
    signer: await LocalKeySigner.fromFile(await makeKey()),
    clock: fixedClock('2026-01-01T00:00:00.000Z'),
    config: DEFAULT_CONFIG,
    locator: tableLocator(tables),
    toolVersion: '0.0.0-test',
  });
  await engine.close();
  const sent = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
  return { result, storeRoot, sent };
}

describe('the statements AthenaEngine sends for a pack over every source (aws-sdk-client-mock)', () => {
  it('have ? only in WHERE clauses, one execution parameter each, and the pack records each as sent', async () => {
    // Prepare: the queries as the builders made them, seen where the export binds them for the engine.
    const built: SqlQuery[] = [];
    const spy = (adapter: AthenaEngine): QueryEngine => ({
      dialect: {
        ...adapter.dialect,
        bindValues: (q) => {
          built.push(q);
          return athenaQuery(q);
        },
      },
      describe: () => adapter.describe(),
      materialize: (t, q) => adapter.materialize(t, q),
      append: (t, q) => adapter.append(t, q),
      select: (q) => adapter.select(q),
      release: () => adapter.release(),
      close: () => adapter.close(),
    });

    // Act
    const { result, storeRoot, sent } = await exportOnMockedAthena({
      request: {
        kind: 'incident',
        incidentId: 'INC-1',
        allowEmpty: true,
        users: ['alice', "o'brien"],
        hosts: ['WS01'],
        from: '2024-03-01T00:00:00Z',
        to: '2024-03-03T00:00:00Z',
        sources: SOURCE_NAMES,
      },
      runId: 'p_statements',
      logsRoot: "s3://logs-bucket/it's/",
      wrap: spy,
    });

    // Assess
    const clausesOf = (sql: string) => placeholderClauses(sql);
    const builtOutside = built.flatMap((q) => clausesOf(q.sql)).filter((c) => c !== 'where').length;
    // The builders do put values in select lists and CASE expressions: the check below is not empty.
    expect(builtOutside).toBeGreaterThan(0);
    expect(sent.length).toBeGreaterThan(built.length);
    let inWhere = 0;
    for (const s of sent) {
      const clauses = clausesOf(s.QueryString ?? '');
      expect(
        clauses.filter((c) => c !== 'where'),
        s.QueryString?.slice(0, 120),
      ).toEqual([]);
      expect(clauses.length).toBe(s.ExecutionParameters?.length ?? 0);
      inWhere += clauses.length;
    }
    expect(inWhere).toBeGreaterThan(0);
    // The pack's queries/*.sql: the text each query was sent with (a CTAS wraps it).
    const dir = join(storeRoot, result.dir, 'queries');
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(built.length);
    const texts = sent.map((s) => (s.QueryString ?? '').trim());
    for (const file of files) {
      const lines = (await readFile(join(dir, file), 'utf8')).split('\n');
      while (/^-- (\S+: positional parameters|local file paths|\$\d+ = )/.test(lines[0] ?? '')) lines.shift();
      const sql = lines.join('\n').trim();
      expect(
        texts.some((t) => t === sql || (t.startsWith('CREATE TABLE ') && t.endsWith(sql))),
        file,
      ).toBe(true);
    }
    console.info(
      `${SOURCE_NAMES.length} sources: ${sent.length} statements sent, ${inWhere} ? in WHERE clauses; as built, ${built.length} queries had ${builtOutside} ? outside WHERE`,
    );
  });

  it('read each raw table once per pack: one CREATE TABLE AS per source, every later step reads the working tables', async () => {
    // Athena bills the bytes each query scans (its pricing: "charged based on the amount of data
    // scanned by each query"), so a pack's cost is its raw tables' bytes only if each is read once.
    // Prepare
    const rawTables = Object.fromEntries(
      SOURCE_NAMES.map((s) => [s, `sessiontrail_raw.${SOURCES[s]?.rawTable.table}`]),
    );

    // Act: a 30-day review over every source (the window's length must not multiply the reads).
    const { sent: inputs } = await exportOnMockedAthena({
      request: {
        kind: 'review',
        from: '2024-03-01T00:00:00Z',
        to: '2024-03-31T00:00:00Z',
        sources: SOURCE_NAMES,
      },
      runId: 'p_raw_once',
      logsRoot: 's3://logs/',
    });

    // Assess: per source, the statements that name its raw table.
    const sent = inputs.map((input) => input.QueryString ?? '');
    expect(sent.length).toBeGreaterThan(SOURCE_NAMES.length);
    for (const source of SOURCE_NAMES) {
      const raw = rawTables[source] as string;
      const names = new RegExp(`(?<![\\w.])${raw.replace('.', '\\.')}(?!\\w)`);
      const reads = sent.filter((sql) => names.test(sql));
      expect(reads, `${source}: statements naming ${raw}`).toHaveLength(1);
      expect(reads[0], source).toMatch(/^\s*CREATE TABLE /);
    }
  });
});
