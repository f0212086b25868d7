/**
 * The pack stage handler run end to end as the state machine runs it: the source stages store their
 * results in S3 (moto on 127.0.0.1, the results bucket's stages/ folder), the finish stage reads
 * them, checks the scan bound and seals; the real DuckDB engine stands in for Athena (as in the
 * other handler tests), and a stand-in engine where a test needs bytes scanned or a failure.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOnDemandHandler } from '../../functions/on-demand.ts';
import { makePackStageHandler } from '../../functions/pack-stage.ts';
import { SessiontrailError } from '../../lib/errors.ts';
import type { ExportRequest } from '../../lib/evidence/request.ts';
import { STAGES_PREFIX } from '../../lib/export/pack-execution.ts';
import { planPack } from '../../lib/export/plan-pack.ts';
import { localLocator } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { QueryEngine } from '../../lib/query/query-engine.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { SOURCES } from '../../lib/sources/index.ts';
import type { EvidenceStore } from '../../lib/storage/evidence-store.ts';
import { S3EvidenceStore } from '../../lib/storage/s3-evidence-store.ts';
import { generateWindowsSample } from '../../sample/windows-sample.ts';
import { type MotoServer, startMotoServer } from '../helpers/moto-server.ts';
import {
  lambdaContext,
  recordingEngine,
  recordingExecutions,
  runPackExecution,
  testRuntime,
} from './runtime-fakes.ts';

const audit = {
  action: 'export',
  kind: 'audit',
  hosts: ['SRV01'],
  requester: 'J. Auditor',
  reason: 'privileged access review',
  from: '2024-03-04',
  to: '2024-03-06',
  sources: ['windows'],
} as const;

describe('pack stage handler, stage results in S3 (moto server on 127.0.0.1), DuckDB standing in for Athena', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let logs: string;
  let bucketNo = 0;
  beforeAll(async () => {
    moto = await startMotoServer();
    s3 = moto.s3();
    logs = await mkdtemp(join(tmpdir(), 'st-stage-logs-'));
    await generateWindowsSample({ seed: 42, hosts: 6, days: 2, from: '2024-03-04', outDir: logs });
  });
  afterAll(async () => {
    await moto?.stop();
  });

  /** A fresh results bucket and the stage store over its stages/ folder, as the Lambdas build it. */
  async function stageStore(): Promise<{ store: EvidenceStore; bucket: string }> {
    bucketNo += 1;
    const bucket = `st-results-${bucketNo}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = new S3EvidenceStore({ client: s3, bucket, prefix: STAGES_PREFIX }) satisfies EvidenceStore;
    return { store, bucket };
  }

  it('builds an audit pack in stages that verifies and equals the pack one invocation builds', async () => {
    // Prepare
    const { store, bucket } = await stageStore();
    const sfn = recordingExecutions();
    const runtime = await testRuntime({
      engine: () => DuckDbEngine.open({ threads: 2 }),
      locator: localLocator(logs),
      executions: sfn.executions,
      stageStore: store,
    });
    const oneLambda = await testRuntime({
      engine: () => DuckDbEngine.open({ threads: 2 }),
      locator: localLocator(logs),
    });
    const started = await makeOnDemandHandler(runtime)(audit, lambdaContext());
    if (!started.ok || !('packId' in started)) throw new Error('unexpected');

    // Act
    const built = await runPackExecution(runtime, sfn.started.get(started.packId)?.input ?? '');
    const whole = await makeOnDemandHandler(oneLambda)({ ...audit, wait: true }, lambdaContext());

    // Assess: sealed, verifies, and the same evidence.json as the build in one invocation
    expect(built).toMatchObject({ ok: true, status: 'written', packId: started.packId });
    const verified = await verifyPack({
      store: runtime.store(),
      packDir: `audit/${started.packId}`,
      allowUntrustedKey: true,
    });
    expect(verified.ok).toBe(true);
    expect(whole).toMatchObject({ ok: true, status: 'written', evidenceSha256: built.evidenceSha256 });
    // The source stage left one content-addressed object under stages/<pack id>/.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${STAGES_PREFIX}/` }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([
      expect.stringMatching(new RegExp(`^stages/${started.packId}/windows-[0-9a-f]{16}\\.json$`)),
    ]);
  });

  it('a retried source stage gives the same statements and rows, and the finish seals with its result', async () => {
    // Prepare
    const { store } = await stageStore();
    const sfn = recordingExecutions();
    const runtime = await testRuntime({
      engine: () => DuckDbEngine.open({ threads: 2 }),
      locator: localLocator(logs),
      executions: sfn.executions,
      stageStore: store,
    });
    const started = await makeOnDemandHandler(runtime)(audit, lambdaContext());
    if (!started.ok || !('packId' in started)) throw new Error('unexpected');
    const input = JSON.parse(sfn.started.get(started.packId)?.input ?? '{}');
    const stage = makePackStageHandler(runtime);
    const event = { stage: 'source', request: input.request, packId: input.packId, source: 'windows' };
    // Act
    const first = await stage(event, lambdaContext());
    const retry = await stage(event, lambdaContext());
    const sealed = await stage(
      { ...input, stage: 'finish', stages: [retry], maxBytesScanned: 1 },
      lambdaContext(),
    );
    // Assess: DuckDB reports no bytes scanned, so a bound of 1 byte holds
    expect('source' in retry && retry.source).toBe('windows');
    expect('statements' in retry && retry.statements).toEqual('statements' in first && first.statements);
    expect(sealed).toMatchObject({ ok: true, status: 'written', packId: started.packId });
  });

  it('refuses to seal a pack whose stages scanned more than the bound, with a clear error the state machine does not retry', async () => {
    // Prepare: a stand-in engine that reports 1,024 bytes scanned per statement
    const { store } = await stageStore();
    const sfn = recordingExecutions();
    const runtime = await testRuntime({
      engine: () => recordingEngine().engine,
      executions: sfn.executions,
      stageStore: store,
    });
    const incident = {
      action: 'export',
      kind: 'incident',
      incidentId: 'IR-9',
      hosts: ['WS01'],
      from: '2024-03-04T08:00:00Z',
      to: '2024-03-04T20:00:00Z',
      sources: ['windows', 'linux_auth'],
    };
    const started = await makeOnDemandHandler(runtime)(incident, lambdaContext());
    if (!started.ok || !('packId' in started)) throw new Error(JSON.stringify(started));
    // Per source: 1,024 bytes for each of its statements: normalise, scope match, 3 working tables,
    // 12 selects (lib/export/run-queries.ts), and for a source that measures its collector's lag
    // (Windows) one more select, and one more for a source whose records' own UTC time is checked.
    const statementsOf = (source: string) =>
      17 +
      (SOURCES[source]?.measuresCollectorLag ? 1 : 0) +
      (SOURCES[source]?.utcCheckDetail === undefined ? 0 : 1);
    const [auth, windows] = [statementsOf('linux_auth') * 1024, statementsOf('windows') * 1024];
    // Act / Assess
    const failure = await runPackExecution(runtime, sfn.started.get(started.packId)?.input ?? '', 1000).catch(
      (e: unknown) => e as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('Sessiontrail.COST_BOUND_EXCEEDED');
    expect((failure as Error).message).toMatch(
      `scanned ${auth + windows} bytes, over the bound of 1000 (linux_auth ${auth}, windows ${windows})`,
    );
    expect(await runtime.store().list(`incident/${started.packId}`)).toEqual([]);
  });

  it('fails a stage named after its error code, so that only retryable codes are retried', async () => {
    // Prepare
    const { store } = await stageStore();
    const throttled = {
      ...recordingEngine().engine,
      materialize: async () => {
        throw new SessiontrailError('ENGINE_UNAVAILABLE', 'Athena kept throttling');
      },
    } satisfies QueryEngine;
    const runtime = await testRuntime({ engine: () => throttled, stageStore: store });
    const stage = makePackStageHandler(runtime);
    const request: ExportRequest = {
      kind: 'incident',
      incidentId: 'IR-9',
      hosts: ['WS01'],
      from: '2024-03-04T08:00:00Z',
      to: '2024-03-04T20:00:00Z',
      sources: ['windows'],
    };
    // Act / Assess
    await expect(
      stage(
        { stage: 'source', request, packId: 'incident-2024-03-04-000000000000', source: 'windows' },
        lambdaContext(),
      ),
    ).rejects.toMatchObject({ name: 'Sessiontrail.PACK_CONFLICT' });
    const plan = await planPack(request, await runtime.config(), runtime.locator());
    await expect(
      stage({ stage: 'source', request, packId: plan.packId, source: 'windows' }, lambdaContext()),
    ).rejects.toMatchObject({ name: 'Sessiontrail.ENGINE_UNAVAILABLE', message: 'Athena kept throttling' });
    await expect(
      stage({ stage: 'bogus', request, packId: plan.packId }, lambdaContext()),
    ).rejects.toMatchObject({
      name: 'Sessiontrail.BAD_REQUEST',
    });
  });
});
