/**
 * The S3 calls S3EvidenceStore makes, recorded with aws-sdk-client-mock (neither moto nor the mock
 * evaluates IAM), checked against the statements the stack grants the exporter roles
 * (`exporterStatements`) and the evidence bucket's policy (`conditionalWriteStatement`) by a small
 * evaluator of the policy language the statements use (actions and resources with `*`, the
 * `StringLike`, `StringEquals`, `Null` and `Bool` operators; an explicit Deny wins).
 *
 * How each call is authorised (S3 user guide, "Required permissions for Amazon S3 API operations"):
 * PutObject is `s3:PutObject` on the object, with `s3:if-none-match` from its header and
 * `s3:ObjectCreationOperation` true; GetObject is `s3:GetObject`; ListObjectsV2 is `s3:ListBucket`
 * on the bucket with `s3:prefix` from its Prefix; HeadObject is `s3:GetObject`, and telling a
 * missing key (404) from a forbidden one (403) also takes `s3:ListBucket` on the bucket, with no
 * `s3:prefix` in the request.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { conditionalWriteStatement } from '../../infra/constructs/evidence-storage.ts';
import { exporterStatements } from '../../infra/constructs/exporter.ts';
import { S3EvidenceStore } from '../../lib/storage/s3-evidence-store.ts';

const BUCKET = 'sessiontrail-evidence-123456789012-eu-west-1';
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const PREFIX = 'packs';

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

interface Request {
  readonly call: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  ).test(value);

function conditionsHold(condition: Statement['Condition'], context: Request['context']): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const value = context[key];
      switch (operator) {
        case 'StringLike':
          return value !== undefined && list(expected).some((p) => glob(p, value));
        case 'StringEquals':
          return value !== undefined && list(expected).includes(value);
        case 'Null':
          return list(expected).includes(String(value === undefined));
        case 'Bool':
          return value !== undefined && list(expected).includes(value);
        default:
          throw new Error(`the evaluator does not know the condition operator ${operator}`);
      }
    }),
  );
}

const matches = (s: Statement, r: Request) =>
  list(s.Action).some((a) => glob(a, r.action)) &&
  list(s.Resource).some((p) => glob(p, r.resource)) &&
  conditionsHold(s.Condition, r.context);

/** Allowed when an Allow statement matches and no Deny does. */
function allowed(statements: readonly Statement[], r: Request): boolean {
  if (statements.some((s) => s.Effect === 'Deny' && matches(s, r))) return false;
  return statements.some((s) => s.Effect === 'Allow' && matches(s, r));
}

/** The policy the exporter roles act under: their identity statements and the bucket policy's Deny. */
function grantedStatements(): Statement[] {
  const identity = exporterStatements({
    partition: 'aws',
    workGroupName: 'sessiontrail',
    rawDatabase: 'sessiontrail_raw',
    rawTables: ['windows_raw'],
    workDatabase: 'sessiontrail_work',
    logsBucketName: 'logs-bucket',
    logsFolders: ['logs/windows'],
    logsKmsKeyArn: undefined,
    resultsBucketArn: 'arn:aws:s3:::sessiontrail-athena-results',
    evidenceBucketArn: BUCKET_ARN,
    evidencePrefix: PREFIX,
    dataKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/data',
    signingKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/signing',
  });
  const bucketPolicy = conditionalWriteStatement(BUCKET_ARN, PREFIX);
  return [...identity, bucketPolicy].map((s) => {
    const json = s.toStatementJson() as Statement;
    return { ...json, Effect: json.Effect ?? 'Allow' };
  });
}

