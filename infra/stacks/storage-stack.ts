/** The stateful stack: evidence bucket (Object Lock), keys, Athena results bucket, exporter roles. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EvidenceStorage, type EvidenceStorageProps } from '../constructs/evidence-storage.ts';

export interface StorageStackProps extends StackProps {
  readonly storage: EvidenceStorageProps;
}

export class StorageStack extends Stack {
  readonly storage: EvidenceStorage;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    this.storage = new EvidenceStorage(this, 'Storage', props.storage);
    new CfnOutput(this, 'EvidenceBucketName', { value: this.storage.evidenceBucket.bucketName });
    new CfnOutput(this, 'SigningKeyArn', { value: this.storage.signingKey.keyArn });
  }
}
