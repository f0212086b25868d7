/**
 * The query step lists an S3 table input's objects (Athena): after normalising a source it asks the
 * engine which objects the lines came from (`objects-read`, recorded among the pack's queries) and
 * S3 for their versions. The engine is a fake that `satisfies QueryEngine` (Athena itself cannot be
 * reached here) with the real Athena dialect; S3 is moto's server on 127.0.0.1 with the real SDK.
 */
import { createHash } from 'node:crypto';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import { planPack } from '../../lib/export/plan-pack.ts';
import { runQueries } from '../../lib/export/run-queries.ts';
import { planRawInput, sourceTableOf } from '../../lib/locate/raw-input-plan.ts';
import type { RawLogLocator } from '../../lib/locate/raw-log-locator.ts';
import { s3ObjectVersions } from '../../lib/locate/s3-object-versions.ts';
import { athenaDialect } from '../../lib/query/athena/athena-dialect.ts';
import type { QueryEngine, Row } from '../../lib/query/query-engine.ts';
import type { SqlQuery } from '../../lib/query/sql.ts';
import { SOURCES } from '../../lib/sources/index.ts';
import type { RawTableSpec } from '../../lib/sources/raw-table.ts';
import { type MotoServer, startMotoServer } from '../helpers/moto-server.ts';

const BUCKET = 'corp-security-logs';
const KEY = 'windows/dt=2024-03-04/a.json';

describe('Athena inputs: the objects the engine read, described by S3 (fake engine, moto S3)', () => {
  let moto: MotoServer;
  let version: string | undefined;
  const body = Buffer.from('{"EventID":4624}\n{"EventID":4634}\n');

  beforeAll(async () => {
    moto = await startMotoServer();
    const s3 = moto.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    version = (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `logs/${KEY}`, Body: body })))
      .VersionId;
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('lists each object with its S3 version and records the objects-read query among the pack queries', async () => {
    // Prepare: the engine answers objects-read with the object and the records it gave, nothing else.
    const sent: string[] = [];
    const engine = {
      dialect: athenaDialect('sessiontrail_work', 'test_run'),
      describe: async () => ({ name: 'athena', version: 'engine 3' }),
      materialize: async (_table: string, q: SqlQuery) => {
        sent.push(q.name);
        return { name: q.name, engineQueryId: null, rows: 0, durationMs: 0, bytesScanned: null };
      },
      append: async (_table: string, q: SqlQuery) => {
        sent.push(q.name);
        return { name: q.name, engineQueryId: null, rows: 0, durationMs: 0, bytesScanned: null };
      },
      select: async (q: SqlQuery) => {
        sent.push(q.name);
        const rows: Row[] = q.name === 'objects-read' ? [{ object_key: KEY, records: 2 }] : [];
        return {
          rows,
          run: { name: q.name, engineQueryId: null, rows: rows.length, durationMs: 0, bytesScanned: null },
        };
      },
      release: async () => {},
      close: async () => {},
    } satisfies QueryEngine;
    const table = sourceTableOf(SOURCES.windows?.rawTable as RawTableSpec, {
      database: 'sessiontrail_raw',
      logsRoot: `s3://${BUCKET}/logs/`,
    });
    const locator: RawLogLocator = {
      sources: async () => ['windows'],
      locate: async (_source, fromMs, toMs) => ({
        input: planRawInput(table, fromMs, toMs),
        problems: [],
        cleanup: async () => {},
      }),
    };
    const plan = await planPack(
      { kind: 'review', from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z' },
      DEFAULT_CONFIG,
      locator,
    );

    // Act
    const { inputs, queryFiles } = await runQueries(plan, {
      engine,
      locator,
      objectVersions: s3ObjectVersions(moto.s3()),
    });

    // Assess
    expect(inputs).toEqual([
      {
        source: 'windows',
        key: `s3://${BUCKET}/logs/${KEY}`,
        status: 'read',
        reason: null,
        size: body.length,
        sha256: null,
        s3: expect.objectContaining({
          version_id: version,
          etag: createHash('md5').update(body).digest('hex'),
        }),
        records: 2,
        range: { bytes: body.length, last_line: null },
      },
    ]);
    expect(sent.indexOf('objects-read')).toBe(sent.indexOf('normalise-windows') + 1);
    expect(queryFiles.map((f) => f.record.name)).toContain('objects-read');
  }, 60_000);
});
