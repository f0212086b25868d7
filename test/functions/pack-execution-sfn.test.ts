/**
 * The on-demand start and status over the Step Functions adapter, with the SFN client mocked
 * (aws-sdk-client-mock): the mock answers StartExecution as the API reference documents it for
 * standard workflows (same name and input while running: the same execution; another input:
 * ExecutionAlreadyExists).
 */
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { makeOnDemandHandler } from '../../functions/on-demand.ts';
import { StepFunctionsExecutions } from '../../lib/export/pack-execution.ts';
import {
  FUNCTION_ARN,
  lambdaContext,
  recordingEngine,
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

/** An SFN client mock that keeps executions by name, as Step Functions does. */
function mockedStepFunctions() {
  const sfn = mockClient(SFNClient);
  const executions = new Map<string, string>();
  const statuses = new Map<string, string>();
  const arnOf = (name: string) => `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
  sfn.on(StartExecutionCommand).callsFake((input: { name: string; input: string }) => {
    const found = executions.get(input.name);
    if (found !== undefined && found !== input.input) {
      const err = new Error(`Execution Already Exists: '${arnOf(input.name)}'`);
      err.name = 'ExecutionAlreadyExists';
      throw err;
    }
    if (found !== undefined && statuses.get(input.name) !== 'RUNNING') {
      const err = new Error(`Execution Already Exists: '${arnOf(input.name)}'`);
      err.name = 'ExecutionAlreadyExists';
      throw err;
    }
    executions.set(input.name, input.input);
    statuses.set(input.name, 'RUNNING');
    return { executionArn: arnOf(input.name), startDate: new Date('2026-01-01T00:00:00Z') };
  });
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const name = input.executionArn.split(':').pop() ?? '';
    if (!executions.has(name)) {
      const err = new Error('Execution Does Not Exist');
      err.name = 'ExecutionDoesNotExist';
      throw err;
    }
    return { executionArn: input.executionArn, status: statuses.get(name), input: executions.get(name) };
  });
  sfn.on(RedriveExecutionCommand).callsFake((input: { executionArn: string }) => {
    statuses.set(input.executionArn.split(':').pop() ?? '', 'RUNNING');
    return { redriveDate: new Date('2026-01-02T00:00:00Z') };
  });
  return { sfn, executions, statuses };
}

describe('on-demand start and status over Step Functions (SFN client mocked with aws-sdk-client-mock)', () => {
  let mock: ReturnType<typeof mockedStepFunctions> | undefined;
  afterEach(() => mock?.sfn.restore());

  it('starts one execution for two identical requests, named after the pack id, and the status reads it', async () => {
    // Prepare
    mock = mockedStepFunctions();
    const executions = new StepFunctionsExecutions({
      client: new SFNClient({}),
      stateMachineArn: STATE_MACHINE_ARN,
    });
    const runtime = await testRuntime({ engine: () => recordingEngine().engine, executions });
    const handler = makeOnDemandHandler(runtime);
    // Act: the same request twice, its keys in another order the second time
    const first = await handler(incident, lambdaContext('r1'));
    const reordered = Object.fromEntries(Object.entries(incident).reverse());
    const second = await handler(reordered, lambdaContext('r2'));
    // Assess
    if (!first.ok || !('statusEvent' in first)) throw new Error('unexpected');
    expect(second).toEqual(first);
    expect([...mock.executions.keys()]).toEqual([first.packId]);
    const starts = mock.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(starts).toHaveLength(2);
    expect(starts.map((s) => s.name)).toEqual([first.packId, first.packId]);
    expect(starts[1]?.input).toBe(starts[0]?.input);
    expect(JSON.parse(starts[0]?.input ?? '{}')).toMatchObject({
      packId: first.packId,
      sources: ['windows'],
      request: { kind: 'incident', incidentId: 'IR-123', sources: ['windows'] },
    });
    expect(await handler(first.statusEvent, lambdaContext())).toMatchObject({
      state: 'not_started',
      execution: { status: 'RUNNING', executionArn: first.executionArn },
    });
  });

  it('refuses a different request for the same pack id (here: through another alias) instead of building twice', async () => {
    // Prepare
    mock = mockedStepFunctions();
    const executions = new StepFunctionsExecutions({
      client: new SFNClient({}),
      stateMachineArn: STATE_MACHINE_ARN,
    });
    const runtime = await testRuntime({ engine: () => recordingEngine().engine, executions });
    const handler = makeOnDemandHandler(runtime);
    const first = await handler(incident, lambdaContext('r1'));
    // Act: the same pack, asked through an alias: the operator the manifest would record differs
    const viaAlias = await handler(incident, {
      ...lambdaContext('r2'),
      invokedFunctionArn: `${FUNCTION_ARN}:prod`,
    });
    // Assess
    expect(first).toMatchObject({ ok: true, status: 'started' });
    expect(viaAlias).toMatchObject({
      ok: false,
      error: { code: 'EXECUTION_EXISTS', message: expect.stringContaining('(RUNNING)') },
    });
    expect(mock.executions.size).toBe(1);
  });

  it('redrives the failed execution of the same request instead of refusing it, and refuses a succeeded one', async () => {
    // Prepare
    mock = mockedStepFunctions();
    const executions = new StepFunctionsExecutions({
      client: new SFNClient({}),
      stateMachineArn: STATE_MACHINE_ARN,
    });
    const runtime = await testRuntime({ engine: () => recordingEngine().engine, executions });
    const handler = makeOnDemandHandler(runtime);
    const first = await handler(incident, lambdaContext('r1'));
    if (!first.ok || !('statusEvent' in first)) throw new Error('unexpected');
    mock.statuses.set(first.packId, 'FAILED');
    // Act
    const again = await handler(incident, lambdaContext('r2'));
    mock.statuses.set(first.packId, 'SUCCEEDED');
    const afterSuccess = await handler(incident, lambdaContext('r3'));
    // Assess
    expect(again).toMatchObject({ ok: true, status: 'started', executionArn: first.executionArn });
    expect(mock.sfn.commandCalls(RedriveExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: first.executionArn },
    ]);
    expect(afterSuccess).toMatchObject({
      ok: false,
      error: { code: 'EXECUTION_EXISTS', message: expect.stringContaining('(SUCCEEDED)') },
    });
  });

  it('answers a status with no execution as null', async () => {
    mock = mockedStepFunctions();
    const executions = new StepFunctionsExecutions({
      client: new SFNClient({}),
      stateMachineArn: STATE_MACHINE_ARN,
    });
    const runtime = await testRuntime({ engine: () => recordingEngine().engine, executions });
    const answer = await makeOnDemandHandler(runtime)(
      { action: 'status', series: 'incident', packId: 'incident-2024-03-04-0123456789ab' },
      lambdaContext(),
    );
    expect(answer).toMatchObject({ ok: true, state: 'not_started', execution: null });
  });
});
