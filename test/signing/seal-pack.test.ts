import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import { isSessiontrailError } from '../../lib/errors.ts';
import { canonicalBytes, sha256Hex } from '../../lib/evidence/canonical-json.ts';
import { generateKeyPair } from '../../lib/signing/keygen.ts';
import { LocalKeySigner } from '../../lib/signing/local-key-signer.ts';
import { parseManifest } from '../../lib/signing/manifest.ts';
import { reserveSequence, type SealPackInput, sealPack } from '../../lib/signing/seal-pack.ts';
import type { Signer } from '../../lib/signing/signer.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import type { EvidenceStore } from '../../lib/storage/evidence-store.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';
import { minimalPack } from '../fixtures/minimal-pack.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const tool = { name: 'sessiontrail', version: '0.1.0' };

function packInput(packId: string, overrides: Partial<SealPackInput> = {}): SealPackInput {
  return {
    series: 'review-monthly',
    packId,
    artifacts: [
      {
        name: 'evidence.json',
        bytes: canonicalBytes(minimalPack({ pack: { ...minimalPack().pack, id: packId } })),
      },
      { name: 'queries/01-normalise.sql', bytes: bytes('SELECT 1') },
    ],
    tool,
    facts: { operator: 'j.doe (--requester)', request: { kind: 'review' } },
    ...overrides,
  };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('sealPack', () => {
  let root: string;
  let store: FsEvidenceStore;
  let signer: Signer;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessiontrail-seal-'));
    store = new FsEvidenceStore(join(root, 'store'));
    await generateKeyPair(join(root, 'key.pem'));
    signer = await LocalKeySigner.fromFile(join(root, 'key.pem'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reserves the sequence, writes the artifacts, README.txt, manifest.json, the DSSE envelope, manifest.sig last, then the receipt', async () => {
    // Prepare
    const writes: string[] = [];
    const recording = {
      putNew: async (path, data) => {
        writes.push(path);
        await store.putNew(path, data);
      },
      putIdempotent: async (path, data) => {
        writes.push(path);
        await store.putIdempotent(path, data);
      },
      get: (path) => store.get(path),
      exists: (path) => store.exists(path),
      list: (prefix) => store.list(prefix),
      describe: (path) => store.describe(path),
    } satisfies EvidenceStore;
    const keyId = await signer.keyId();

    // Act
    const sealed = await sealPack(
      { store: recording, signer, clock: fixedClock('2024-02-01T03:00:00.000Z') },
      packInput('review-2024-01'),
    );

    // Assess
    expect(writes).toEqual([
      'review-monthly/_sequence/1.json',
      `keys/${keyId}.pem`,
      'review-monthly/review-2024-01/evidence.json',
      'review-monthly/review-2024-01/queries/01-normalise.sql',
      'review-monthly/review-2024-01/README.txt',
      'review-monthly/review-2024-01/manifest.json',
      'review-monthly/review-2024-01/manifest.dsse.json',
      'review-monthly/review-2024-01/manifest.sig',
      'review-monthly/_sequence/1.seal.json',
    ]);
    expect(sealed.dir).toBe('review-monthly/review-2024-01');
    expect(sealed.keyId).toBe(keyId);
  });

  it('returns the sha256 of the manifest file and records the sealing time, operator, request, sequence and key id in it', async () => {
    // Act
    const sealed = await sealPack(
      { store, signer, clock: fixedClock('2024-02-01T03:00:00.000Z') },
      packInput('review-2024-01'),
    );

    // Assess
    const manifest = await readFile(join(root, 'store', sealed.dir, 'manifest.json'));
    expect(sealed.manifestSha256).toBe(sha256Hex(manifest));
    const { predicate } = parseManifest(manifest);
    expect(predicate.created).toBe('2024-02-01T03:00:00.000Z');
    expect(predicate.operator).toBe('j.doe (--requester)');
    expect(predicate.request).toEqual({ kind: 'review' });
    expect(predicate.sequence).toBe(1);
    expect(predicate.previous).toBeNull();
    expect(predicate.signer.key_id).toBe(sealed.keyId);
    expect(await readFile(join(root, 'store', 'keys', `${sealed.keyId}.pem`), 'utf8')).toBe(
      await signer.publicKeyPem(),
    );
  });

  it('refuses to seal the same pack twice (PACK_EXISTS) and changes nothing', async () => {
    // Prepare
    const clock = fixedClock('2024-02-01T03:00:00.000Z');
    await sealPack({ store, signer, clock }, packInput('review-2024-01'));
    const before = await readFile(join(root, 'store', 'review-monthly/review-2024-01/manifest.json'));

    // Act
    const error = await errorOf(
      sealPack({ store, signer, clock: fixedClock('2024-03-01T00:00:00.000Z') }, packInput('review-2024-01')),
    );

    // Assess
    expect(isSessiontrailError(error, 'PACK_EXISTS')).toBe(true);
    const after = await readFile(join(root, 'store', 'review-monthly/review-2024-01/manifest.json'));
    expect(after.equals(before)).toBe(true);
  });

  it.each<[string, Partial<SealPackInput>]>([
    ['the reserved series "keys"', { series: 'keys' }],
    ['a series with a slash', { series: 'a/b' }],
    ['a pack id with a parent segment', { packId: '..' }],
    ['an artifact named manifest.sig', { artifacts: [{ name: 'manifest.sig', bytes: bytes('x') }] }],
  ])('refuses %s with BAD_REQUEST before writing anything', async (_what, overrides) => {
    // Act
    const error = await errorOf(
      sealPack({ store, signer, clock: fixedClock('2024-02-01T03:00:00.000Z') }, packInput('p1', overrides)),
    );

    // Assess
    expect(isSessiontrailError(error, 'BAD_REQUEST')).toBe(true);
    expect(await store.list('')).toEqual([]);
  });

  it('refuses a signer whose key id is not the sha256 of its public key (KEY_INVALID)', async () => {
    // Prepare
    const lying = {
      keyId: async () => 'f'.repeat(64),
      publicKeyPem: () => signer.publicKeyPem(),
      sign: (data) => signer.sign(data),
    } satisfies Signer;

    // Act
    const error = await errorOf(
      sealPack({ store, signer: lying, clock: fixedClock('2024-02-01T03:00:00.000Z') }, packInput('p1')),
    );

    // Assess
    expect(isSessiontrailError(error, 'KEY_INVALID')).toBe(true);
    expect(await store.list('')).toEqual([]);
  });

  it('refuses a signer whose signatures do not verify with its public key (KEY_INVALID)', async () => {
    // Prepare
    const broken = {
      keyId: () => signer.keyId(),
      publicKeyPem: () => signer.publicKeyPem(),
      sign: async (data) => signer.sign(new Uint8Array([...data, 0])),
    } satisfies Signer;

    // Act
    const error = await errorOf(
      sealPack({ store, signer: broken, clock: fixedClock('2024-02-01T03:00:00.000Z') }, packInput('p1')),
    );

    // Assess
    expect(isSessiontrailError(error, 'KEY_INVALID')).toBe(true);
    expect(await store.list('')).toEqual([]);
  });
});

/** A store that fails every write after the first `writes` ones: a build killed at that point. */
function killedAfter(store: EvidenceStore, writes: number): EvidenceStore {
  let done = 0;
  const guard = () => {
    if (done++ >= writes) throw new Error(`killed before write ${writes + 1}`);
  };
  return {
    putNew: async (path, data) => {
      guard();
      await store.putNew(path, data);
    },
    putIdempotent: async (path, data) => {
      guard();
      await store.putIdempotent(path, data);
    },
    get: (path) => store.get(path),
    exists: (path) => store.exists(path),
    list: (prefix) => store.list(prefix),
    describe: (path) => store.describe(path),
  } satisfies EvidenceStore;
}

describe('sealPack on an unfinished pack (resume)', () => {
  let root: string;
  let signer: Signer;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessiontrail-resume-'));
    await generateKeyPair(join(root, 'key.pem'));
    signer = await LocalKeySigner.fromFile(join(root, 'key.pem'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('completes a build killed before each of its writes when rerun, keeping the reserved sealing time (folder store)', async () => {
    const clock = fixedClock('2024-02-01T05:00:00.000Z');
    // Prepare: count the writes of one whole seal.
    const counting = new FsEvidenceStore(join(root, 'count'));
    let writes = 0;
    await sealPack(
      {
        store: {
          ...killedAfter(counting, Number.MAX_SAFE_INTEGER),
          putNew: async (p, d) => {
            writes++;
            await counting.putNew(p, d);
          },
          putIdempotent: async (p, d) => {
            writes++;
            await counting.putIdempotent(p, d);
          },
        },
        signer,
        clock: fixedClock('2024-02-01T03:00:00.000Z'),
      },
      packInput('review-2024-01'),
    );
    const failures: string[] = [];

    for (let k = 0; k < writes; k++) {
      const store = new FsEvidenceStore(join(root, `killed-${k}`));
      // Act: killed before write k+1, then rerun later (another clock reading) on the same folder.
      const killed = await errorOf(
        sealPack(
          { store: killedAfter(store, k), signer, clock: fixedClock('2024-02-01T03:00:00.000Z') },
          packInput('review-2024-01'),
        ),
      );
      // A build killed after its signature is sealed (PACK_EXISTS on rerun); the next seal of the
      // series then writes the receipt it lacks.
      const again = await errorOf(
        sealPack(
          { store, signer, clock: fixedClock('2024-02-01T04:00:00.000Z') },
          packInput('review-2024-01'),
        ),
      );
      await sealPack({ store, signer, clock }, packInput('review-2024-02'));

      // Assess
      const dir = 'review-monthly/review-2024-01';
      const result = await verifyPack({ store, packDir: dir, trustedKeys: [await signer.publicKeyPem()] });
      const { predicate } = parseManifest(await store.get(`${dir}/manifest.json`));
      // The first write is the reservation, which fixes the sealing time.
      const expectedTime = k === 0 ? '2024-02-01T04:00:00.000Z' : '2024-02-01T03:00:00.000Z';
      const rerunOk = again === undefined || (k === writes - 1 && isSessiontrailError(again, 'PACK_EXISTS'));
      if (
        !(killed instanceof Error) ||
        !rerunOk ||
        !result.ok ||
        predicate.sequence !== 1 ||
        predicate.created !== expectedTime
      ) {
        failures.push(
          `killed before write ${k + 1}: ${String(killed)}; rerun ${String(again)}; ${result.checks
            .filter((c) => c.code !== 'OK')
            .map((c) => c.code)
            .join(',')}; ${predicate.created}`,
        );
      }
      expect(await store.list('review-monthly/_sequence')).toEqual([
        '1.json',
        '1.seal.json',
        '2.json',
        '2.seal.json',
      ]);
    }
    expect(writes).toBe(9); // reservation, key, 2 artifacts, README, manifest, envelope, signature, receipt
    expect(failures).toEqual([]);
  });

  it('refuses to resume over a file with other content (PACK_CONFLICT) and overwrites nothing', async () => {
    // Prepare: a dead build of other evidence left its evidence.json.
    const store = new FsEvidenceStore(join(root, 'store'));
    await store.putNew('review-monthly/review-2024-01/evidence.json', bytes('{"other":true}'));

    // Act
    const error = await errorOf(
      sealPack({ store, signer, clock: fixedClock('2024-02-01T03:00:00.000Z') }, packInput('review-2024-01')),
    );

    // Assess
    expect(isSessiontrailError(error, 'PACK_CONFLICT')).toBe(true);
    expect(new TextDecoder().decode(await store.get('review-monthly/review-2024-01/evidence.json'))).toBe(
      '{"other":true}',
    );
    expect(await store.exists('review-monthly/review-2024-01/manifest.sig')).toBe(false);
  });

  it('refuses to resume a folder holding a file this build does not write (PACK_CONFLICT)', async () => {
    // Prepare
    const store = new FsEvidenceStore(join(root, 'store'));
    await store.putNew('review-monthly/review-2024-01/queries/09-other.sql', bytes('SELECT 2'));

    // Act
    const error = await errorOf(
      sealPack({ store, signer, clock: fixedClock('2024-02-01T03:00:00.000Z') }, packInput('review-2024-01')),
    );

    // Assess
    expect(isSessiontrailError(error, 'PACK_CONFLICT')).toBe(true);
  });
});

describe('series sequencing', () => {
  let root: string;
  let store: FsEvidenceStore;
  let signer: Signer;
  const clock = fixedClock('2024-02-01T03:00:00.000Z');

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessiontrail-series-'));
    store = new FsEvidenceStore(join(root, 'store'));
    await generateKeyPair(join(root, 'key.pem'));
    signer = await LocalKeySigner.fromFile(join(root, 'key.pem'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('numbers the packs of a series 1, 2, 3 and links each to the manifest digest of the one before', async () => {
    // Act
    const sealed = [];
    for (const id of ['p1', 'p2', 'p3']) sealed.push(await sealPack({ store, signer, clock }, packInput(id)));

    // Assess
    const predicates = await Promise.all(
      sealed.map(async (s) => parseManifest(await store.get(`${s.dir}/manifest.json`)).predicate),
    );
    expect(predicates.map((p) => p.sequence)).toEqual([1, 2, 3]);
    expect(predicates.map((p) => p.previous)).toEqual([
      null,
      { pack_id: 'p1', sequence: 1, manifest_sha256: sealed[0]?.manifestSha256 },
      { pack_id: 'p2', sequence: 2, manifest_sha256: sealed[1]?.manifestSha256 },
    ]);
    expect(sealed[2]?.manifestSha256).toBe(sha256Hex(await store.get('review-monthly/p3/manifest.json')));
  });

  it('lets exactly one of two seals that read the same head take the next number; the other gets SERIES_BUSY and writes nothing', async () => {
    // Prepare: both sealers list the series before either writes (a barrier in list), forcing the race.
    await sealPack({ store, signer, clock }, packInput('p1'));
    let waiting: (() => void)[] = [];
    const racing = {
      ...killedAfter(store, Number.MAX_SAFE_INTEGER),
      list: async (prefix: string) => {
        const listed = await store.list(prefix);
        if (prefix.endsWith('_sequence')) {
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length === 2) {
              for (const go of waiting) go();
              waiting = [];
            }
          });
        }
        return listed;
      },
    } satisfies EvidenceStore;

    // Act
    const outcomes = await Promise.allSettled([
      reserveSequence(
        { store: racing, clock, trustedKeyPem: await signer.publicKeyPem() },
        { series: 'review-monthly', packId: 'p2a', operator: 'a', request: null },
      ),
      reserveSequence(
        { store: racing, clock, trustedKeyPem: await signer.publicKeyPem() },
        { series: 'review-monthly', packId: 'p2b', operator: 'b', request: null },
      ),
    ]);

    // Assess
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won.map((o) => o.value.sequence)).toEqual([2]);
    expect(lost.map((o) => (o.reason as { code: string }).code)).toEqual(['SERIES_BUSY']);
    expect(await store.list('review-monthly/_sequence')).toEqual(['1.json', '1.seal.json', '2.json']);
  });

  it('never gives two of several concurrent seals the same sequence number; each busy one completes when rerun', async () => {
    // Act: four seals of one series at once, then the busy ones again until all are sealed.
    const ids = ['c1', 'c2', 'c3', 'c4'];
    let pending = ids;
    const busy: string[] = [];
    for (let round = 0; pending.length > 0 && round < 10; round++) {
      const outcomes = await Promise.allSettled(
        pending.map((id) => sealPack({ store, signer, clock }, packInput(id))),
      );
      const next: string[] = [];
      outcomes.forEach((o, i) => {
        if (o.status === 'rejected') {
          expect((o.reason as { code: string }).code).toBe('SERIES_BUSY');
          busy.push(pending[i] as string);
          next.push(pending[i] as string);
        }
      });
      pending = next;
    }

    // Assess
    const sequences = await Promise.all(
      ids.map(
        async (id) => parseManifest(await store.get(`review-monthly/${id}/manifest.json`)).predicate.sequence,
      ),
    );
    expect([...sequences].sort()).toEqual([1, 2, 3, 4]);
    expect(busy.length).toBeGreaterThan(0);
  });

  it('never links a planted folder with a garbage signature: ignored without a reservation, refused (SERIES_PREDECESSOR_UNVERIFIED) with one', async () => {
    // Prepare: a genuine first pack, then an attacker's folder.
    const first = await sealPack({ store, signer, clock }, packInput('p1'));
    await store.putNew('review-monthly/planted/manifest.json', bytes('{}'));
    await store.putNew('review-monthly/planted/manifest.sig', bytes('garbage'));

    // Act: without a reservation the planted folder is not part of the series.
    const second = await sealPack({ store, signer, clock }, packInput('p2'));
    // With a reservation naming it (sequence 3), the next seal refuses rather than link past it.
    await store.putNew(
      'review-monthly/_sequence/3.json',
      canonicalBytes({
        operator: 'x',
        pack_id: 'planted',
        request: null,
        sealed_at: '2024-02-01T00:00:00.000Z',
        sequence: 3,
      }),
    );
    const third = await errorOf(sealPack({ store, signer, clock }, packInput('p3')));

    // Assess
    const { predicate } = parseManifest(await store.get(`${second.dir}/manifest.json`));
    expect(predicate.previous).toEqual({ pack_id: 'p1', sequence: 1, manifest_sha256: first.manifestSha256 });
    expect(isSessiontrailError(third, 'SERIES_PREDECESSOR_UNVERIFIED')).toBe(true);
    expect(await store.exists('review-monthly/p3/evidence.json')).toBe(false);
  });
});
