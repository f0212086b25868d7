import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeScheduledReviewHandler } from '../../functions/scheduled-review.ts';
import { localLocator } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { generateWindowsSample } from '../../sample/windows-sample.ts';
import {
  lambdaContext,
  recordingEngine,
  recordingExecutions,
  runPackExecution,
  type TestRuntime,
  testRuntime,
} from './runtime-fakes.ts';

/** Runs the execution the review started, as the state machine would. */
async function runStarted(runtime: TestRuntime, sfn: ReturnType<typeof recordingExecutions>, packId: string) {
  const input = sfn.started.get(packId)?.input;
  if (input === undefined) throw new Error(`no execution ${packId}`);
  return runPackExecution(runtime, input);
}

const schedulerInput = {
  scheduledTime: '2024-04-01T06:00:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/sessiontrail-monthly-review',
  executionId: 'exec-1',
  attempt: '1',
  timeZone: 'UTC',
};

describe('scheduled-review handler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reviews the calendar month before the schedule's own time", async () => {
    // Prepare
    const fake = recordingEngine();
    const sfn = recordingExecutions();
    const runtime = await testRuntime({ engine: () => fake.engine, executions: sfn.executions });
    const handler = makeScheduledReviewHandler(runtime);
    // Act
    const answer = await handler(schedulerInput, lambdaContext());
    const built = await runStarted(runtime, sfn, answer.packId);
    // Assess
    expect(answer).toMatchObject({
      ok: true,
      status: 'started',
      window: { from: '2024-03-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' },
    });
    expect(answer.packId).toMatch(/^review-2024-03-01-[0-9a-f]{12}$/);
    expect(built).toMatchObject({ status: 'written', packId: answer.packId });
    // Partitions from the look-back day before March to March 31st, inclusive: `dt` days for the
    // raw-line sources; CloudTrail's `yyyy/MM/dd` days run one day longer (delivery lag).
    const params = fake.ran.map((q) => q.params);
    expect(params).toContainEqual(expect.arrayContaining(['2024-02-29', '2024-03-31']));
    expect(params).toContainEqual(expect.arrayContaining(['2024/02/29', '2024/04/01']));
  });

  it('builds the same pack whenever it runs: a retry joins the running execution, one days later finds the pack sealed', async () => {
    // Prepare
    const sfn = recordingExecutions();
    const runtime = await testRuntime({ engine: () => recordingEngine().engine, executions: sfn.executions });
    const handler = makeScheduledReviewHandler(runtime);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2024-04-01T06:40:00Z'));
    const first = await handler(schedulerInput, lambdaContext('r1'));
    // Act: the scheduler's retry while the execution runs (another attempt number, same input)
    const joined = await handler(
      { ...schedulerInput, executionId: 'exec-2', attempt: '2' },
      lambdaContext('r2'),
    );
    await runStarted(runtime, sfn, first.packId);
    vi.setSystemTime(new Date('2024-04-09T13:00:00Z'));
    const late = await handler({ ...schedulerInput, attempt: '3' }, lambdaContext('r3'));
    // Assess
    expect(first).toMatchObject({ status: 'started' });
    expect(joined).toMatchObject({ status: 'started', packId: first.packId });
    expect(sfn.started.size).toBe(1);
    expect(late).toMatchObject({ status: 'already_sealed', packId: first.packId, window: first.window });
  });

  it('at the deadline, answers whether the month’s pack is sealed, builds nothing, and counts a missed one', async () => {
    // Prepare
    const fake = recordingEngine();
    const sfn = recordingExecutions();
    const runtime = await testRuntime({ engine: () => fake.engine, executions: sfn.executions });
    const handler = makeScheduledReviewHandler(runtime);
    const deadlineInput = { ...schedulerInput, scheduledTime: '2024-04-02T06:00:00Z', check: 'deadline' };

    // Act
    const missing = await handler(deadlineInput, lambdaContext('d1'));
    const review = await handler(schedulerInput, lambdaContext('r1'));
    await runStarted(runtime, sfn, review.packId);
    const ranByReview = fake.ran.length;
    const found = await handler(deadlineInput, lambdaContext('d2'));

    // Assess
    expect(missing).toMatchObject({ ok: true, check: 'deadline', sealed: false, packId: review.packId });
    expect(found).toMatchObject({ ok: true, check: 'deadline', sealed: true, packId: review.packId });
    expect(fake.ran.length).toBe(ranByReview);
  });

  it("takes an EventBridge event's time the same way", async () => {
    const handler = makeScheduledReviewHandler(await testRuntime({ engine: () => recordingEngine().engine }));
    const answer = await handler(
      {
        version: '0',
        id: 'e-1',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '123456789012',
        time: '2024-04-01T06:00:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: {},
      },
      lambdaContext(),
    );
    expect(answer.window).toEqual({ from: '2024-03-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' });
  });

  it.each([
    [{ scheduledTime: '2024-04-01T06:00:00' }, 'BAD_WINDOW', 'with a zone'],
    [{ scheduledTime: '2024-04-01T06:00:00Z', from: '2020-01-01' }, 'BAD_REQUEST', 'unknown key(s) from'],
    [{}, 'BAD_REQUEST', 'scheduledTime: Required'],
  ])('refuses %j with %s', async (event, code, message) => {
    const runtime = await testRuntime({ engine: () => recordingEngine().engine });
    await expect(makeScheduledReviewHandler(runtime)(event, lambdaContext())).rejects.toMatchObject({
      code,
      message: expect.stringContaining(message),
    });
    expect(runtime.runs).toHaveLength(0);
  });
});

describe('scheduled-review handler with the real DuckDB engine standing in for Athena (sample logs)', () => {
  let logs: string;
  beforeAll(async () => {
    logs = await mkdtemp(join(tmpdir(), 'st-fn-logs-'));
    await generateWindowsSample({ seed: 7, hosts: 4, days: 2, from: '2024-03-04', outDir: logs });
  });

  it('seals the March review that verifies', async () => {
    // Prepare
    const sfn = recordingExecutions();
    const runtime = await testRuntime({
      engine: () => DuckDbEngine.open({ threads: 2 }),
      locator: localLocator(logs),
      executions: sfn.executions,
    });
    // Act
    const answer = await makeScheduledReviewHandler(runtime)(schedulerInput, lambdaContext());
    const built = await runStarted(runtime, sfn, answer.packId);
    // Assess
    expect(answer).toMatchObject({ status: 'started' });
    expect(built).toMatchObject({ status: 'written', packId: answer.packId });
    const verified = await verifyPack({
      store: runtime.store(),
      packDir: `review/${answer.packId}`,
      allowUntrustedKey: true,
    });
    expect(verified.ok).toBe(true);
  });
});
