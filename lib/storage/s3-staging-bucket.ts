/**
 * The logs bucket as a {@link StagingBucket} for the record staging: listings with
 * `ListObjectsV2` (a delimiter for folders; `MaxKeys=1` for existence, which the roles' prefix-
 * conditioned `s3:ListBucket` allows, where a HEAD of a missing key without it answers 403),
 * objects streamed to a file, and write-once uploads (`If-None-Match: *`, S3 conditional writes).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SessiontrailError } from '../errors.ts';
import type { ListedObject, StagingBucket } from '../locate/record-staging.ts';

export interface S3StagingBucketOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** The logs prefix without slashes at either end; '' for the bucket root. */
  readonly prefix: string;
}

/**
 * The bucket and prefix of a logs root `s3://<bucket>/<prefix>/` (a source table's `keyPrefix`).
 * @throws {SessiontrailError} `BAD_CONFIG` for anything else.
 */
export function parseLogsRoot(root: string): { readonly bucket: string; readonly prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(root);
  if (m === null || !((m[2] as string) === '' || (m[2] as string).endsWith('/')))
    throw new SessiontrailError(
      'BAD_CONFIG',
      `logs root: expected s3://<bucket>/<prefix>/, received ${JSON.stringify(root)}`,
    );
  return { bucket: m[1] as string, prefix: (m[2] as string).replace(/\/$/, '') };
}

/** A {@link StagingBucket} over `s3://<bucket>/<prefix>/`. */
export function s3StagingBucket(options: S3StagingBucketOptions): StagingBucket {
  const { client, bucket } = options;
  const root = options.prefix === '' ? '' : `${options.prefix}/`;
  const fail = (what: string, key: string, cause: unknown): never => {
    throw new SessiontrailError(
      'STORE_READ_FAILED',
      `${what} s3://${bucket}/${root}${key}: ${String(cause)}`,
      {
        cause,
      },
    );
  };
  async function* pages(prefix: string, delimiter: boolean) {
    let token: string | undefined;
    do {
      const page = await client
        .send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `${root}${prefix}`,
            ...(delimiter ? { Delimiter: '/' } : {}),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        )
        .catch((cause) => fail('cannot list', prefix, cause));
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
  return {
    async folders(prefix) {
      const out: string[] = [];
      for await (const page of pages(prefix, true))
        for (const p of page.CommonPrefixes ?? [])
          if (p.Prefix !== undefined) out.push(p.Prefix.slice(root.length + prefix.length));
      return out.sort();
    },
    async objects(prefix) {
      const out: ListedObject[] = [];
      for await (const page of pages(prefix, true))
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined || o.Key.endsWith('/')) continue;
          out.push({
            key: o.Key.slice(root.length),
            etag: (o.ETag ?? '').replaceAll('"', ''),
            size: o.Size ?? 0,
            versionId: null,
            lastModified: o.LastModified?.toISOString() ?? null,
          });
        }
      return out;
    },
    async exists(key) {
      const page = await client
        .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}${key}`, MaxKeys: 1 }))
        .catch((cause) => fail('cannot list', key, cause));
      return (page.Contents ?? []).some((o) => o.Key === `${root}${key}`);
    },
    async download(key, path) {
      const res = await client
        .send(new GetObjectCommand({ Bucket: bucket, Key: `${root}${key}` }))
        .catch((cause) => fail('cannot read', key, cause));
      const hash = createHash('sha256');
      const body = res.Body as Readable;
      body.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(body, createWriteStream(path)).catch((cause) => fail('cannot read', key, cause));
      return hash.digest('hex');
    },
    async read(key) {
      const res = await client
        .send(new GetObjectCommand({ Bucket: bucket, Key: `${root}${key}` }))
        .catch((cause) => fail('cannot read', key, cause));
      return (await res.Body?.transformToByteArray()) ?? new Uint8Array();
    },
    async putOnce(key, path, contentType) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `${root}${key}`,
            Body: createReadStream(path),
            ContentLength: (await stat(path)).size,
            ContentType: contentType,
            IfNoneMatch: '*',
          }),
        );
        return true;
      } catch (cause) {
        const status = (cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        // 412: written by an earlier run; 409: being written by a concurrent one (S3 conditional
        // writes). The content is the same either way: the key names the object and its ETag.
        if (status === 412 || status === 409) return false;
        throw new SessiontrailError(
          'STORE_WRITE_FAILED',
          `cannot write s3://${bucket}/${root}${key}: ${String(cause)}`,
          {
            cause,
          },
        );
      }
    },
    describe(key) {
      return `s3://${bucket}/${root}${key}`;
    },
  };
}
