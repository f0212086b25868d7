/**
 * The pack state machine as synthesised: its states, retries, deadline and cost bound, read from the
 * template's definition (Amazon States Language).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGE_RETRY } from '../../infra/constructs/pack-state-machine.ts';
import { ERROR_CLASSES, type ErrorCode } from '../../lib/errors.ts';
import { executionNameOf, stageErrorName } from '../../lib/export/pack-execution.ts';
import { flat, type Synthesised, synthApp } from './synth-app.ts';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  MaxAttempts: number;
  BackoffRate: number;
  JitterStrategy?: string;
}
interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Retry?: Retrier[];
  TimeoutSeconds?: number;
  Parameters?: Record<string, unknown>;
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  ResultPath?: string;
  MaxConcurrency?: number;
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
}
interface Definition {
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, State>;
}

function machineOf(s: Synthesised): { props: Record<string, unknown>; definition: Definition } {
  const machines = Object.values(s.exporterTemplate.findResources('AWS::StepFunctions::StateMachine')) as {
    Properties: Record<string, unknown>;
  }[];
  expect(machines).toHaveLength(1);
  const props = machines[0]?.Properties ?? {};
  return { props, definition: JSON.parse(flat(props.DefinitionString)) as Definition };
}

/** Every code lib/errors.ts marks retryable, as the stage handlers name them. */
const RETRYABLE = (Object.keys(ERROR_CLASSES) as ErrorCode[])
  .filter((c) => ERROR_CLASSES[c].retryable)
  .map(stageErrorName);

describe('pack state machine (synthesised template)', () => {
  let s: Synthesised;
  let machine: ReturnType<typeof machineOf>;
  beforeAll(() => {
    s = synthApp();
    machine = machineOf(s);
  });

  it('runs each source’s query stage, one at a time, then the finish stage with their outputs', () => {
    const { definition } = machine;
    expect(definition.StartAt).toBe('QuerySources');
    expect(Object.keys(definition.States).sort()).toEqual(['Finish', 'QuerySources']);
    const map = definition.States.QuerySources;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.sources',
      MaxConcurrency: 1,
      ResultPath: '$.stages',
      Next: 'Finish',
      ItemSelector: {
        stage: 'source',
        'request.$': '$.request',
        'packId.$': '$.packId',
        'source.$': '$$.Map.Item.Value',
      },
    });
    expect(map?.ItemProcessor?.StartAt).toBe('QuerySource');
    const finish = definition.States.Finish;
    expect(finish).toMatchObject({ Type: 'Task', End: true });
    expect(finish?.Parameters).toMatchObject({
      stage: 'finish',
      'request.$': '$.request',
      'packId.$': '$.packId',
      'operator.$': '$.operator',
      'stages.$': '$.stages',
    });
  });

  it('invokes the stage function for both stages, each within a Lambda’s 15 minutes', () => {
    const { definition } = machine;
    const stages = [
      definition.States.QuerySources?.ItemProcessor?.States.QuerySource,
      definition.States.Finish,
    ];
    for (const st of stages) {
      expect(st?.Type).toBe('Task');
      expect(st?.TimeoutSeconds).toBe(900);
    }
    const text = flat(machine.props.DefinitionString);
    expect(text).toMatch(/"Resource":"<ExporterPacksStageFunction[A-F0-9]{8}\.Arn>"/);
  });

  it('retries each stage with backoff on exactly the retryable error codes, and on Lambda service errors', () => {
    const { definition } = machine;
    expect(RETRYABLE).toContain('Sessiontrail.ENGINE_UNAVAILABLE');
    expect(RETRYABLE).not.toContain('Sessiontrail.QUERY_FAILED');
    for (const st of [
      definition.States.QuerySources?.ItemProcessor?.States.QuerySource,
      definition.States.Finish,
    ]) {
      const ours = st?.Retry?.find((r) => r.ErrorEquals.some((e) => e.startsWith('Sessiontrail.')));
      expect(ours).toEqual({
        ErrorEquals: RETRYABLE,
        IntervalSeconds: STAGE_RETRY.intervalSeconds,
        MaxAttempts: STAGE_RETRY.maxAttempts,
        BackoffRate: STAGE_RETRY.backoffRate,
        JitterStrategy: 'FULL',
      });
      expect(st?.Retry?.flatMap((r) => r.ErrorEquals)).toContain('Lambda.ServiceException');
    }
  });

  it('has the pack’s deadline as its timeout (6 hours by default, packDeadlineMinutes from the context)', () => {
    expect(machine.definition.TimeoutSeconds).toBe(6 * 3600);
    expect(machineOf(synthApp({ packDeadlineMinutes: 90 })).definition.TimeoutSeconds).toBe(90 * 60);
  });

  it('passes the cost bound to the finish stage: 10 × the per-query cutoff by default, maxBytesScannedPerPack from the context', () => {
    // dev profile (the default): the per-query cutoff is 100 GiB.
    expect(machine.definition.States.Finish?.Parameters?.maxBytesScanned).toBe(10 * 100 * 1024 ** 3);
    const bounded = machineOf(synthApp({ maxBytesScannedPerPack: 50_000_000_000 }));
    expect(bounded.definition.States.Finish?.Parameters?.maxBytesScanned).toBe(50_000_000_000);
  });

  it('is a standard workflow named <name>-pack, traced, logging every event without execution data', () => {
    expect(machine.props).toMatchObject({
      StateMachineName: 'sessiontrail-pack',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('names executions after the pack id, as Step Functions accepts them', () => {
    const id = 'review-2024-03-01-4163ca7e1df1';
    expect(executionNameOf(id)).toBe(id);
    expect(() => executionNameOf('x'.repeat(81))).toThrow(/execution name/);
    expect(() => executionNameOf('review 2024')).toThrow(/execution name/);
  });
});
