/** The stateless stack: Glue tables, Athena workgroup, Lambdas, schedule, dead-letter queue, alarms. */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Exporter, type ExporterProps } from '../constructs/exporter.ts';

export interface ExporterStackProps extends StackProps {
  readonly exporter: ExporterProps;
}

export class ExporterStack extends Stack {
  readonly exporter: Exporter;

  constructor(scope: Construct, id: string, props: ExporterStackProps) {
    super(scope, id, props);
    this.exporter = new Exporter(this, 'Exporter', props.exporter);
  }
}