/** The authorisation requests of one recorded S3 call. */
function requestsOf(command: unknown): Request[] {
  const input = (command as { input: Record<string, unknown> }).input;
  const object = `arn:aws:s3:::${String(input.Bucket)}/${String(input.Key)}`;
  if (command instanceof PutObjectCommand) {
    return [
      {
        call: `PutObject ${input.Key}`,
        action: 's3:PutObject',
        resource: object,
        context: {
          's3:ObjectCreationOperation': 'true',
          ...(input.IfNoneMatch === undefined ? {} : { 's3:if-none-match': String(input.IfNoneMatch) }),
        },
      },
    ];
  }
  if (command instanceof GetObjectCommand)
    return [{ call: `GetObject ${input.Key}`, action: 's3:GetObject', resource: object, context: {} }];
  if (command instanceof ListObjectsV2Command) {
    return [
      {
        call: `ListObjectsV2 ${input.Prefix}`,
        action: 's3:ListBucket',
        resource: `arn:aws:s3:::${String(input.Bucket)}`,
        context: input.Prefix === undefined ? {} : { 's3:prefix': String(input.Prefix) },
      },
    ];
  }
  if (command instanceof HeadObjectCommand) {
    return [
      { call: `HeadObject ${input.Key}`, action: 's3:GetObject', resource: object, context: {} },
      {
        call: `HeadObject ${input.Key} (404 for a missing key)`,
        action: 's3:ListBucket',
        resource: `arn:aws:s3:::${String(input.Bucket)}`,
        context: {},
      },
    ];
  }
  throw new Error(`the evaluator does not model ${(command as object).constructor.name}`);
}

const s3 = mockClient(S3Client);
afterAll(() => s3.restore());

describe('S3EvidenceStore calls against the stack’s IAM (aws-sdk-client-mock; IAM evaluated here)', () => {
  it('makes only calls the exporter roles and the bucket policy allow, through a pack’s life', async () => {
    // Prepare: S3 as it answers a store that writes a pack, re-publishes a key and checks files.
    s3.reset();
    const written = new Map<string, Uint8Array>();
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array }) => {
      if (written.has(input.Key))
        throw new S3ServiceException({
          name: 'PreconditionFailed',
          $fault: 'client',
          $metadata: { httpStatusCode: 412 },
        });
      written.set(input.Key, input.Body);
      return {};
    });
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const body = written.get(input.Key) as Uint8Array;
      return { Body: { transformToByteArray: async () => body } };
    });
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: [...written.keys()]
        .filter((k) => k.startsWith(input.Prefix))
        .sort()
        .slice(0, 1)
        .map((Key) => ({ Key })),
    }));
    const store = new S3EvidenceStore({
      client: new S3Client({ region: 'eu-west-1' }),
      bucket: BUCKET,
      prefix: PREFIX,
    });
    const bytes = new TextEncoder().encode('{}');

    // Act
    expect(await store.exists('review/p1/manifest.sig')).toBe(false);
    await store.putNew('review/p1/evidence.json', bytes);
    await store.putIdempotent('keys/abc.pem', bytes);
    await store.putIdempotent('keys/abc.pem', bytes);
    expect(await store.exists('review/p1/evidence.json')).toBe(true);
    expect(await store.list('review/p1')).toEqual(['evidence.json']);
    await store.get('review/p1/evidence.json');

    // Assess
    const statements = grantedStatements();
    const calls = s3.calls().map((c) => c.args[0]);
    const requests = calls.flatMap((c) => requestsOf(c));
    expect(requests.filter((r) => !allowed(statements, r)).map((r) => r.call)).toEqual([]);
    expect(new Set(requests.map((r) => r.action))).toEqual(
      new Set(['s3:ListBucket', 's3:PutObject', 's3:GetObject']),
    );
    expect(calls.some((c) => c instanceof HeadObjectCommand)).toBe(false);
  });

  it('would refuse what the store must not do: HeadObject of a missing key, a PutObject without If-None-Match', () => {
    const statements = grantedStatements();
    const key = `${PREFIX}/review/p1/manifest.sig`;
    const head = requestsOf(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.map((r) => allowed(statements, r))).toEqual([true, false]);
    const blind = requestsOf(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
    expect(blind.map((r) => allowed(statements, r))).toEqual([false]);
    const conditional = requestsOf(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x', IfNoneMatch: '*' }),
    );
    expect(conditional.map((r) => allowed(statements, r))).toEqual([true]);
    const outside = requestsOf(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'other/' }));
    expect(outside.map((r) => allowed(statements, r))).toEqual([false]);
  });
});
