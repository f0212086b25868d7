/**
 * Series sequencing on S3, through the same EvidenceStore port and the same reserveSequence as the
 * folder store: the reservation is a conditional PutObject (If-None-Match: *), checked on moto's
 * real S3 server on 127.0.0.1 (scripts/install-moto.sh).
 */
import { CreateBucketCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import { canonicalBytes } from '../../lib/evidence/canonical-json.ts';
import { parseManifest } from '../../lib/signing/manifest.ts';
import { reserveSequence, sealPack } from '../../lib/signing/seal-pack.ts';
import { verifySeries } from '../../lib/signing/verify-series.ts';
import type { EvidenceStore } from '../../lib/storage/evidence-store.ts';
import { S3EvidenceStore } from '../../lib/storage/s3-evidence-store.ts';
import { minimalPack } from '../fixtures/minimal-pack.ts';
import { type MotoServer, startMotoServer } from '../helpers/moto-server.ts';
import { bytes, type Fixture, prepare, TOOL } from './pack-fixture.ts';

const SERIES = 'review-monthly';
const clock = fixedClock('2024-02-01T03:00:00.000Z');
const input = (packId: string) => ({
  series: SERIES,
  packId,
  artifacts: [
    {
      name: 'evidence.json',
      bytes: canonicalBytes(minimalPack({ pack: { ...minimalPack().pack, id: packId } })),
    },
    { name: 'queries/01-normalise.sql', bytes: bytes('SELECT 1\n') },
  ],
  tool: TOOL,
  facts: { operator: 'test', request: null },
});

describe('series sequencing on S3 (moto server on 127.0.0.1, Object Lock COMPLIANCE)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let f: Fixture;
  let n = 0;

  beforeAll(async () => {
    moto = await startMotoServer();
    s3 = moto.s3();
    f = await prepare();
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  async function store(): Promise<S3EvidenceStore> {
    const bucket = `st-series-${process.pid}-${++n}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
        },
      }),
    );
    return new S3EvidenceStore({ client: s3, bucket, prefix: 'evidence' });
  }

  it('lets exactly one of two sealers that read the same head take the next number (conditional write)', async () => {
    // Prepare: both list the series before either writes.
    const s = await store();
    await sealPack({ store: s, signer: f.signer, clock }, input('p1'));
    let waiting: (() => void)[] = [];
    const racing = {
      putNew: (p, d) => s.putNew(p, d),
      putIdempotent: (p, d) => s.putIdempotent(p, d),
      get: (p) => s.get(p),
      exists: (p) => s.exists(p),
      describe: (p) => s.describe(p),
      list: async (prefix) => {
        const listed = await s.list(prefix);
        if (prefix.endsWith('_sequence')) {
          await new Promise<void>((go) => {
            waiting.push(go);
            if (waiting.length === 2) {
              for (const w of waiting) w();
              waiting = [];
            }
          });
        }
        return listed;
      },
    } satisfies EvidenceStore;
    const trustedKeyPem = f.publicKeyPem;

    // Act
    const outcomes = await Promise.allSettled(
      ['p2a', 'p2b'].map((packId) =>
        reserveSequence(
          { store: racing, clock, trustedKeyPem },
          { series: SERIES, packId, operator: 'x', request: null },
        ),
      ),
    );

    // Assess
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value.sequence)).toEqual([2]);
    expect(
      outcomes.filter((o) => o.status === 'rejected').map((o) => (o.reason as { code: string }).code),
    ).toEqual(['SERIES_BUSY']);
    expect(await s.list(`${SERIES}/_sequence`)).toEqual(['1.json', '1.seal.json', '2.json']);
  });

  it('never gives two of four concurrent seals the same number; the series verifies once all are sealed', async () => {
    // Act: four seals at once, the busy ones rerun until sealed.
    const s = await store();
    const ids = ['c1', 'c2', 'c3', 'c4'];
    let pending = ids;
    for (let round = 0; pending.length > 0 && round < 10; round++) {
      const outcomes = await Promise.allSettled(
        pending.map((id) => sealPack({ store: s, signer: f.signer, clock }, input(id))),
      );
      pending = pending.filter((_, i) => outcomes[i]?.status === 'rejected');
    }

    // Assess
    const sequences = await Promise.all(
      ids.map(async (id) => parseManifest(await s.get(`${SERIES}/${id}/manifest.json`)).predicate.sequence),
    );
    expect([...sequences].sort()).toEqual([1, 2, 3, 4]);
    const series = await verifySeries({ store: s, series: SERIES, trustedKeys: [f.publicKeyPem] });
    expect(series.checks).toEqual([]);
    expect(series.head).toBe(4);
  });
});
