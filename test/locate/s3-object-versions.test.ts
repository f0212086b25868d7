/**
 * The S3 objects an Athena pack read, as the pack lists them: version id, ETag, size and checksum
 * from the real AWS SDK's HeadObject against moto's S3 server on 127.0.0.1 (a versioned bucket).
 * Every expected value is derived here: the version id PutObject returned, the ETag of a single-part
 * upload (its MD5, S3 docs "Checking object integrity"), the SHA-256 and CRC32 of the bytes put.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { s3InputObjects, s3ObjectVersions } from '../../lib/locate/s3-object-versions.ts';
import { type MotoServer, startMotoServer } from '../helpers/moto-server.ts';

const BUCKET = 'corp-security-logs';
const A = 'logs/windows/dt=2024-03-04/a.json';
const B = 'logs/windows/dt=2024-03-04/b.json';

describe('S3 input objects (moto server on 127.0.0.1, real AWS SDK HeadObject)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let versionA2: string | undefined;
  const a2 = Buffer.from('{"EventID":4624,"RecordNumber":2}\n');
  const b = Buffer.from('{"EventID":4634,"RecordNumber":3}\n');

  beforeAll(async () => {
    moto = await startMotoServer();
    s3 = moto.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: A, Body: Buffer.from('{"EventID":4624}\n') }));
    versionA2 = (
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: A, Body: a2, ChecksumAlgorithm: 'SHA256' }))
    ).VersionId;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: B, Body: b, ChecksumAlgorithm: 'CRC32' }));
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('lists each object read with its current version id, ETag, size, checksum and the records the engine counted', async () => {
    // Act
    const listed = await s3InputObjects(
      [
        { object_key: 'windows/dt=2024-03-04/a.json', records: 1 },
        { object_key: 'windows/dt=2024-03-04/b.json', records: 1 },
      ],
      `s3://${BUCKET}/logs/`,
      s3ObjectVersions(s3),
    );

    // Assess
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(b));
    expect(versionA2).toBeTypeOf('string');
    expect(listed).toEqual([
      {
        key: `s3://${BUCKET}/${A}`,
        status: 'read',
        reason: null,
        size: a2.length,
        sha256: null,
        s3: {
          version_id: versionA2,
          etag: createHash('md5').update(a2).digest('hex'),
          checksum: { algorithm: 'SHA256', value: createHash('sha256').update(a2).digest('base64') },
          last_modified: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        },
        records: 1,
        range: { bytes: a2.length, last_line: null },
      },
      expect.objectContaining({
        key: `s3://${BUCKET}/${B}`,
        size: b.length,
        s3: expect.objectContaining({
          etag: createHash('md5').update(b).digest('hex'),
          checksum: { algorithm: 'CRC32', value: crc.toString('base64') },
        }),
      }),
    ]);
  }, 60_000);

  it('fails with LOGS_NOT_FOUND for an object that is not there', async () => {
    let error: unknown;
    try {
      await s3ObjectVersions(s3).describe(`s3://${BUCKET}/logs/windows/dt=2024-03-04/gone.json`);
    } catch (err) {
      error = err;
    }
    expect(isSessiontrailError(error, 'LOGS_NOT_FOUND')).toBe(true);
  }, 60_000);
});
