/**
 * The Lambdas' composition root: the only place the functions read the environment or call `new`
 * on AWS clients and adapters. Everything is built lazily, on the first invocation that needs it,
 * so that importing a handler (in a test, or a `check` invocation) touches neither env nor AWS.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { systemClock } from '../../lib/clock.ts';
import { type Config, DEFAULT_CONFIG, loadConfig } from '../../lib/config/config.ts';
import { SessiontrailError } from '../../lib/errors.ts';
import type { ExportDeps } from '../../lib/export/export-evidence.ts';
import {
  type PackExecutions,
  STAGES_PREFIX,
  StepFunctionsExecutions,
} from '../../lib/export/pack-execution.ts';
import { parseSourceTables, type SourceTable } from '../../lib/locate/raw-input-plan.ts';
import type { RawLogLocator } from '../../lib/locate/raw-log-locator.ts';
import { s3ObjectVersions } from '../../lib/locate/s3-object-versions.ts';
import { stagingOf, tableLocator } from '../../lib/locate/table-locator.ts';
import { AthenaEngine } from '../../lib/query/athena/athena-engine.ts';
import { KmsSigner } from '../../lib/signing/kms-signer.ts';
import type { Signer } from '../../lib/signing/signer.ts';
import type { EvidenceStore } from '../../lib/storage/evidence-store.ts';
import { S3EvidenceStore } from '../../lib/storage/s3-evidence-store.ts';
import { parseLogsRoot, s3StagingBucket } from '../../lib/storage/s3-staging-bucket.ts';
import { tracer } from './observability.ts';

/** What one invocation needs to know about its run, from the Lambda context. */
export interface RunInfo {
  /**
   * The id of the pack being built (from `planPack`): it names the pack's working tables, so a
   * retried or resumed build sends the same statements and the pack records the same SQL. (A Lambda
   * request id here made every invocation's `queries/*.sql`, and so `evidence.json`, different.)
   */
  readonly packId: string;
  /** Milliseconds left before the Lambda times out. */
  readonly remainingMs: number;
}

/** The dependencies a handler asks for: the seam the tests fill with fakes. */
export interface HandlerRuntime {
  /** The use case's dependencies for one export, and how to release them (drops working tables). */
  exportDeps(run: RunInfo): Promise<ExportDeps & { close(): Promise<void> }>;
  /** The evidence store alone (pack status). */
  store(): EvidenceStore;
  /** Where the raw logs are: the same locator the export reads, so a planned pack id is the built one. */
  locator(): RawLogLocator;
  /** The configuration packs are built with (its digest is part of the pack id). */
  config(): Promise<Config>;
  /** The packs' Step Functions executions (start, describe). */
  executions(): PackExecutions;
  /** Scratch storage of the pack stages' results (the Athena results bucket's `stages/` folder). */
  stageStore(): EvidenceStore;
}

/** The environment the CDK app sets on the functions (infra/constructs/exporter.ts). */
export interface LambdaEnvironment {
  readonly workGroup: string;
  /** Each deployed source's table (set by the CDK app from the raw-table specs). */
  readonly sourceTables: Readonly<Record<string, SourceTable>>;
  readonly workDatabase: string;
  readonly evidenceBucket: string;
  readonly evidencePrefix: string;
  readonly dataKeyArn: string;
  readonly signingKeyArn: string;
  readonly version: string;
  readonly configPath: string | undefined;
  /** The pack state machine (set on the starters, not on the stage function it invokes). */
  readonly stateMachineArn: string | undefined;
  /** The Athena results bucket, whose `stages/` folder holds stage results (set on the stage function). */
  readonly resultsBucket: string | undefined;
}

/**
 * Reads the functions' environment.
 * @throws SessiontrailError `BAD_CONFIG` naming the first missing variable.
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): LambdaEnvironment {
  const need = (key: string): string => {
    const v = env[key];
    if (v === undefined || v === '')
      throw new SessiontrailError(
        'BAD_CONFIG',
        `environment variable ${key} is not set (the CDK app sets it)`,
      );
    return v;
  };
  return {
    workGroup: need('SESSIONTRAIL_WORK_GROUP'),
    sourceTables: parseSourceTables(need('SESSIONTRAIL_SOURCE_TABLES')),
    workDatabase: need('SESSIONTRAIL_WORK_DATABASE'),
    evidenceBucket: need('SESSIONTRAIL_EVIDENCE_BUCKET'),
    evidencePrefix: need('SESSIONTRAIL_EVIDENCE_PREFIX'),
    dataKeyArn: need('SESSIONTRAIL_DATA_KEY_ARN'),
    signingKeyArn: need('SESSIONTRAIL_SIGNING_KEY_ARN'),
    version: env.SESSIONTRAIL_VERSION ?? '0.0.0',
    configPath: env.SESSIONTRAIL_CONFIG_PATH || undefined,
    stateMachineArn: env.SESSIONTRAIL_STATE_MACHINE_ARN || undefined,
    resultsBucket: env.SESSIONTRAIL_RESULTS_BUCKET || undefined,
  };
}

function needSet(value: string | undefined, key: string): string {
  if (value === undefined)
    throw new SessiontrailError('BAD_CONFIG', `environment variable ${key} is not set (the CDK app sets it)`);
  return value;
}

/** A run id Athena accepts (`[a-z0-9_]{1,64}`) from a pack id: the same pack, the same run id. */
export function runIdOf(packId: string): string {
  const clean = packId.toLowerCase().replace(/[^a-z0-9]/g, '');
  return `p${clean.slice(0, 40) || 'local'}`;
}

