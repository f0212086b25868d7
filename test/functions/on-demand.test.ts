import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeOnDemandHandler } from '../../functions/on-demand.ts';
import { SessiontrailError } from '../../lib/errors.ts';
import { localLocator } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { QueryEngine } from '../../lib/query/query-engine.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { generateWindowsSample } from '../../sample/windows-sample.ts';
import {
  lambdaContext,
  recordingEngine,
  recordingExecutions,
  runPackExecution,
  STATE_MACHINE_ARN,
  testRuntime,
} from './runtime-fakes.ts';

const incident = {
  action: 'export',
  kind: 'incident',
  incidentId: 'IR-123',
  hosts: ['WS01'],
  from: '2024-03-04T08:00:00Z',
  to: '2024-03-04T20:00:00Z',
  sources: ['windows'],
} as const;

describe('on-demand handler', () => {
  it('answers check: the evidence schema and the PDF fonts load', async () => {
    // Prepare
    const handler = makeOnDemandHandler(await testRuntime({ engine: () => recordingEngine().engine }));
    // Act
    const answer = await handler({ action: 'check' }, lambdaContext());
    // Assess
    expect(answer).toEqual({
      ok: true,
      action: 'check',
      schema: 'loaded',
      fonts: ['bold', 'cjk', 'mono', 'regular'],
    });
  });

  it('answers an export at once with the pack id and location, starts the execution named after it, and the pack is found by its id', async () => {
    // Prepare
    const sfn = recordingExecutions();
    const runtime = await testRuntime({ engine: () => recordingEngine().engine, executions: sfn.executions });
    const handler = makeOnDemandHandler(runtime);

    // Act: the caller's invocation
    const started = await handler(incident, lambdaContext());

    // Assess: answered before any query ran, with one execution named after the pack
    expect(started).toMatchObject({ ok: true, action: 'export', status: 'started', series: 'incident' });
    if (!started.ok || started.action !== 'export' || !('statusEvent' in started))
      throw new Error('unexpected');
    expect(started.packId).toMatch(/^incident-2024-03-04-[0-9a-f]{12}$/);
    expect(started.location).toBe(join(runtime.storeRoot, 'incident', started.packId));
    expect(runtime.runs).toHaveLength(0);
    expect([...sfn.started.keys()]).toEqual([started.packId]);
    expect(started.executionArn).toBe(
      `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${started.packId}`,
    );
    expect(await handler(started.statusEvent, lambdaContext())).toMatchObject({
      sealed: false,
      state: 'not_started',
      execution: { status: 'RUNNING' },
    });

    // Act: the state machine runs the stages
    const input = sfn.started.get(started.packId)?.input ?? '';
    const built = await runPackExecution(runtime, input);

    // Assess: the pack is the one announced, sealed, and the status says so
    expect(built).toMatchObject({ ok: true, status: 'written', packId: started.packId });
    expect(await handler(started.statusEvent, lambdaContext())).toEqual({
      ok: true,
      action: 'status',
      packId: started.packId,
      series: 'incident',
      location: started.location,
      sealed: true,
      state: 'sealed',
      execution: { executionArn: started.executionArn, status: 'RUNNING' },
    });
    // Asking again finds it sealed and starts nothing.
    expect(await handler(incident, lambdaContext())).toMatchObject({
      status: 'sealed',
      packId: started.packId,
    });
    expect(sfn.started.size).toBe(1);
  });

  it('with wait: true builds over the Athena raw tables through the engine port and drops its working tables', async () => {
    // Prepare
    const fake = recordingEngine();
    const runtime = await testRuntime({ engine: () => fake.engine });
    const handler = makeOnDemandHandler(runtime);
    // Act
    const answer = await handler({ ...incident, wait: true }, lambdaContext());
    // Assess
    expect(answer).toMatchObject({ ok: true, status: 'written', summary: { sessions: 0 } });
    const normalise = fake.ran[0];
    expect(normalise?.sql).toContain('FROM sessiontrail_raw.windows_raw WHERE dt BETWEEN');
    // The partitions of the window and the 24 h look-back, inclusive.
    expect(normalise?.params).toEqual(expect.arrayContaining(['2024-03-03', '2024-03-04']));
    expect(fake.materialized).toContain('session_events');
    expect(fake.closed()).toBe(true);
    expect(runtime.runs[0]?.remainingMs).toBe(900_000);
  });

  it('names the working tables after the pack, not the invocation: a retry sends the same SQL and seals the same evidence', async () => {
    // Prepare: two invocations of the same request with different Lambda request ids.
    const runtime = await testRuntime({ engine: () => recordingEngine().engine });
    const handler = makeOnDemandHandler(runtime);
    // Act
    const first = await handler({ ...incident, wait: true }, lambdaContext('11111111-aaaa'));
    const second = await handler({ ...incident, wait: true }, lambdaContext('22222222-bbbb'));
    // Assess
    expect(first).toMatchObject({ ok: true, status: 'written' });
    expect(second).toMatchObject({ ok: true, status: 'already_sealed' });
    expect(runtime.runs.map((r) => r.packId)).toEqual([
      (first as { packId: string }).packId,
      (first as { packId: string }).packId,
    ]);
  });

  it.each([
    ['an unknown key', { ...incident, host: 'WS01' }, 'unknown key(s) host'],
    ['a reversed window', { ...incident, from: '2024-03-05T00:00:00Z' }, 'to: must be after from'],
    ['an incident without an id', { ...incident, incidentId: undefined }, 'needs --incident-id'],
    ['an unknown action', { action: 'purge' }, 'expected action export, status or check'],
  ])('refuses %s with a clear message instead of failing', async (_what, event, message) => {
    // Prepare
    const sfn = recordingExecutions();
    const runtime = await testRuntime({ engine: () => recordingEngine().engine, executions: sfn.executions });
    // Act
    const answer = await makeOnDemandHandler(runtime)(event, lambdaContext());
    // Assess
    expect(answer).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^BAD_/) } });
    if (answer.ok) throw new Error('unexpected');
    expect(answer.error.message).toContain(message);
    expect(sfn.started.size).toBe(0);
  });

  it('throws an engine failure so that Lambda retries it and alarms', async () => {
    // Prepare
    const failing = recordingEngine();
    const engine = {
      ...failing.engine,
      materialize: async () => {
        throw new SessiontrailError('QUERY_FAILED', 'Athena query normalise failed: scan limit');
      },
    } satisfies QueryEngine;
    const runtime = await testRuntime({ engine: () => engine });
    // Act / Assess
    await expect(
      makeOnDemandHandler(runtime)({ ...incident, wait: true }, lambdaContext()),
    ).rejects.toMatchObject({
      code: 'QUERY_FAILED',
    });
    expect(failing.closed()).toBe(true);
  });
});

