/**
 * S3EvidenceStore against a real S3-compatible server (moto 5.2.1's standalone server on 127.0.0.1,
 * see test/helpers/moto-server.ts) for what moto enforces: conditional writes, Object Lock retention
 * and refused deletes, listing, reading back. What moto accepts without checking (a wrong
 * ChecksumSHA256, any SSE-KMS key id) and failures it cannot be made to produce (409 conflicts,
 * 403s, paging past 1,000 keys) are tested against aws-sdk-client-mock instead.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import { isSessiontrailError } from '../../lib/errors.ts';
import { canonicalBytes } from '../../lib/evidence/canonical-json.ts';
import { generateKeyPair } from '../../lib/signing/keygen.ts';
import { LocalKeySigner } from '../../lib/signing/local-key-signer.ts';
import { sealPack } from '../../lib/signing/seal-pack.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { S3EvidenceStore } from '../../lib/storage/s3-evidence-store.ts';
import { minimalPack } from '../fixtures/minimal-pack.ts';
import { type MotoServer, startMotoServer } from '../helpers/moto-server.ts';

const BIN = new URL('../../bin/sessiontrail.js', import.meta.url).pathname;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);
const DAY_MS = 86_400_000;

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err;
  }
}

let bucketCounter = 0;
const bucketName = (what: string) => `st-${what}-${process.pid}-${++bucketCounter}`;

describe('S3EvidenceStore (moto server on 127.0.0.1)', () => {
  let moto: MotoServer;
  let s3: S3Client;

  beforeAll(async () => {
    moto = await startMotoServer();
    s3 = moto.s3();
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  async function bucket(what: string, lock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number }) {
    const name = bucketName(what);
    await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: lock !== undefined }));
    if (lock) {
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: name,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } },
          },
        }),
      );
    }
    return name;
  }

  it('writes an object once and reads the same bytes back, with the SHA-256 checksum S3 stored', async () => {
    // Prepare
    const name = await bucket('rw');
    const store = new S3EvidenceStore({ client: s3, bucket: name, prefix: 'packs' });
    const data = bytes('{"evidence":"ü"}');

    // Act
    await store.putNew('review/p1/evidence.json', data);
    const read = await store.get('review/p1/evidence.json');
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: name, Key: 'packs/review/p1/evidence.json', ChecksumMode: 'ENABLED' }),
    );

    // Assess
    expect(text(read)).toBe('{"evidence":"ü"}');
    expect(head.ChecksumSHA256).toBe(createHash('sha256').update(data).digest('base64'));
    expect(head.ContentType).toBe('application/json');
  });

  it('refuses a second putNew of the same key with PACK_EXISTS (If-None-Match: *) and keeps the first bytes', async () => {
    // Prepare
    const store = new S3EvidenceStore({ client: s3, bucket: await bucket('once') });
    await store.putNew('s/p/manifest.sig', bytes('first'));

    // Act
    const err = await errorOf(store.putNew('s/p/manifest.sig', bytes('second')));

    // Assess
    expect(isSessiontrailError(err, 'PACK_EXISTS')).toBe(true);
    expect((err as Error).message).toContain('/s/p/manifest.sig already exists');
    expect(text(await store.get('s/p/manifest.sig'))).toBe('first');
  });

  it('lets exactly one of several racing writers of the same key win', async () => {
    // Prepare
    const store = new S3EvidenceStore({ client: s3, bucket: await bucket('race') });

    // Act
    const results = await Promise.allSettled(
      ['a', 'b', 'c', 'd'].map((w) => store.putNew('s/p/evidence.json', bytes(w))),
    );

    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(isSessiontrailError(r.reason, 'PACK_EXISTS')).toBe(true);
    }
  });

  it('putIdempotent accepts identical bytes and refuses different bytes with PACK_EXISTS', async () => {
    // Prepare
    const store = new S3EvidenceStore({ client: s3, bucket: await bucket('idem') });
    await store.putIdempotent('keys/abc.pem', bytes('PEM'));

    // Act
    const same = await errorOf(store.putIdempotent('keys/abc.pem', bytes('PEM')));
    const different = await errorOf(store.putIdempotent('keys/abc.pem', bytes('OTHER')));

    // Assess
    expect(same).toBeUndefined();
    expect(isSessiontrailError(different, 'PACK_EXISTS')).toBe(true);
    expect((different as Error).message).toMatch(/different content \(3 bytes, 5 given\)/);
  });

  it('falls under the bucket’s default Object Lock retention, and S3 refuses to delete the locked version', async () => {
    // Prepare
    const name = await bucket('lockdefault', { mode: 'COMPLIANCE', days: 1 });
    const store = new S3EvidenceStore({ client: s3, bucket: name });

    // Act
    await store.putNew('s/p/manifest.json', bytes('{}'));
    const head = await s3.send(new HeadObjectCommand({ Bucket: name, Key: 's/p/manifest.json' }));
    const deleted = await errorOf(
      s3.send(new DeleteObjectCommand({ Bucket: name, Key: 's/p/manifest.json', VersionId: head.VersionId })),
    );

    // Assess
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ObjectLockRetainUntilDate?.getTime()).toBeGreaterThan(Date.now());
    expect((deleted as S3ServiceException).$metadata.httpStatusCode).toBe(403);
    expect(text(await store.get('s/p/manifest.json'))).toBe('{}');
  });

  it('sets its own Object Lock mode and retain-until date when given one, and the version cannot be deleted', async () => {
    // Prepare
    const name = await bucket('lockown', { mode: 'COMPLIANCE', days: 1 });
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000);
    const store = new S3EvidenceStore({
      client: s3,
      bucket: name,
      objectLock: { mode: 'GOVERNANCE', retainDays: 30 },
      now: () => now,
    });

    // Act
    await store.putNew('s/p/evidence.pdf', bytes('%PDF'));
    const head = await s3.send(new HeadObjectCommand({ Bucket: name, Key: 's/p/evidence.pdf' }));
    const deleted = await errorOf(
      s3.send(new DeleteObjectCommand({ Bucket: name, Key: 's/p/evidence.pdf', VersionId: head.VersionId })),
    );

    // Assess
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockRetainUntilDate?.getTime()).toBe(now.getTime() + 30 * DAY_MS);
    expect((deleted as S3ServiceException).$metadata.httpStatusCode).toBe(403);
  });

  it('cannot be bypassed by overwriting: If-None-Match refuses the key although a versioned bucket would keep both', async () => {
    // Prepare
    const name = await bucket('overwrite', { mode: 'COMPLIANCE', days: 1 });
    const store = new S3EvidenceStore({ client: s3, bucket: name });
    await store.putNew('s/p/evidence.json', bytes('sealed'));

    // Act
    const err = await errorOf(store.putNew('s/p/evidence.json', bytes('forged')));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: name, Prefix: 's/p/' }));

    // Assess
    expect(isSessiontrailError(err, 'PACK_EXISTS')).toBe(true);
    expect(versions.Versions).toHaveLength(1);
  });

  it('reports STORE_WRITE_FAILED when asked for Object Lock on a bucket without it', async () => {
    const store = new S3EvidenceStore({
      client: s3,
      bucket: await bucket('nolock'),
      objectLock: { mode: 'COMPLIANCE', retainDays: 1 },
    });
    const err = await errorOf(store.putNew('s/p/x.json', bytes('{}')));
    expect(isSessiontrailError(err, 'STORE_WRITE_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/ObjectLockConfiguration/);
  });

  it('stores the SSE-KMS headers it sends (moto records them; it does not check the key exists)', async () => {
    const name = await bucket('sse');
    const store = new S3EvidenceStore({ client: s3, bucket: name, kmsKeyId: 'alias/sessiontrail-evidence' });
    await store.putNew('s/p/evidence.json', bytes('{}'));
    const head = await s3.send(new HeadObjectCommand({ Bucket: name, Key: 's/p/evidence.json' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe('alias/sessiontrail-evidence');
  });

  it('tells whether an object exists, and get() of a missing object is STORE_READ_FAILED', async () => {
    // Prepare
    const store = new S3EvidenceStore({ client: s3, bucket: await bucket('exists'), prefix: 'root' });
    await store.putNew('s/p/evidence.json', bytes('{}'));

    // Act
    const [yes, no, folder] = await Promise.all([
      store.exists('s/p/evidence.json'),
      store.exists('s/p/manifest.sig'),
      store.exists('s/p'),
    ]);
    const err = await errorOf(store.get('s/p/manifest.sig'));

    // Assess
    expect([yes, no, folder]).toEqual([true, false, false]);
    expect(isSessiontrailError(err, 'STORE_READ_FAILED')).toBe(true);
    expect((err as Error).message).toContain('s3://');
    expect((err as Error).message).toContain('/root/s/p/manifest.sig does not exist');
  });

  it('lists the files under a folder, relative and sorted, without its siblings that share a name prefix', async () => {
    // Prepare
    const store = new S3EvidenceStore({ client: s3, bucket: await bucket('list'), prefix: 'a/b' });
    for (const path of [
      'review/p2/queries/02-x.sql',
      'review/p2/evidence.json',
      'review/p2/queries/01-y.sql',
      'review/p20/evidence.json',
      'keys/k.pem',
    ]) {
      await store.putNew(path, bytes(path));
    }

    // Act
    const pack = await store.list('review/p2');
    const withSlash = await store.list('review/p2/');
    const root = await store.list('');
    const missing = await store.list('review/p3');

    // Assess
    expect(pack).toEqual(['evidence.json', 'queries/01-y.sql', 'queries/02-x.sql']);
    expect(withSlash).toEqual(pack);
    expect(root).toEqual([
      'keys/k.pem',
      'review/p2/evidence.json',
      'review/p2/queries/01-y.sql',
      'review/p2/queries/02-x.sql',
      'review/p20/evidence.json',
    ]);
    expect(missing).toEqual([]);
  });

  describe('a whole pack', () => {
    let dir: string;
    let name: string;
    let store: S3EvidenceStore;
    let signer: LocalKeySigner;
    const packId = 'review-2024-01-0f3c2a9b';
    const series = 'review-monthly';
    const input = () => ({
      series,
      packId,
      artifacts: [
        { name: 'evidence.json', bytes: canonicalBytes(minimalPack()) },
        { name: 'queries/01-normalise.sql', bytes: bytes('SELECT 1\n') },
      ],
      previous: null,
      tool: { name: 'sessiontrail', version: '0.1.0' },
    });
    const clean = () =>
      Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))) as Record<
        string,
        string
      >;
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...clean(), ...moto.env },
      });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sessiontrail-s3-'));
      await generateKeyPair(join(dir, 'key.pem'));
      signer = await LocalKeySigner.fromFile(join(dir, 'key.pem'));
      name = await bucket('pack', { mode: 'COMPLIANCE', days: 1 });
      store = new S3EvidenceStore({ client: s3, bucket: name, prefix: 'tenant-a/evidence' });
      await sealPack({ store, signer, clock: fixedClock('2024-02-01T03:00:00.000Z') }, input());
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('is sealed into S3 and verifyPack reading from S3 passes every check', async () => {
      // Act
      const result = await verifyPack({
        store,
        packDir: `${series}/${packId}`,
        trustedKeys: [await signer.publicKeyPem()],
      });

      // Assess
      expect(result.checks.filter((c) => c.code !== 'OK')).toEqual([]);
      expect(result.ok).toBe(true);
      expect(await store.list('')).toEqual([
        `keys/${await signer.keyId()}.pem`,
        `${series}/_sequence/1.json`,
        `${series}/_sequence/1.seal.json`,
        `${series}/${packId}/README.txt`,
        `${series}/${packId}/evidence.json`,
        `${series}/${packId}/manifest.dsse.json`,
        `${series}/${packId}/manifest.json`,
        `${series}/${packId}/manifest.sig`,
        `${series}/${packId}/queries/01-normalise.sql`,
      ]);
    });

    it('refuses to seal the same pack again, and a direct overwrite of its signature, with PACK_EXISTS', async () => {
      const again = await errorOf(
        sealPack({ store, signer, clock: fixedClock('2024-02-02T03:00:00.000Z') }, input()),
      );
      const overwrite = await errorOf(store.putNew(`${series}/${packId}/manifest.sig`, bytes('forged')));
      expect(isSessiontrailError(again, 'PACK_EXISTS')).toBe(true);
      expect(isSessiontrailError(overwrite, 'PACK_EXISTS')).toBe(true);
    });

    it('is verified by `sessiontrail verify s3://bucket/prefix/<series>/<pack>` with standard AWS variables', () => {
      // Act
      const run = cli([
        'verify',
        `s3://${name}/tenant-a/evidence/${series}/${packId}`,
        '--allow-untrusted-key',
        '--json',
      ]);

      // Assess
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout) as { ok: boolean; packId: string };
      expect(out).toMatchObject({ ok: true, packId, origin: 'not checked' });
    });

    it('makes `sessiontrail verify s3://…` exit 1 naming VERIFY_UNLISTED_FILE when a file is slipped into the pack', async () => {
      // Prepare: a new key beside the sealed ones is all that write-once still allows.
      await store.putNew(`${series}/${packId}/extra.txt`, bytes('slipped in'));

      // Act
      const run = cli(['verify', `s3://${name}/tenant-a/evidence/${series}/${packId}/`]);

      // Assess
      expect(run.status, run.stderr).toBe(1);
      expect(run.stdout).toMatch(/FAIL VERIFY_UNLISTED_FILE\s+extra\.txt/);
    });
  });
});

describe('S3EvidenceStore (aws-sdk-client-mock)', () => {
  // Created here, not at collection time: mockClient patches every S3Client, the moto tests' too.
  let s3mock: AwsClientStub<S3Client>;
  const client = () => new S3Client({ region: 'eu-west-1' });
  const s3Error = (name: string, status: number) =>
    new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

  beforeAll(() => {
    s3mock = mockClient(S3Client);
  });
  beforeEach(() => {
    s3mock.reset();
  });
  afterAll(() => {
    s3mock.restore();
  });

  it('sends If-None-Match, a SHA-256 checksum it computed, SSE-KMS and Object Lock retention on every write', async () => {
    // Prepare
    s3mock.on(PutObjectCommand).resolves({});
    const store = new S3EvidenceStore({
      client: client(),
      bucket: 'evidence-bucket',
      prefix: '/packs/',
      kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abcd',
      objectLock: { mode: 'COMPLIANCE', retainDays: 2555 },
      now: () => new Date('2024-02-01T03:00:00.000Z'),
    });
    const data = bytes('{"a":1}');

    // Act
    await store.putNew('review/p/evidence.json', data);

    // Assess
    const input = s3mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'evidence-bucket',
      Key: 'packs/review/p/evidence.json',
      IfNoneMatch: '*',
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: createHash('sha256').update(data).digest('base64'),
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abcd',
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: new Date('2031-01-30T03:00:00.000Z'),
    });
  });

  it('leaves encryption and retention to the bucket defaults when none are given', async () => {
    s3mock.on(PutObjectCommand).resolves({});
    await new S3EvidenceStore({ client: client(), bucket: 'evidence-bucket' }).putNew(
      's/p/x.sql',
      bytes('x'),
    );
    const input = s3mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input?.Key).toBe('s/p/x.sql');
    for (const key of [
      'ServerSideEncryption',
      'SSEKMSKeyId',
      'ObjectLockMode',
      'ObjectLockRetainUntilDate',
    ]) {
      expect(input).not.toHaveProperty(key);
    }
  });

  it('maps S3 refusing a wrong checksum (400 BadDigest; moto accepts it) to STORE_WRITE_FAILED', async () => {
    s3mock.on(PutObjectCommand).rejects(s3Error('BadDigest', 400));
    const err = await errorOf(
      new S3EvidenceStore({ client: client(), bucket: 'evidence-bucket' }).putNew('s/p/x', bytes('x')),
    );
    expect(isSessiontrailError(err, 'STORE_WRITE_FAILED')).toBe(true);
    expect((err as Error).message).toContain('BadDigest');
  });

  it('maps 409 ConditionalRequestConflict (a racing conditional write in flight) to PACK_EXISTS', async () => {
    s3mock.on(PutObjectCommand).rejects(s3Error('ConditionalRequestConflict', 409));
    const err = await errorOf(
      new S3EvidenceStore({ client: client(), bucket: 'evidence-bucket' }).putNew('s/p/x', bytes('x')),
    );
    expect(isSessiontrailError(err, 'PACK_EXISTS')).toBe(true);
  });

  it('does not take a 403 for "missing": exists() throws STORE_READ_FAILED', async () => {
    s3mock.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403));
    const err = await errorOf(
      new S3EvidenceStore({ client: client(), bucket: 'evidence-bucket' }).exists('s/p/manifest.json'),
    );
    expect(isSessiontrailError(err, 'STORE_READ_FAILED')).toBe(true);
  });

  it('checks existence with ListObjectsV2(Prefix = key, MaxKeys = 1), never HeadObject, and a longer key is not the key', async () => {
    // Prepare
    s3mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'p/s/manifest.json' }] })
      .resolvesOnce({ Contents: [{ Key: 'p/s/manifest.json.partial' }] })
      .resolvesOnce({});
    const store = new S3EvidenceStore({ client: client(), bucket: 'evidence-bucket', prefix: 'p' });

    // Act
    const found = [
      await store.exists('s/manifest.json'),
      await store.exists('s/manifest.json'),
      await store.exists('s/manifest.json'),
    ];

    // Assess
    expect(found).toEqual([true, false, false]);
    expect(s3mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual(
      Array(3).fill({ Bucket: 'evidence-bucket', Prefix: 'p/s/manifest.json', MaxKeys: 1 }),
    );
    expect(s3mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  it('pages through ListObjectsV2 with the continuation token and skips folder markers', async () => {
    // Prepare
    s3mock
      .on(ListObjectsV2Command)
      .resolvesOnce({
        IsTruncated: true,
        NextContinuationToken: 'next-1',
        Contents: [{ Key: 'p/s/b.json' }, { Key: 'p/s/' }],
      })
      .resolvesOnce({ IsTruncated: false, Contents: [{ Key: 'p/s/a.json' }] });
    const store = new S3EvidenceStore({ client: client(), bucket: 'evidence-bucket', prefix: 'p' });

    // Act
    const names = await store.list('s');

    // Assess
    expect(names).toEqual(['a.json', 'b.json']);
    const calls = s3mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { Bucket: 'evidence-bucket', Prefix: 'p/s/' },
      { Bucket: 'evidence-bucket', Prefix: 'p/s/', ContinuationToken: 'next-1' },
    ]);
  });

  it('asks S3 to check the stored checksum on every read', async () => {
    s3mock.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404));
    await errorOf(new S3EvidenceStore({ client: client(), bucket: 'evidence-bucket' }).get('s/p/x'));
    expect(s3mock.commandCalls(GetObjectCommand)[0]?.args[0].input.ChecksumMode).toBe('ENABLED');
  });
});

describe('S3EvidenceStore paths', () => {
  const store = new S3EvidenceStore({
    client: new S3Client({ region: 'eu-west-1' }),
    bucket: 'evidence-bucket',
    prefix: 'root',
  });

  it.each([
    '../escape',
    '/abs/path',
    'a//b',
    'a/./b',
    'a\\b',
    '',
    'C:/x',
  ])('refuses %j with BAD_REQUEST before calling S3', async (path) => {
    const err = await errorOf(store.putNew(path, bytes('x')));
    expect(isSessiontrailError(err, 'BAD_REQUEST')).toBe(true);
  });

  it('describes a path as s3://bucket/prefix/path', () => {
    expect(store.describe('review/p/evidence.json')).toBe('s3://evidence-bucket/root/review/p/evidence.json');
  });

  it.each([
    ['a bucket name with upper case', { bucket: 'Evidence' }],
    ['a prefix with ..', { bucket: 'evidence-bucket', prefix: 'a/../b' }],
    [
      'a retention of 0 days',
      { bucket: 'evidence-bucket', objectLock: { mode: 'COMPLIANCE' as const, retainDays: 0 } },
    ],
  ])('refuses %s with BAD_CONFIG', (_what, options) => {
    expect(() => new S3EvidenceStore({ client: new S3Client({ region: 'eu-west-1' }), ...options })).toThrow(
      expect.objectContaining({ code: 'BAD_CONFIG' }),
    );
  });
});