/** How long one Athena query may take: what is left of the invocation, less a minute to seal, at most 10 min. */
export function queryDeadlineMs(remainingMs: number): number {
  return Math.max(30_000, Math.min(600_000, remainingMs - 60_000));
}

/** The AWS runtime: Athena, S3 with Object Lock, KMS. Clients are made once per container. */
export function awsRuntime(env: NodeJS.ProcessEnv = process.env): HandlerRuntime {
  let settings: LambdaEnvironment | undefined;
  const read = () => {
    settings ??= readEnvironment(env);
    return settings;
  };
  let clients: { athena: AthenaClient; s3: S3Client; kms: KMSClient; sfn: SFNClient } | undefined;
  const aws = () => {
    clients ??= {
      athena: tracer.captureAWSv3Client(new AthenaClient({})),
      s3: tracer.captureAWSv3Client(new S3Client({})),
      kms: tracer.captureAWSv3Client(new KMSClient({})),
      sfn: tracer.captureAWSv3Client(new SFNClient({})),
    };
    return clients;
  };
  let store: EvidenceStore | undefined;
  let stageStore: EvidenceStore | undefined;
  let executions: PackExecutions | undefined;
  let signer: Signer | undefined;
  let config: Promise<Config> | undefined;
  let locator: RawLogLocator | undefined;

  const runtime: HandlerRuntime = {
    store() {
      const s = read();
      // No objectLock option: the bucket's default retention applies, so the role needs no
      // s3:PutObjectRetention and cannot shorten a retention.
      store ??= new S3EvidenceStore({
        client: aws().s3,
        bucket: s.evidenceBucket,
        prefix: s.evidencePrefix,
        kmsKeyId: s.dataKeyArn,
      });
      return store;
    },
    locator() {
      // CloudTrail's delivered documents are split per record before its queries run.
      locator ??= tableLocator(
        read().sourceTables,
        stagingOf((t) => s3StagingBucket({ client: aws().s3, ...parseLogsRoot(t.keyPrefix ?? '') })),
      );
      return locator;
    },
    config() {
      const path = read().configPath;
      config ??= path === undefined ? Promise.resolve(DEFAULT_CONFIG) : loadConfig(path);
      return config;
    },
    async exportDeps(run) {
      const s = read();
      signer ??= new KmsSigner({ client: aws().kms, keyId: s.signingKeyArn });
      const engine = new AthenaEngine({
        client: aws().athena,
        workGroup: s.workGroup,
        workDatabase: s.workDatabase,
        runId: runIdOf(run.packId),
        deadlineMs: queryDeadlineMs(run.remainingMs),
      });
      return {
        engine,
        store: runtime.store(),
        signer,
        clock: systemClock,
        config: await runtime.config(),
        locator: runtime.locator(),
        // The pack lists the version, ETag and size of every log object Athena read.
        objectVersions: s3ObjectVersions(aws().s3),
        toolVersion: s.version,
        close: () => engine.close(),
      };
    },
    executions() {
      executions ??= new StepFunctionsExecutions({
        client: aws().sfn,
        stateMachineArn: needSet(read().stateMachineArn, 'SESSIONTRAIL_STATE_MACHINE_ARN'),
      });
      return executions;
    },
    stageStore() {
      const s = read();
      // Scratch, not evidence: the results bucket expires it (no Object Lock), encrypted with the data key.
      stageStore ??= new S3EvidenceStore({
        client: aws().s3,
        bucket: needSet(s.resultsBucket, 'SESSIONTRAIL_RESULTS_BUCKET'),
        prefix: STAGES_PREFIX,
        kmsKeyId: s.dataKeyArn,
      });
      return stageStore;
    },
  };
  return runtime;
}
