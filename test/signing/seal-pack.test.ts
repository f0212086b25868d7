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
import { findPreviousPack, type SealPackInput, sealPack } from '../../lib/signing/seal-pack.ts';
import type { Signer } from '../../lib/signing/signer.ts';
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
      { name: 'evidence.json', bytes: canonicalBytes(minimalPack()) },
      { name: 'queries/01-normalise.sql', bytes: bytes('SELECT 1') },
    ],
    previous: null,
    tool,
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

  it('writes the artifacts, then manifest.json, then manifest.sig last, after publishing the key', async () => {
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
      `keys/${keyId}.pem`,
      'review-monthly/review-2024-01/evidence.json',
      'review-monthly/review-2024-01/queries/01-normalise.sql',
      'review-monthly/review-2024-01/manifest.json',
      'review-monthly/review-2024-01/manifest.sig',
    ]);
    expect(sealed.dir).toBe('review-monthly/review-2024-01');
    expect(sealed.keyId).toBe(keyId);
  });

  it('returns the sha256 of the manifest file and records the clock time and key id in it', async () => {
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

describe('findPreviousPack', () => {
  let root: string;
  let store: EvidenceStore;
  let signer: Signer;
  const seal = (packId: string, created: string, extra: Partial<SealPackInput> = {}) =>
    sealPack({ store, signer, clock: fixedClock(created) }, packInput(packId, extra));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessiontrail-previous-'));
    store = new FsEvidenceStore(join(root, 'store'));
    await generateKeyPair(join(root, 'key.pem'));
    signer = await LocalKeySigner.fromFile(join(root, 'key.pem'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('answers null for a series with no pack', async () => {
    // Act
    const previous = await findPreviousPack(store, 'review-monthly');

    // Assess
    expect(previous).toBeNull();
  });

  it('picks the pack created last, whatever the pack ids', async () => {
    // Prepare
    await seal('b-first', '2024-01-01T00:00:00.000Z');
    const latest = await seal('a-latest', '2024-03-01T00:00:00.000Z');
    await seal('c-middle', '2024-02-01T00:00:00.000Z');

    // Act
    const previous = await findPreviousPack(store, 'review-monthly');

    // Assess
    expect(previous).toEqual({ pack_id: 'a-latest', manifest_sha256: latest.manifestSha256 });
  });

  it('breaks a tie on creation time by the greater pack id', async () => {
    // Prepare
    await seal('pack-a', '2024-01-01T00:00:00.000Z');
    const b = await seal('pack-b', '2024-01-01T00:00:00.000Z');

    // Act
    const previous = await findPreviousPack(store, 'review-monthly');

    // Assess
    expect(previous).toEqual({ pack_id: 'pack-b', manifest_sha256: b.manifestSha256 });
  });

  it('skips a pack folder without manifest.sig (an unfinished pack)', async () => {
    // Prepare
    const done = await seal('pack-1', '2024-01-01T00:00:00.000Z');
    await store.putNew('review-monthly/pack-2/evidence.json', bytes('{}'));
    await store.putNew(
      'review-monthly/pack-2/manifest.json',
      await store.get('review-monthly/pack-1/manifest.json'),
    );

    // Act
    const previous = await findPreviousPack(store, 'review-monthly');

    // Assess
    expect(previous).toEqual({ pack_id: 'pack-1', manifest_sha256: done.manifestSha256 });
  });

  it('ignores other series', async () => {
    // Prepare
    await seal('other-1', '2024-05-01T00:00:00.000Z', { series: 'incident' });

    // Act
    const previous = await findPreviousPack(store, 'review-monthly');

    // Assess
    expect(previous).toBeNull();
  });

  it('chains a new pack to the one before it', async () => {
    // Prepare
    const first = await seal('pack-1', '2024-01-01T00:00:00.000Z');
    const previous = await findPreviousPack(store, 'review-monthly');

    // Act
    const second = await seal('pack-2', '2024-02-01T00:00:00.000Z', { previous });

    // Assess
    const manifest = parseManifest(await store.get(`${second.dir}/manifest.json`));
    expect(manifest.predicate.previous).toEqual({ pack_id: 'pack-1', manifest_sha256: first.manifestSha256 });
  });

  it('refuses a signed manifest that names another pack (VERIFY_MANIFEST_INVALID)', async () => {
    // Prepare: a copy of pack-1 placed under another folder name.
    await seal('pack-1', '2024-01-01T00:00:00.000Z');
    for (const name of await store.list('review-monthly/pack-1')) {
      await store.putNew(`review-monthly/pack-9/${name}`, await store.get(`review-monthly/pack-1/${name}`));
    }

    // Act
    const error = await errorOf(findPreviousPack(store, 'review-monthly'));

    // Assess
    expect(isSessiontrailError(error, 'VERIFY_MANIFEST_INVALID')).toBe(true);
  });
});
