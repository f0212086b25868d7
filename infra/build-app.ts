/**
 * Builds the app from its settings: the storage stack, the exporter stack, and cdk-nag's
 * AwsSolutions checks over both. Used by infra/app.ts and by the tests.
 */
import { App, type AppProps, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings, type Settings } from './settings.ts';
import { ExporterStack } from './stacks/exporter-stack.ts';
import { StorageStack } from './stacks/storage-stack.ts';

export interface SessiontrailApp {
  readonly app: App;
  readonly settings: Settings;
  readonly storage: StorageStack;
  readonly exporter: ExporterStack;
}

/**
 * @param props the App's props (context, outdir); the settings are read from the app's context.
 * @throws Error when a context key is missing or invalid (the message names it).
 */
export function buildApp(props: AppProps = {}): SessiontrailApp {
  const app = new App(props);
  const settings = readSettings(app.node);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stackName = (part: string) => `${settings.name}-${part}`;

  const storage = new StorageStack(app, 'Storage', {
    stackName: stackName('storage'),
    description: 'sessiontrail: write-once evidence bucket, signing key, Athena results bucket',
    env,
    terminationProtection: settings.profile === 'prod',
    storage: {
      name: settings.name,
      retentionMode: settings.retentionMode,
      retentionDays: settings.retentionDays,
      resultsExpiryDays: settings.resultsExpiryDays,
      evidencePrefix: settings.evidencePrefix,
      ...(settings.auditorPrincipalArn ? { auditorPrincipalArn: settings.auditorPrincipalArn } : {}),
    },
  });
  const exporter = new ExporterStack(app, 'Exporter', {
    stackName: stackName('exporter'),
    description: 'sessiontrail: Glue tables, Athena workgroup, exporter Lambdas, schedule and alarms',
    env,
    exporter: {
      storage: storage.storage,
      name: settings.name,
      logsBucketName: settings.logsBucket,
      logsPrefix: settings.logsPrefix,
      ...(settings.logsKmsKeyArn ? { logsKmsKeyArn: settings.logsKmsKeyArn } : {}),
      evidencePrefix: settings.evidencePrefix,
      scanCutoffBytes: settings.scanCutoffBytes,
      logRetention: settings.logRetentionDays,
      reviewSchedule: settings.reviewCron,
      reviewDeadlineSchedule: settings.reviewDeadlineCron,
      scheduleTimeZone: settings.scheduleTimeZone,
      flexibleWindow: Duration.minutes(settings.flexibleWindowMinutes),
      ...(settings.configFile ? { configFile: settings.configFile } : {}),
      ...(settings.alarmTopicArn ? { alarmTopicArn: settings.alarmTopicArn } : {}),
      ...(settings.logAccounts ? { logAccounts: settings.logAccounts } : {}),
      ...(settings.logRegions ? { logRegions: settings.logRegions } : {}),
      ...(settings.securityLakeTable ? { securityLakeTable: settings.securityLakeTable } : {}),
      ...(settings.securityLakeVersion ? { securityLakeVersion: settings.securityLakeVersion } : {}),
      ...(settings.ocsfFormat ? { ocsfFormat: settings.ocsfFormat } : {}),
      reservedConcurrency: settings.reservedConcurrency,
      ...(settings.trailOrganizationId ? { trailOrganizationId: settings.trailOrganizationId } : {}),
      packDeadline: Duration.minutes(settings.packDeadlineMinutes),
      maxBytesScannedPerPack: settings.maxBytesScannedPerPack,
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, settings, storage, exporter };
}
