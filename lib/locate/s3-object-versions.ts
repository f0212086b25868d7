/**
 * The S3 object versions a pack read (chain of custody): for each object the engine read (Athena
 * lists them by `"$path"`), its version id, ETag, size and, where the bucket keeps one, its
 * checksum, from S3 `HeadObject` with `ChecksumMode: ENABLED` (S3 API reference: HeadObject returns
 * `VersionId`, `ETag`, `ContentLength`, `LastModified`, and the `Checksum*` of the object when asked).
 *
 * The version recorded is the object's current version when the pack is built, right after the
 * engine read it; a version written in between would show as another version id when the pack is
 * re-derived (versioned buckets keep the old one; the deployment's log bucket is versioned).
 */
import { HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { SessiontrailError } from '../errors.ts';
import type { InputObject } from './raw-log-locator.ts';

/** What S3 says of one object version. */
export interface S3ObjectVersionFacts {
  readonly size: number;
  readonly version_id: string | null;
  readonly etag: string;
  readonly checksum: { readonly algorithm: string; readonly value: string } | null;
  readonly last_modified: string;
}

/** Describes S3 objects by URL (`s3://bucket/key`). */
export interface ObjectVersions {
  /** @throws SessiontrailError `LOGS_NOT_FOUND` when the object cannot be described. */
  describe(url: string): Promise<S3ObjectVersionFacts>;
}

/** The checksums S3 can keep, in the order one is recorded when several are present. */
const CHECKSUMS = [
  ['SHA256', 'ChecksumSHA256'],
  ['SHA1', 'ChecksumSHA1'],
  ['CRC64NVME', 'ChecksumCRC64NVME'],
  ['CRC32C', 'ChecksumCRC32C'],
  ['CRC32', 'ChecksumCRC32'],
] as const;

/** The adapter over the real AWS SDK S3 client. */
export function s3ObjectVersions(client: S3Client): ObjectVersions {
  return {
    async describe(url) {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
      if (m === null)
        throw new SessiontrailError(
          'LOGS_NOT_FOUND',
          `expected s3://<bucket>/<key>, received ${JSON.stringify(url)}`,
        );
      let head: HeadObjectCommandOutput;
      try {
        head = await client.send(new HeadObjectCommand({ Bucket: m[1], Key: m[2], ChecksumMode: 'ENABLED' }));
      } catch (cause) {
        throw new SessiontrailError('LOGS_NOT_FOUND', `cannot describe ${url} (S3 HeadObject)`, { cause });
      }
      const found = CHECKSUMS.find(([, field]) => typeof head[field] === 'string');
      return {
        size: head.ContentLength ?? 0,
        // An object written before versioning was enabled has the version id "null" (S3 docs).
        version_id: head.VersionId === undefined || head.VersionId === 'null' ? null : head.VersionId,
        etag: (head.ETag ?? '').replace(/^"|"$/g, ''),
        checksum: found === undefined ? null : { algorithm: found[0], value: head[found[1]] as string },
        last_modified: (head.LastModified ?? new Date(0)).toISOString(),
      };
    },
  };
}

/**
 * The pack's input list of a table input: each object the engine read (`rows`: `object_key` as the
 * lines table holds it, relative to `keyPrefix`, and its `records`), described by S3.
 */
export async function s3InputObjects(
  rows: readonly Readonly<Record<string, unknown>>[],
  keyPrefix: string,
  versions: ObjectVersions,
): Promise<InputObject[]> {
  const out: InputObject[] = [];
  for (const r of rows) {
    const key = String(r.object_key);
    const url = key.startsWith('s3://') ? key : `${keyPrefix}${key}`;
    const v = await versions.describe(url);
    out.push({
      key: url,
      status: 'read',
      reason: null,
      size: v.size,
      sha256: null,
      s3: { version_id: v.version_id, etag: v.etag, checksum: v.checksum, last_modified: v.last_modified },
      records: Number(r.records),
      // The engine reads an object whole; its lines are not numbered.
      range: { bytes: v.size, last_line: null },
    });
  }
  return out;
}