describe('on-demand handler with the real DuckDB engine standing in for Athena (sample logs)', () => {
  let logs: string;
  beforeAll(async () => {
    logs = await mkdtemp(join(tmpdir(), 'st-fn-logs-'));
    await generateWindowsSample({ seed: 42, hosts: 6, days: 2, from: '2024-03-04', outDir: logs });
  });

  it('seals an audit pack that verifies, with the id announced before it was built', async () => {
    // Prepare
    const sfn = recordingExecutions();
    const runtime = await testRuntime({
      engine: () => DuckDbEngine.open({ threads: 2 }),
      locator: localLocator(logs),
      executions: sfn.executions,
    });
    const handler = makeOnDemandHandler(runtime);
    const audit = {
      action: 'export',
      kind: 'audit',
      hosts: ['SRV01', 'DC01'],
      requester: 'J. Auditor',
      reason: 'privileged access review',
      controlReference: 'SOX ITGC AC-07',
      from: '2024-03-04',
      to: '2024-03-06',
      sources: ['windows'],
    };

    // Act
    const started = await handler(audit, lambdaContext());
    if (!started.ok || !('packId' in started)) throw new Error('unexpected');
    const built = await runPackExecution(runtime, sfn.started.get(started.packId)?.input ?? '');

    // Assess
    expect(built.packId).toBe(started.packId);
    expect(built.status).toBe('written');
    const verified = await verifyPack({
      store: runtime.store(),
      packDir: `audit/${built.packId}`,
      allowUntrustedKey: true,
    });
    expect(verified.ok).toBe(true);
    // The request's control reference is the workpaper's, in evidence.json and in the PDF's sign-off block.
    const dir = `audit/${built.packId}`;
    const evidence = JSON.parse(new TextDecoder().decode(await runtime.store().get(`${dir}/evidence.json`)));
    expect(evidence.workpaper).toEqual({ control_reference: 'SOX ITGC AC-07' });
    const pdf = join(await mkdtemp(join(tmpdir(), 'st-fn-pdf-')), 'evidence.pdf');
    await writeFile(pdf, await runtime.store().get(`${dir}/evidence.pdf`));
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', pdf, '-']).toString('utf8');
    const signOff = text.slice(text.indexOf('Review sign-off')).replace(/\s+/g, ' ');
    expect(signOff).toMatch(/Control reference SOX ITGC AC-07/);
  });
});

describe('on-demand handler and packs that already exist', () => {
  it('fails (alarm, retry, dead letter) rather than answers when the pack folder holds an unfinished pack of other content', async () => {
    // Prepare: a pack folder with files but no manifest, as a build of other evidence that died midway leaves it
    const runtime = await testRuntime({ engine: () => recordingEngine().engine });
    const handler = makeOnDemandHandler(runtime);
    const started = await handler(incident, lambdaContext());
    if (!started.ok || !('statusEvent' in started)) throw new Error('unexpected');
    await runtime.store().putNew(`incident/${started.packId}/evidence.json`, new TextEncoder().encode('{}'));
    // Act / Assess
    expect(await handler(started.statusEvent, lambdaContext())).toMatchObject({
      state: 'in_progress',
    });
    await expect(handler({ ...incident, wait: true }, lambdaContext())).rejects.toMatchObject({
      code: 'PACK_CONFLICT',
    });
  });
});
