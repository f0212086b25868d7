/**
 * The stateless half of sessiontrail: the Glue tables over the existing logs bucket (partition
 * projection, no crawler), a Glue work database for the packs' working tables, the Athena workgroup
 * with its scan limit, the two Lambdas with exactly the permissions they use, the monthly review
 * schedule, the dead-letter queue and the alarms.
 */
import { Aws, CfnOutput, Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { STAGES_PREFIX } from '../../lib/export/pack-execution.ts';
import { type SourceTable, securityLakeTable, sourceTableOf } from '../../lib/locate/raw-input-plan.ts';
import { stagingListingsOf } from '../../lib/locate/record-staging.ts';
import { CLOUDTRAIL_SOURCE } from '../../lib/sources/cloudtrail.ts';
import { cloudTrailRawTable } from '../../lib/sources/cloudtrail-raw-table.ts';
import { SOURCE_NAMES, SOURCES } from '../../lib/sources/index.ts';
import { OCSF_SOURCE } from '../../lib/sources/ocsf.ts';
import { OCSF_JSON_TABLE } from '../../lib/sources/ocsf-raw-table.ts';
import { deliveredLayoutOf, stagingFolderOf } from '../../lib/sources/raw-table.ts';
import { SETTING_DEFAULTS } from '../settings.ts';
import { ExporterFunction } from './exporter-function.ts';
import { PackStateMachine } from './pack-state-machine.ts';
import { glueTableInput, type RawTablePlacement, readPrefixes, underPrefix } from './raw-tables.ts';

/** What the exporter uses from the storage half. */
export interface ExporterStorage {
  /** Physical bucket names (they embed only the account and region, never a cross-stack reference). */
  readonly bucketNames: { readonly evidence: string; readonly results: string };
  readonly dataKey: kms.IKey;
  readonly signingKey: kms.IKey;
  readonly reviewRole: iam.IRole;
  readonly onDemandRole: iam.IRole;
}

export interface ExporterProps {
  readonly storage: ExporterStorage;
  /** Prefix of the workgroup, databases and alarms (lower-case letters, digits, -). @default 'sessiontrail' */
  readonly name?: string;
  /** The existing bucket with the logs (laid out as each source's raw-table spec says, under `logsPrefix`). */
  readonly logsBucketName: string;
  /** Key prefix of the sources' folders, without slashes; '' for the bucket root. @default 'logs' */
  readonly logsPrefix?: string;
  /** The customer key of the logs bucket, when it has one. @default - SSE-S3: no key permission */
  readonly logsKmsKeyArn?: string;
  /** Key prefix of the packs in the evidence bucket. @default 'packs' */
  readonly evidencePrefix?: string;
  /** Sources to create tables for. @default every source in lib/sources/index.ts */
  readonly sources?: readonly string[];
  /**
   * Accounts whose partitions the CloudTrail (and OCSF Parquet) tables project.
   * @default - the account the stack is deployed in
   */
  readonly logAccounts?: readonly string[];
  /**
   * Regions whose partitions the CloudTrail (and OCSF Parquet) tables project.
   * @default - the region the stack is deployed in
   */
  readonly logRegions?: readonly string[];
  /**
   * An existing Amazon Security Lake table, `<database>.<table>`, that the OCSF source reads; no OCSF
   * table is created then. Lake Formation must grant the exporter roles SELECT on it.
   * @default - an OCSF Parquet table over `<logsPrefix>/ocsf/` (lib/sources/ocsf-raw-table.ts)
   */
  readonly securityLakeTable?: string;
  /** The Security Lake table's version. @default - read from the table name (`_1_0`, `_2_0`) */
  readonly securityLakeVersion?: 1 | 2;
  /** Athena BytesScannedCutoffPerQuery. @default 1 TiB */
  readonly scanCutoffBytes?: number;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Scheduler expression of the monthly review. @default 'cron(0 6 1 * ? *)' (06:00 on the 1st) */
  readonly reviewSchedule?: string;
  /**
   * Scheduler expression of the review's deadline, in the same month as the review: the review
   * function then checks that the month's pack is sealed, and the `ReviewDeadlineMissed` alarm fires
   * when it is not. @default 'cron(0 6 2 * ? *)' (06:00 on the 2nd, a day after the default review)
   */
  readonly reviewDeadlineSchedule?: string;
  /** @default 'UTC' */
  readonly scheduleTimeZone?: string;
  /** How far the scheduler may delay the review to spread load. @default 1 hour */
  readonly flexibleWindow?: Duration;
  /** A sessiontrail configuration file shipped with the functions. @default - the built-in defaults */
  readonly configFile?: string;
  /** SNS topic the alarms notify. @default - alarms without actions */
  readonly alarmTopicArn?: string;
  /**
   * Reserved concurrency of the on-demand function; the scheduled review reserves 1 (one review a
   * month; a retry waits for the run in progress). 0: nothing reserved. @default 2
   */
  readonly reservedConcurrency?: number;
  /**
   * `json`: the OCSF files under `<logsPrefix>/ocsf/` are JSON (lines, documents, arrays): the OCSF
   * table is the staged one (`OCSF_JSON_TABLE`), whose copies the record staging writes before the
   * OCSF queries, so that each record is cited by its position. @default - Parquet
   */
  readonly ocsfFormat?: 'json';
  /**
   * The AWS Organizations id when the logs come from an organization trail, which writes
   * `AWSLogs/<org-id>/<account>/CloudTrail/…`. @default - a single-account trail (`AWSLogs/<account>/…`)
   */
  readonly trailOrganizationId?: string;
  /** The deadline of one pack's execution (the state machine's timeout). @default 6 hours */
  readonly packDeadline?: Duration;
  /**
   * The bound on bytes one pack's queries may scan, checked by the finish stage before anything is
   * sealed (`COST_BOUND_EXCEEDED`). @default - 10 × scanCutoffBytes (10 TiB with the default cutoff)
   */
  readonly maxBytesScannedPerPack?: number;
}

/** Folder of the Athena results (and of the CTAS working tables' files) in the results bucket. */
export const RESULTS_PREFIX = 'athena';

export class Exporter extends Construct {
  readonly rawDatabaseName: string;
  readonly workDatabaseName: string;
  readonly workGroupName: string;
  readonly reviewFunction: ExporterFunction;
  readonly onDemandFunction: ExporterFunction;
  readonly deadLetterQueue: sqs.Queue;
  /** The state machine that builds one pack, stage by stage; both functions start its executions. */
  readonly packs: PackStateMachine;
  readonly schedule: scheduler.Schedule;
  /** The review's deadline check (see {@link ExporterProps.reviewDeadlineSchedule}). */
  readonly deadlineSchedule: scheduler.Schedule;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ExporterProps) {
    super(scope, id);
    const name = props.name ?? SETTING_DEFAULTS.name;
    const dbBase = name.replaceAll('-', '_');
    const logsPrefix = (props.logsPrefix ?? SETTING_DEFAULTS.logsPrefix).replace(/^\/+|\/+$/g, '');
    const evidencePrefix = (props.evidencePrefix ?? SETTING_DEFAULTS.evidencePrefix).replace(
      /^\/+|\/+$/g,
      '',
    );
    const sources = props.sources ?? SOURCE_NAMES;
    for (const s of sources)
      if (SOURCES[s] === undefined)
        throw new Error(
          `Exporter sources: unknown source ${JSON.stringify(s)}; known: ${SOURCE_NAMES.join(', ')}`,
        );
    const { storage } = props;
    const partition = Stack.of(this).partition;
    const placement: RawTablePlacement = {
      bucket: props.logsBucketName,
      logsPrefix,
      values: {
        accounts: props.logAccounts ?? [Aws.ACCOUNT_ID],
        regions: withGlobalServiceRegion(props.logRegions ?? [Stack.of(this).region]),
      },
    };
    const logsRoot = `s3://${props.logsBucketName}/${logsPrefix === '' ? '' : `${logsPrefix}/`}`;

    // --- Glue: raw tables over the logs (one per source), and the work database -------------------
    this.rawDatabaseName = `${dbBase}_raw`;
    this.workDatabaseName = `${dbBase}_work`;
    const rawDb = new glue.CfnDatabase(this, 'RawDatabase', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: this.rawDatabaseName,
        description: `sessiontrail: raw log lines in s3://${props.logsBucketName}/${logsPrefix}`,
      },
    });
    const workDb = new glue.CfnDatabase(this, 'WorkDatabase', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: this.workDatabaseName,
        description: 'sessiontrail: per-pack working tables (CTAS), dropped when a pack is done',
      },
    });
    // One table per source from its raw-table spec, except the source that reads Security Lake
    // (the registry says which) when Security Lake's own table is named.
    const lakeSource = sources.find((s) => SOURCES[s]?.readsSecurityLake === true);
    const lake =
      props.securityLakeTable === undefined || lakeSource === undefined
        ? undefined
        : securityLakeTable(props.securityLakeTable, props.securityLakeVersion);
    const sourceTables: Record<string, SourceTable> = {};
    const rawTables: string[] = [];
    const readFolders: string[] = [];
    const staging = { folders: [] as string[], listings: [] as string[] };
    for (const source of sources) {
      if (source === lakeSource && lake !== undefined) {
        sourceTables[source] = lake;
        continue;
      }
      const spec =
        source === CLOUDTRAIL_SOURCE && props.trailOrganizationId !== undefined
          ? cloudTrailRawTable(props.trailOrganizationId)
          : source === OCSF_SOURCE && props.ocsfFormat === 'json'
            ? OCSF_JSON_TABLE
            : SOURCES[source]!.rawTable;
      const table = new glue.CfnTable(this, `RawTable-${source}`, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.rawDatabaseName,
        tableInput: glueTableInput(spec, placement),
      });
      table.node.addDependency(rawDb);
      rawTables.push(spec.table);
      readFolders.push(...readPrefixes(spec, placement));
      sourceTables[source] = sourceTableOf(spec, { database: this.rawDatabaseName, logsRoot });
      if (spec.stagedFrom !== undefined) {
        // The staging (lib/locate/record-staging.ts) reads the delivered objects, lists the
        // account and region folders it walks (exact prefixes only), and writes under its folder.
        readFolders.push(...readPrefixes(deliveredLayoutOf(spec), placement));
        staging.folders.push(underPrefix(placement, stagingFolderOf(spec.stagedFrom)));
        staging.listings.push(
          ...stagingListingsOf(sourceTables[source], placement.values).map((l) => underPrefix(placement, l)),
        );
      }
    }

    // --- Athena workgroup ---------------------------------------------------------------------------
    this.workGroupName = name;
    const workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'sessiontrail: evidence-pack queries',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        // Enforced: a query cannot choose another result location, drop the encryption or the limit.
        enforceWorkGroupConfiguration: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        bytesScannedCutoffPerQuery: props.scanCutoffBytes ?? SETTING_DEFAULTS.scanCutoffBytes.prod,
        publishCloudWatchMetricsEnabled: true,
        requesterPaysEnabled: false,
        resultConfiguration: {
          outputLocation: `s3://${storage.bucketNames.results}/${RESULTS_PREFIX}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: storage.dataKey.keyArn },
          expectedBucketOwner: Aws.ACCOUNT_ID,
        },
      },
    });

    // --- Roles: the storage half's roles, imported so that the policies live in this (stateless) scope
    const reviewRole = iam.Role.fromRoleArn(this, 'ReviewRoleRef', storage.reviewRole.roleArn, {
      mutable: true,
    });
    const onDemandRole = iam.Role.fromRoleArn(this, 'OnDemandRoleRef', storage.onDemandRole.roleArn, {
      mutable: true,
    });

    // --- Dead-letter queue ---------------------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the review schedule and of both functions; its messages are kept 14 days and alarmed on, not redriven.',
    });

    // --- Functions -------------------------------------------------------------------------------------
    const environment = {
      SESSIONTRAIL_WORK_GROUP: this.workGroupName,
      // Each source's table, day partition, lag and key prefix (lib/locate/raw-input-plan.ts).
      SESSIONTRAIL_SOURCE_TABLES: JSON.stringify(sourceTables),
      SESSIONTRAIL_WORK_DATABASE: this.workDatabaseName,
      SESSIONTRAIL_EVIDENCE_BUCKET: storage.bucketNames.evidence,
      SESSIONTRAIL_EVIDENCE_PREFIX: evidencePrefix,
      SESSIONTRAIL_DATA_KEY_ARN: storage.dataKey.keyArn,
      SESSIONTRAIL_SIGNING_KEY_ARN: storage.signingKey.keyArn,
    };
    const common = {
      environment,
      ...(props.configFile === undefined ? {} : { configFile: props.configFile }),
      logRetention: props.logRetention ?? (SETTING_DEFAULTS.logRetentionDays.prod as logs.RetentionDays),
    };
    const reserved = props.reservedConcurrency ?? SETTING_DEFAULTS.reservedConcurrency;
    if (!Number.isInteger(reserved) || reserved < 0)
      throw new Error(`Exporter reservedConcurrency: expected a whole number >= 0, received ${reserved}`);
    this.reviewFunction = new ExporterFunction(this, 'ScheduledReview', {
      ...common,
      ...(reserved > 0 ? { reservedConcurrency: 1 } : {}),
      entry: 'functions/scheduled-review.ts',
      role: reviewRole,
      description: 'sessiontrail: monthly review pack of the previous calendar month',
    });
    this.onDemandFunction = new ExporterFunction(this, 'OnDemand', {
      ...common,
      ...(reserved > 0 ? { reservedConcurrency: reserved } : {}),
      entry: 'functions/on-demand.ts',
      role: onDemandRole,
      description: 'sessiontrail: audit and incident packs on request; pack status',
    });
    for (const f of [this.reviewFunction, this.onDemandFunction]) {
      // Invoked asynchronously (by the scheduler, or by the on-demand function itself): retry twice,
      // then park the event in the dead-letter queue. A retry of the same event rebuilds the same pack.
      f.function.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
        onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      });
    }

    // --- Permissions: exactly what the export use case calls --------------------------------------
    const statements = exporterStatements({
      partition,
      workGroupName: this.workGroupName,
      rawDatabase: this.rawDatabaseName,
      rawTables,
      workDatabase: this.workDatabaseName,
      logsBucketName: props.logsBucketName,
      logsFolders: readFolders,
      stagingFolders: staging.folders,
      stagingListings: staging.listings,
      logsKmsKeyArn: props.logsKmsKeyArn,
      ...(lake === undefined ? {} : { securityLakeTable: lake.table }),
      resultsBucketArn: `arn:${partition}:s3:::${storage.bucketNames.results}`,
      evidenceBucketArn: `arn:${partition}:s3:::${storage.bucketNames.evidence}`,
      evidencePrefix,
      dataKeyArn: storage.dataKey.keyArn,
      signingKeyArn: storage.signingKey.keyArn,
    });
    const grant = (id: string, role: iam.IRole, fn: ExporterFunction) => {
      const policy = new iam.Policy(this, id, {
        roles: [role],
        statements: [
          ...statements,
          new iam.PolicyStatement({
            sid: 'WriteOwnLogs',
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            resources: [fn.logGroup.logGroupArn],
          }),
        ],
      });
      // The function must not run before it may do its work.
      fn.function.node.addDependency(policy);
      policy.node.addDependency(workGroup, workDb);
      acknowledgeExporterWildcards(policy, {
        partition,
        logsFolders: readFolders,
        stagingFolders: staging.folders,
        logsBucketName: props.logsBucketName,
        securityLake: lake !== undefined,
        evidenceBucketName: storage.bucketNames.evidence,
        evidencePrefix,
        resultsBucketName: storage.bucketNames.results,
        workDatabase: this.workDatabaseName,
      });
      return policy;
    };
    grant('ReviewPolicy', reviewRole, this.reviewFunction);
    const onDemandPolicy = grant('OnDemandPolicy', onDemandRole, this.onDemandFunction);

    // --- The pack state machine: its stages run under the on-demand role (the signing key's policy
    // names the two exporter roles; a stage makes exactly the export's calls, granted above).
    const maxBytesScanned =
      props.maxBytesScannedPerPack ??
      (props.scanCutoffBytes === undefined
        ? SETTING_DEFAULTS.maxBytesScannedPerPack.prod
        : 10 * props.scanCutoffBytes);
    if (!Number.isSafeInteger(maxBytesScanned) || maxBytesScanned < 1)
      throw new Error(
        `Exporter maxBytesScannedPerPack: expected a whole number >= 1, received ${maxBytesScanned}`,
      );
    this.packs = new PackStateMachine(this, 'Packs', {
      stateMachineName: `${name}-pack`,
      role: onDemandRole,
      functionProps: {
        ...common,
        environment: { ...environment, SESSIONTRAIL_RESULTS_BUCKET: storage.bucketNames.results },
      },
      deadline: props.packDeadline ?? Duration.minutes(SETTING_DEFAULTS.packDeadlineMinutes),
      maxBytesScanned,
      logRetention: common.logRetention,
    });
    const stageFn = this.packs.stageFunction;
    const stagesArn = `arn:${partition}:s3:::${storage.bucketNames.results}/${STAGES_PREFIX}/*`;
    const stagePolicy = new iam.Policy(this, 'StagePolicy', {
      roles: [onDemandRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'WriteStageLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [stageFn.logGroup.logGroupArn],
        }),
        new iam.PolicyStatement({
          // A source stage writes its rows (write-once, content-addressed), the finish reads them.
          sid: 'StageResults',
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [stagesArn],
        }),
      ],
    });
    Validations.of(stagePolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(Stack.of(this).resolve(stagesArn))}]`,
      reason:
        'Stage results are written under stages/<pack id>/<source>-<digest>.json with names known only at run time; the folder is scratch in the results bucket, which expires it.',
    });
    stageFn.function.node.addDependency(onDemandPolicy, stagePolicy);
    const stateMachineArn = this.packs.stateMachine.stateMachineArn;
    const executionsArn = `arn:${partition}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${name}-pack:*`;
    // Separate policies: the state machine depends on the stage function, which depends on the
    // policies above; these name the state machine.
    const startStatements = () => [
      new iam.PolicyStatement({
        sid: 'StartPackExecutions',
        actions: ['states:StartExecution'],
        resources: [stateMachineArn],
      }),
      new iam.PolicyStatement({
        // The status action reads the pack's execution (named after the pack id); a start of the
        // same request reads it when StartExecution answers ExecutionAlreadyExists.
        sid: 'DescribePackExecutions',
        actions: ['states:DescribeExecution'],
        resources: [executionsArn],
      }),
      new iam.PolicyStatement({
        // The same request after its execution failed redrives it from the failed stage.
        sid: 'RedriveFailedPackExecutions',
        actions: ['states:RedriveExecution'],
        resources: [executionsArn],
      }),
    ];
    for (const [id, role] of [
      ['ReviewStartPolicy', reviewRole],
      ['OnDemandStartPolicy', onDemandRole],
    ] as const) {
      const policy = new iam.Policy(this, id, { roles: [role], statements: startStatements() });
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(Stack.of(this).resolve(executionsArn))}]`,
        reason:
          'Executions are named after pack ids derived at run time; DescribeExecution and RedriveExecution on the executions of the pack state machine only.',
      });
    }
    for (const f of [this.reviewFunction, this.onDemandFunction])
      f.function.addEnvironment('SESSIONTRAIL_STATE_MACHINE_ARN', stateMachineArn);
    for (const role of [reviewRole, onDemandRole]) {
      // Added by the Lambda construct for active tracing.
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'xray:PutTraceSegments and xray:PutTelemetryRecords (added by the Lambda construct for active tracing) do not support resource-level permissions (Service Authorization Reference, AWS X-Ray).',
      });
    }

    // --- Schedule ------------------------------------------------------------------------------------
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'sessiontrail: lets EventBridge Scheduler invoke the scheduled review',
    });
    const reviewFnLogicalId = Stack.of(this).resolve(
      (this.reviewFunction.function.node.defaultChild as lambda.CfnFunction).logicalId,
    ) as string;
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${reviewFnLogicalId}.Arn>:*]`,
      reason:
        'Added by the CDK LambdaInvoke target (grantInvoke also names the qualified form <function arn>:*); it covers versions and aliases of the scheduled-review function only.',
    });
    this.schedule = new scheduler.Schedule(this, 'MonthlyReview', {
      description: 'sessiontrail: review pack of the previous calendar month',
      schedule: scheduler.ScheduleExpression.expression(
        props.reviewSchedule ?? SETTING_DEFAULTS.reviewCron,
        TimeZone.of(props.scheduleTimeZone ?? SETTING_DEFAULTS.scheduleTimeZone),
      ),
      timeWindow: scheduler.TimeWindow.flexible(
        props.flexibleWindow ?? Duration.minutes(SETTING_DEFAULTS.flexibleWindowMinutes),
      ),
      target: new targets.LambdaInvoke(this.reviewFunction.function, {
        // The window comes from the schedule's own time, never from the clock at run time.
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          scheduleArn: scheduler.ContextAttribute.scheduleArn,
          executionId: scheduler.ContextAttribute.executionId,
          attempt: scheduler.ContextAttribute.attemptNumber,
          timeZone: props.scheduleTimeZone ?? SETTING_DEFAULTS.scheduleTimeZone,
        }),
        role: scheduleRole,
        retryAttempts: 5,
        maxEventAge: Duration.hours(12),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });

    // The deadline: a review that never ran (schedule disabled, quota, a region outage) raises no
    // error, so a second schedule asks the function whether the month's pack is sealed.
    this.deadlineSchedule = new scheduler.Schedule(this, 'ReviewDeadline', {
      description: 'sessiontrail: checks that the monthly review pack is sealed by its deadline',
      schedule: scheduler.ScheduleExpression.expression(
        props.reviewDeadlineSchedule ?? SETTING_DEFAULTS.reviewDeadlineCron,
        TimeZone.of(props.scheduleTimeZone ?? SETTING_DEFAULTS.scheduleTimeZone),
      ),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.reviewFunction.function, {
        input: scheduler.ScheduleTargetInput.fromObject({
          check: 'deadline',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          scheduleArn: scheduler.ContextAttribute.scheduleArn,
          executionId: scheduler.ContextAttribute.executionId,
          attempt: scheduler.ContextAttribute.attemptNumber,
          timeZone: props.scheduleTimeZone ?? SETTING_DEFAULTS.scheduleTimeZone,
        }),
        role: scheduleRole,
        retryAttempts: 5,
        maxEventAge: Duration.hours(12),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });

    // --- Alarms ----------------------------------------------------------------------------------------
    const topic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : undefined;
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmName: `${name}-${id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (topic) a.addAlarmAction(new cwActions.SnsAction(topic));
      return a;
    };
    const fiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    this.alarms = [
      alarm(
        'ReviewErrors',
        this.reviewFunction.function.metricErrors(fiveMinutes),
        'The scheduled review function failed: the month may have no sealed review pack.',
      ),
      alarm(
        'OnDemandErrors',
        this.onDemandFunction.function.metricErrors(fiveMinutes),
        'The on-demand function failed: an audit or incident pack may not have been sealed.',
      ),
      alarm(
        'DeadLetters',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        'An export event gave up after its retries and sits in the dead-letter queue: rerun it.',
      ),
      alarm(
        'PackExecutionsFailed',
        new cloudwatch.MathExpression({
          expression: 'failed + timedOut',
          usingMetrics: {
            failed: this.packs.stateMachine.metricFailed(fiveMinutes),
            timedOut: this.packs.stateMachine.metricTimedOut(fiveMinutes),
          },
          period: Duration.minutes(5),
        }),
        'A pack execution failed (after its stages’ retries) or passed its deadline: its history names the stage and the error code.',
      ),
      alarm(
        'ReviewDeadlineMissed',
        // Counted by the review function's deadline check (Powertools metrics: the functions'
        // namespace, dimension service = POWERTOOLS_SERVICE_NAME).
        new cloudwatch.Metric({
          namespace: 'sessiontrail',
          metricName: 'ReviewDeadlineMissed',
          dimensionsMap: { service: 'sessiontrail' },
          period: Duration.hours(1),
          statistic: cloudwatch.Stats.SUM,
        }),
        'The monthly review pack was not sealed by its deadline (the review did not run, or failed every retry): run it on demand.',
      ),
    ];

    new CfnOutput(this, 'OnDemandFunctionName', { value: this.onDemandFunction.function.functionName });
    new CfnOutput(this, 'WorkGroupName', { value: this.workGroupName });
    new CfnOutput(this, 'PackStateMachineArn', { value: stateMachineArn });
  }
}

/**
 * CloudTrail records the events of global services (IAM, STS, CloudFront) in us-east-1 (CloudTrail
 * user guide, "Understanding global service events"): a trail's us-east-1 folder holds the role
 * assumptions and console sign-ins of every region, so it is always projected and read.
 */
export const GLOBAL_SERVICE_REGION = 'us-east-1';

/**
 * The regions the CloudTrail table projects: the given ones (or the stack's) and us-east-1. A
 * region only known at deploy time (an environment-agnostic synth) cannot be compared: us-east-1 is
 * added, and a deployment into us-east-1 then projects it twice (its records are read twice and
 * collapse on their eventID; Athena bills the bytes twice).
 */
export function withGlobalServiceRegion(regions: readonly string[]): string[] {
  return regions.includes(GLOBAL_SERVICE_REGION) ? [...regions] : [...regions, GLOBAL_SERVICE_REGION];
}

export interface ExporterStatementsInput {
  readonly partition: string;
  readonly workGroupName: string;
  readonly rawDatabase: string;
  readonly rawTables: readonly string[];
  readonly workDatabase: string;
  readonly logsBucketName: string;
  /** Folders the raw tables read (relative to the bucket), from {@link readPrefixes}. */
  readonly logsFolders: readonly string[];
  /** Folders the record staging writes its per-record copies and accounts in (relative to the bucket). */
  readonly stagingFolders?: readonly string[];
  /** Exact prefixes the staging lists to find the account and region folders of the delivered layout. */
  readonly stagingListings?: readonly string[];
  readonly logsKmsKeyArn: string | undefined;
  /** The Security Lake table `<database>.<table>` the OCSF source reads, if any. */
  readonly securityLakeTable?: string;
  readonly resultsBucketArn: string;
  readonly evidenceBucketArn: string;
  readonly evidencePrefix: string;
  readonly dataKeyArn: string;
  readonly signingKeyArn: string;
}

/**
 * The statements both exporter roles need, each on the resources it touches: what AthenaEngine,
 * S3EvidenceStore and KmsSigner call, plus what Athena itself does with the caller's credentials
 * (reads the logs, writes results and CTAS files, encrypts them with the data key).
 */
export function exporterStatements(i: ExporterStatementsInput): iam.PolicyStatement[] {
  const glueArn = (resource: string) => `arn:${i.partition}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
  const logsBucketArn = `arn:${i.partition}:s3:::${i.logsBucketName}`;
  const statements = [
    new iam.PolicyStatement({
      sid: 'RunAthenaQueries',
      actions: [
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:GetWorkGroup',
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
      ],
      resources: [`arn:${i.partition}:athena:${Aws.REGION}:${Aws.ACCOUNT_ID}:workgroup/${i.workGroupName}`],
    }),
    new iam.PolicyStatement({
      sid: 'ReadRawTables',
      // Athena reads the table definition; GetPartitions is called for partitioned tables even when
      // their partitions are projected.
      actions: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable'],
      resources: [
        glueArn('catalog'),
        glueArn(`database/${i.rawDatabase}`),
        ...i.rawTables.map((t) => glueArn(`table/${i.rawDatabase}/${t}`)),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'ManageWorkTables',
      // CREATE TABLE AS and DROP TABLE of the pack's run-prefixed working tables.
      actions: [
        'glue:BatchDeletePartition',
        'glue:CreateTable',
        'glue:DeleteTable',
        'glue:GetDatabase',
        'glue:GetPartitions',
        'glue:GetTable',
      ],
      resources: [
        glueArn('catalog'),
        glueArn(`database/${i.workDatabase}`),
        glueArn(`table/${i.workDatabase}/*`),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'LocateLogsBucket',
      actions: ['s3:GetBucketLocation'],
      resources: [logsBucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ListLogFolders',
      actions: ['s3:ListBucket'],
      resources: [logsBucketArn],
      conditions: { StringLike: { 's3:prefix': i.logsFolders.map((f) => `${f}/*`) } },
    }),
    new iam.PolicyStatement({
      sid: 'ReadLogs',
      actions: ['s3:GetObject'],
      resources: i.logsFolders.map((f) => `${logsBucketArn}/${f}/*`),
    }),
    new iam.PolicyStatement({
      sid: 'AthenaResultsBucket',
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: [i.resultsBucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'AthenaResultsObjects',
      actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
      resources: [`${i.resultsBucketArn}/${RESULTS_PREFIX}/*`],
    }),
    new iam.PolicyStatement({
      sid: 'ListEvidence',
      actions: ['s3:ListBucket'],
      resources: [i.evidenceBucketArn],
      conditions: { StringLike: { 's3:prefix': [`${i.evidencePrefix}/*`] } },
    }),
    new iam.PolicyStatement({
      // Write once, read back (manifests of earlier packs, HeadObject): no delete, no retention change.
      sid: 'WriteEvidence',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [`${i.evidenceBucketArn}/${i.evidencePrefix}/*`],
    }),
    new iam.PolicyStatement({
      sid: 'UseDataKey',
      // SSE-KMS of evidence and Athena results: a data key to write, Decrypt to read back.
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [i.dataKeyArn],
    }),
    new iam.PolicyStatement({
      sid: 'SignManifests',
      actions: ['kms:GetPublicKey', 'kms:Sign'],
      resources: [i.signingKeyArn],
    }),
  ];
  const stagingFolders = [...new Set(i.stagingFolders ?? [])];
  if (stagingFolders.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'ListForStaging',
        actions: ['s3:ListBucket'],
        resources: [logsBucketArn],
        conditions: {
          StringLike: { 's3:prefix': [...new Set(i.stagingListings ?? [])] },
        },
      }),
      new iam.PolicyStatement({
        sid: 'ListStaged',
        actions: ['s3:ListBucket'],
        resources: [logsBucketArn],
        conditions: { StringLike: { 's3:prefix': stagingFolders.map((f) => `${f}/*`) } },
      }),
      new iam.PolicyStatement({
        // Write once (If-None-Match) and read back; no delete: a staged copy is named by its
        // delivered object's key and ETag and never changes.
        sid: 'WriteStaged',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: stagingFolders.map((f) => `${logsBucketArn}/${f}/*`),
      }),
    );
  }
  if (i.securityLakeTable !== undefined) {
    const [database, table] = i.securityLakeTable.split('.') as [string, string];
    statements.push(
      new iam.PolicyStatement({
        sid: 'ReadSecurityLakeTable',
        actions: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable'],
        resources: [
          glueArn('catalog'),
          glueArn(`database/${database}`),
          glueArn(`table/${database}/${table}`),
        ],
      }),
      new iam.PolicyStatement({
        // Security Lake's data is registered with Lake Formation, which vends the S3 credentials to
        // Athena (SELECT on the table is granted in Lake Formation): no S3 statement for its bucket.
        sid: 'LakeFormationDataAccess',
        actions: ['lakeformation:GetDataAccess'],
        resources: ['*'],
      }),
    );
  }
  if (i.logsKmsKeyArn !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'DecryptLogs',
        // The staging writes into the logs bucket, encrypted by its default key.
        actions: stagingFolders.length > 0 ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
        resources: [i.logsKmsKeyArn],
      }),
    );
  }
  return statements;
}

function acknowledgeExporterWildcards(
  policy: iam.Policy,
  i: {
    partition: string;
    logsFolders: readonly string[];
    stagingFolders: readonly string[];
    logsBucketName: string;
    evidenceBucketName: string;
    evidencePrefix: string;
    resultsBucketName: string;
    workDatabase: string;
    securityLake: boolean;
  },
): void {
  const v = Validations.of(policy);
  const arn = (text: string) => nagResource(Stack.of(policy).resolve(text));
  v.acknowledge({
    id: `AwsSolutions-IAM5[Resource::${arn(`arn:${i.partition}:s3:::${i.evidenceBucketName}/${i.evidencePrefix}/*`)}]`,
    reason:
      'Packs are written under <prefix>/<series>/<pack id>/ with ids derived at run time; the statement allows only GetObject and PutObject (no delete, no retention change) under the evidence prefix.',
  });
  v.acknowledge({
    id: `AwsSolutions-IAM5[Resource::${arn(`arn:${i.partition}:s3:::${i.resultsBucketName}/${RESULTS_PREFIX}/*`)}]`,
    reason:
      'Athena writes each query result and CTAS working table under athena/<query id>/ with the caller credentials; the ids exist only at run time. The bucket holds scratch data that expires.',
  });
  v.acknowledge({
    id: `AwsSolutions-IAM5[Resource::${arn(`arn:${i.partition}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/${i.workDatabase}/*`)}]`,
    reason:
      'Working tables are created per pack at run time, named <run id>_<name> in the sessiontrail work database only; their names are not known at deploy time.',
  });
  for (const f of i.logsFolders) {
    v.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arn(`arn:${i.partition}:s3:::${i.logsBucketName}/${f}/*`)}]`,
      reason: `Athena reads every log object of the ${f} folder (the day partitions below it, any file name); read only, one folder of one source table.`,
    });
  }
  for (const f of new Set(i.stagingFolders)) {
    v.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arn(`arn:${i.partition}:s3:::${i.logsBucketName}/${f}/*`)}]`,
      reason: `The record staging writes one per-record copy and one account per delivered object under ${f}/, named by the object's key and ETag at run time; GetObject and PutObject only (no delete), one prefix.`,
    });
  }
  if (i.securityLake) {
    v.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'lakeformation:GetDataAccess supports no resource-level permissions (Service Authorization Reference, AWS Lake Formation); what it can read is bounded by the Lake Formation grants on the Security Lake table.',
    });
  }
}

/** A resolved value as cdk-nag prints it in a finding id: pseudo parameters and refs as `<Name>`. */
export function nagResource(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
  const join = v['Fn::Join'];
  if (Array.isArray(join)) return (join[1] as unknown[]).map(nagResource).join(String(join[0]));
  return JSON.stringify(value);
}
