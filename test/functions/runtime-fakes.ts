/**
 * Runtimes for the handler tests: the handlers' AWS runtime with its engine, store and signer
 * replaced. The store is a real FsEvidenceStore in a temp dir, the signer a real local key; the
 * engine is a fake that records what it is asked (or the real DuckDB engine, where a test says so).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { HandlerRuntime, RunInfo } from '../../functions/_shared/deps.ts';
import { type FinishStageAnswer, makePackStageHandler } from '../../functions/pack-stage.ts';
import { fixedClock } from '../../lib/clock.ts';
import { type Config, DEFAULT_CONFIG } from '../../lib/config/config.ts';
import { SessiontrailError } from '../../lib/errors.ts';
import type { ExecutionState, PackExecutionInput, PackExecutions } from '../../lib/export/pack-execution.ts';
import { sourceTableOf } from '../../lib/locate/raw-input-plan.ts';
import type { RawLogLocator } from '../../lib/locate/raw-log-locator.ts';
import { tableLocator } from '../../lib/locate/table-locator.ts';
import { athenaDialect } from '../../lib/query/athena/athena-dialect.ts';
import type { QueryEngine, QueryRun } from '../../lib/query/query-engine.ts';
import type { SqlQuery } from '../../lib/query/sql.ts';
import { LocalKeySigner } from '../../lib/signing/local-key-signer.ts';
import type { Signer } from '../../lib/signing/signer.ts';
import { SOURCE_NAMES, SOURCES } from '../../lib/sources/index.ts';
import type { EvidenceStore } from '../../lib/storage/evidence-store.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';
import { makeKey } from '../helpers/local-export.ts';

/** Every source's table as the CDK app deploys it by default (raw database `sessiontrail_raw`). */
export const DEPLOYED_TABLES = Object.fromEntries(
  SOURCE_NAMES.map((s) => [s, sourceTableOf(SOURCES[s]!.rawTable, { database: 'sessiontrail_raw' })]),
);

/**
 * An Athena stand-in: every query succeeds with no rows (the scope check finds every value once); it
 * remembers what ran and that it was closed.
 */
export function recordingEngine(runId = 'ptest') {
  const ran: SqlQuery[] = [];
  const materialized: string[] = [];
  let closed = false;
  const run = (q: SqlQuery, rows: number): QueryRun => ({
    name: q.name,
    engineQueryId: `q-${ran.length}`,
    rows,
    durationMs: 1,
    bytesScanned: 1024,
  });
  const engine = {
    dialect: athenaDialect('sessiontrail_work', runId),
    describe: async () => ({ name: 'athena', version: 'Athena engine version 3' }),
    materialize: async (table: string, q: SqlQuery) => {
      ran.push(q);
      materialized.push(table);
      return run(q, 0);
    },
    append: async (table: string, q: SqlQuery) => {
      ran.push(q);
      materialized.push(table);
      return run(q, 0);
    },
    select: async (q: SqlQuery) => {
      ran.push(q);
      // The scope check: the stand-in's data holds every user and host asked for (one record each).
      if (q.name === 'scope-matches') {
        const rows = [...q.sql.matchAll(/SELECT '(user|host)' AS kind, (\d+) AS idx/g)].map((m) => ({
          kind: m[1] as string,
          idx: Number(m[2]),
          n: 1,
        }));
        return { rows, run: run(q, rows.length) };
      }
      return { rows: [], run: run(q, 0) };
    },
    // As Athena's: nothing held in this process.
    release: async () => {},
    close: async () => {
      closed = true;
    },
  } satisfies QueryEngine;
  return { engine, ran, materialized, closed: () => closed };
}

/**
 * A Step Functions stand-in with StartExecution's documented semantics for standard workflows: the
 * same name and input as a running execution returns it, as a failed one redrives it; another
 * input, or a succeeded execution of that name, fails `EXECUTION_EXISTS`. It remembers each
 * started execution.
 */
