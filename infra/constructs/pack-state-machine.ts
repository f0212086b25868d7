/**
 * The pack state machine: builds one evidence pack beyond one Lambda's 15 minutes. Its input is the
 * execution input the starters send (lib/export/pack-execution.ts, `packExecutionInput`); it runs
 * one query stage per source (a Map, one source at a time: the stages of a pack share the working
 * tables `session_events`, `attributed` and `session_halves`, whose names are in the recorded SQL),
 * then the finish stage (scan bound, assemble, render, seal). Each stage is an invocation of the
 * stage function (functions/pack-stage.ts) with its own 15 minutes, retried with backoff on the
 * error codes lib/errors.ts marks retryable; the state machine's timeout is the pack's deadline.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { RETRYABLE_STAGE_ERRORS } from '../../lib/export/pack-execution.ts';
import { ExporterFunction, type ExporterFunctionProps } from './exporter-function.ts';

export interface PackStateMachineProps {
  /** Name of the state machine (`<name>-pack`). */
  readonly stateMachineName: string;
  /** The stage function's role: it makes exactly the export's calls (Athena, evidence, signing key). */
  readonly role: iam.IRole;
  /** The stage function's environment and log settings (as the other exporter functions). */
  readonly functionProps: Omit<ExporterFunctionProps, 'entry' | 'role' | 'description'>;
  /** The whole pack's deadline: the execution times out after it. @default 6 hours */
  readonly deadline?: Duration;
  /** The bound on bytes scanned by one pack's queries, checked by the finish stage. */
  readonly maxBytesScanned: number;
  readonly logRetention: logs.RetentionDays;
}

/** Tries of one stage after its first failure with a retryable code, waiting 30 s, 60 s, 120 s. */
export const STAGE_RETRY = { maxAttempts: 3, intervalSeconds: 30, backoffRate: 2 } as const;

export class PackStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stageFunction: ExporterFunction;

  constructor(scope: Construct, id: string, props: PackStateMachineProps) {
    super(scope, id);
    this.stageFunction = new ExporterFunction(this, 'Stage', {
      ...props.functionProps,
      entry: 'functions/pack-stage.ts',
      role: props.role,
      description: 'sessiontrail: a stage of a pack execution (one source’s queries, or the finish)',
    });
    const retry = (task: tasks.LambdaInvoke) =>
      task.addRetry({
        errors: [...RETRYABLE_STAGE_ERRORS],
        maxAttempts: STAGE_RETRY.maxAttempts,
        interval: Duration.seconds(STAGE_RETRY.intervalSeconds),
        backoffRate: STAGE_RETRY.backoffRate,
        jitterStrategy: sfn.JitterType.FULL,
      });

    const sourceStage = retry(
      new tasks.LambdaInvoke(this, 'QuerySource', {
        lambdaFunction: this.stageFunction.function,
        payloadResponseOnly: true,
        taskTimeout: sfn.Timeout.duration(Duration.minutes(15)),
      }),
    );
    const sources = new sfn.Map(this, 'QuerySources', {
      itemsPath: '$.sources',
      // One source at a time: the stages of a pack rewrite the same working tables.
      maxConcurrency: 1,
      itemSelector: {
        stage: 'source',
        'request.$': '$.request',
        'packId.$': '$.packId',
        'source.$': '$$.Map.Item.Value',
      },
      resultPath: '$.stages',
    });
    sources.itemProcessor(sourceStage);

    const finish = retry(
      new tasks.LambdaInvoke(this, 'Finish', {
        lambdaFunction: this.stageFunction.function,
        payloadResponseOnly: true,
        taskTimeout: sfn.Timeout.duration(Duration.minutes(15)),
        payload: sfn.TaskInput.fromObject({
          stage: 'finish',
          'request.$': '$.request',
          'packId.$': '$.packId',
          'operator.$': '$.operator',
          'stages.$': '$.stages',
          maxBytesScanned: props.maxBytesScanned,
        }),
      }),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(sources.next(finish)),
      timeout: props.deadline ?? Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'sessiontrail: one evidence pack: each source’s queries, then assemble, render and seal',
    });

    const stack = Stack.of(this);
    const fnLogicalId = stack.resolve(
      (this.stageFunction.function.node.defaultChild as lambda.CfnFunction).logicalId,
    ) as string;
    Validations.of(this.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnLogicalId}.Arn>:*]`,
      reason:
        'Added by the CDK LambdaInvoke task (it grants the function and its qualified form <function arn>:*); it covers versions and aliases of the stage function only.',
    });
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Log delivery (logs:CreateLogDelivery, GetLogDelivery, …) and X-Ray (PutTraceSegments, …) support no resource-level permissions (Step Functions developer guide, "IAM policies for logging to CloudWatch Logs"; Service Authorization Reference, X-Ray).',
    });
  }
}