export function recordingExecutions(stateMachineArn = STATE_MACHINE_ARN) {
  const started = new Map<string, { input: string; status: ExecutionState['status'] }>();
  const arnOf = (name: string) => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const executions = {
    async start(name: string, input: string) {
      const found = started.get(name);
      if (found === undefined || (found.input === input && found.status === 'FAILED'))
        started.set(name, { input, status: 'RUNNING' });
      else if (found.input !== input || found.status !== 'RUNNING')
        throw new SessiontrailError('EXECUTION_EXISTS', `execution ${name} exists (${found.status})`);
      return { executionArn: arnOf(name) };
    },
    async describe(name: string) {
      const found = started.get(name);
      return found === undefined ? null : { executionArn: arnOf(name), status: found.status };
    },
  } satisfies PackExecutions;
  return { executions, started };
}

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sessiontrail-pack';

export interface TestRuntime extends HandlerRuntime {
  readonly storeRoot: string;
  readonly runs: RunInfo[];
}

/**
 * A runtime over a temp-dir store and a fresh local key; `engine` makes the engine of each export
 * and `locator` defaults to the Athena one (raw Glue tables).
 */
export async function testRuntime(options: {
  engine: () => QueryEngine | Promise<QueryEngine>;
  locator?: RawLogLocator;
  config?: Config;
  executions?: PackExecutions;
  stageStore?: EvidenceStore;
}): Promise<TestRuntime> {
  const storeRoot = await mkdtemp(join(tmpdir(), 'st-fn-store-'));
  const store = new FsEvidenceStore(storeRoot) satisfies EvidenceStore;
  const signer = (await LocalKeySigner.fromFile(await makeKey())) satisfies Signer;
  const config = options.config ?? DEFAULT_CONFIG;
  const executions = options.executions ?? recordingExecutions().executions;
  const stageStore =
    options.stageStore ??
    (new FsEvidenceStore(await mkdtemp(join(tmpdir(), 'st-fn-stages-'))) satisfies EvidenceStore);
  const runs: RunInfo[] = [];
  const locator = options.locator ?? tableLocator(DEPLOYED_TABLES);
  return {
    storeRoot,
    runs,
    store: () => store,
    locator: () => locator,
    config: async () => config,
    async exportDeps(run) {
      runs.push(run);
      const engine = await options.engine();
      return {
        engine,
        store,
        signer,
        clock: fixedClock('2026-01-01T00:00:00.000Z'),
        config,
        locator,
        toolVersion: '0.0.0-test',
        close: () => engine.close(),
      };
    },
    executions: () => executions,
    stageStore: () => stageStore,
  };
}

/**
 * Drives the stage handler as the pack state machine does (infra/constructs/pack-state-machine.ts,
 * whose definition test/infra/pack-state-machine.test.ts asserts): one source stage per source of
 * the execution input, in order, then the finish stage with their outputs.
 */
export async function runPackExecution(
  runtime: HandlerRuntime,
  input: string,
  maxBytesScanned = Number.MAX_SAFE_INTEGER,
): Promise<FinishStageAnswer> {
  const handler = makePackStageHandler(runtime);
  const i = JSON.parse(input) as PackExecutionInput;
  const stages: unknown[] = [];
  for (const source of i.sources)
    stages.push(
      await handler({ stage: 'source', request: i.request, packId: i.packId, source }, lambdaContext()),
    );
  return (await handler(
    { stage: 'finish', request: i.request, packId: i.packId, operator: i.operator, stages, maxBytesScanned },
    lambdaContext(),
  )) as FinishStageAnswer;
}

export const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:sessiontrail-on-demand';

/** A Lambda context with 15 minutes left. */
export function lambdaContext(requestId = '6f1c2d3e-aaaa-bbbb-cccc-0123456789ab'): Context {
  return {
    awsRequestId: requestId,
    invokedFunctionArn: FUNCTION_ARN,
    functionName: 'sessiontrail-on-demand',
    functionVersion: '$LATEST',
    memoryLimitInMB: '2048',
    logGroupName: '/aws/lambda/sessiontrail-on-demand',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 900_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
