import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import type { ErrorCode } from '../../lib/errors.ts';
import { canonicalBytes } from '../../lib/evidence/canonical-json.ts';
import { generateKeyPair } from '../../lib/signing/keygen.ts';
import { LocalKeySigner } from '../../lib/signing/local-key-signer.ts';
import { parseManifest } from '../../lib/signing/manifest.ts';
import { type SealedPack, sealPack } from '../../lib/signing/seal-pack.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';
import { minimalPack, populatedPack } from '../fixtures/minimal-pack.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const ARTIFACTS = [
  'evidence.json',
  'evidence.pdf',
  'queries/01-normalise-windows.sql',
  'queries/02-sessions.sql',
];

interface Fixture {
  readonly root: string;
  readonly store: FsEvidenceStore;
  readonly signer: LocalKeySigner;
  readonly publicKeyPem: string;
  readonly otherKeyPem: string;
}

/** A store in a temp folder, a signing key, and a second key that signed nothing. */
async function prepare(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'sessiontrail-verify-'));
  await generateKeyPair(join(root, 'key.pem'));
  const other = await generateKeyPair(join(root, 'other-key.pem'));
  const signer = await LocalKeySigner.fromFile(join(root, 'key.pem'));
  return {
    root,
    store: new FsEvidenceStore(join(root, 'store')),
    signer,
    publicKeyPem: await signer.publicKeyPem(),
    otherKeyPem: other.publicKeyPem,
  };
}

async function seal(f: Fixture, packId: string, evidence: unknown = populatedPack()): Promise<SealedPack> {
  const pack = populatedPack().pack;
  return sealPack(
    { store: f.store, signer: f.signer, clock: fixedClock('2024-02-01T03:00:00.000Z') },
    {
      series: pack.series,
      packId,
      artifacts: [
        { name: 'evidence.json', bytes: canonicalBytes(evidence) },
        { name: 'evidence.pdf', bytes: bytes('%PDF-1.7\n% not a real PDF, only bytes to seal\n%%EOF\n') },
        { name: 'queries/01-normalise-windows.sql', bytes: bytes('SELECT * FROM windows_raw\n') },
        { name: 'queries/02-sessions.sql', bytes: bytes('SELECT host, logon_id FROM events\n') },
      ],
      previous: null,
      tool: { name: 'sessiontrail', version: '0.1.0' },
    },
  );
}

/** Writes over a sealed (0444) file, as an attacker with access to the folder could. */
async function overwrite(path: string, data: Uint8Array): Promise<void> {
  await chmod(path, 0o644);
  await writeFile(path, data);
  await chmod(path, 0o444);
}

const codes = (result: { checks: readonly { code: ErrorCode | 'OK' }[] }): string[] =>
  [...new Set(result.checks.map((c) => c.code))].filter((c) => c !== 'OK').sort();

describe('verifyPack', () => {
  let f: Fixture;
  let packId: string;
  let sealed: SealedPack;
  let packPath: string;

  beforeAll(async () => {
    f = await prepare();
    packId = populatedPack().pack.id;
    sealed = await seal(f, packId);
    packPath = join(f.root, 'store', sealed.dir);
  });
  afterAll(async () => {
    await rm(f.root, { recursive: true, force: true });
  });

  it.each([
    ['the given key', () => f.publicKeyPem],
    ['the key published in the store', () => undefined],
  ])('accepts a sealed pack checked with %s', async (_how, key) => {
    // Act
    const result = await verifyPack({ store: f.store, packDir: sealed.dir, publicKeyPem: key() });

    // Assess
    expect(result.checks.filter((c) => c.code !== 'OK')).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.packId).toBe(packId);
    expect(result.keyId).toBe(sealed.keyId);
    expect(result.checks.filter((c) => c.file !== undefined && ARTIFACTS.includes(c.file)).length).toBe(
      ARTIFACTS.length + 1, // one digest check each, plus the schema check of evidence.json
    );
  });

  it('is accepted by openssl dgst -verify and sha256sum -c, with nothing else', async () => {
    // Prepare: what an auditor does, with the published key and the digests from the manifest.
    const keyFile = join(f.root, 'store', 'keys', `${sealed.keyId}.pem`);
    const manifest = parseManifest(await readFile(join(packPath, 'manifest.json')));
    const sums = join(f.root, 'SHA256SUMS');
    await writeFile(sums, manifest.subject.map((s) => `${s.digest.sha256}  ${s.name}\n`).join(''));

    // Act
    const openssl = spawnSync('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      keyFile,
      '-signature',
      join(packPath, 'manifest.sig'),
      join(packPath, 'manifest.json'),
    ]);
    const sha256sum = spawnSync('sha256sum', ['--strict', '-c', sums], { cwd: packPath });

    // Assess
    expect(openssl.status).toBe(0);
    expect(openssl.stdout.toString().trim()).toBe('Verified OK');
    expect(sha256sum.status).toBe(0);
    expect(sha256sum.stdout.toString().trim().split('\n').sort()).toEqual(
      ARTIFACTS.map((a) => `${a}: OK`).sort(),
    );
  });

  // Every byte of the manifest and signature, and an even spread of bytes through each artifact.
  const TAMPER_TABLE: [string, ErrorCode, number | 'all'][] = [
    ...ARTIFACTS.map((name): [string, ErrorCode, number | 'all'] => [name, 'VERIFY_DIGEST_MISMATCH', 48]),
    ['manifest.json', 'VERIFY_BAD_SIGNATURE', 'all'],
    ['manifest.sig', 'VERIFY_BAD_SIGNATURE', 'all'],
  ];
  it.each(TAMPER_TABLE)('fails with %s changed in any single byte: %s', async (name, expected, sample) => {
    // Prepare
    const path = join(packPath, name);
    const original = await readFile(path);
    const positions =
      sample === 'all'
        ? [...original.keys()]
        : [
            ...new Set(
              Array.from({ length: sample }, (_, i) =>
                Math.floor((i * (original.length - 1)) / (sample - 1)),
              ),
            ),
          ];
    const missed: string[] = [];

    try {
      for (const position of positions) {
        const tampered = Buffer.from(original);
        tampered[position] = tampered[position]! ^ 0x01;
        await overwrite(path, tampered);

        // Act
        const pinned = await verifyPack({
          store: f.store,
          packDir: sealed.dir,
          publicKeyPem: f.publicKeyPem,
        });
        const published = await verifyPack({ store: f.store, packDir: sealed.dir });

        // Assess (collected, so that one failure shows every position that slipped through)
        for (const [how, result] of [
          ['pinned', pinned],
          ['published', published],
        ] as const) {
          if (result.ok || !codes(result).includes(expected)) {
            missed.push(`byte ${position} (${how} key): ${codes(result).join(',') || 'ok'}`);
          }
        }
      }
    } finally {
      await overwrite(path, original);
    }
    expect(missed).toEqual([]);
    expect((await verifyPack({ store: f.store, packDir: sealed.dir })).ok).toBe(true);
  });

  it('is rejected by openssl too when manifest.json changes by one byte', async () => {
    // Prepare
    const path = join(packPath, 'manifest.json');
    const original = await readFile(path);
    const tampered = Buffer.from(original);
    tampered[tampered.indexOf('2024-02-01')] = '3'.charCodeAt(0);
    await overwrite(path, tampered);

    // Act
    let status: number | null;
    try {
      status = spawnSync('openssl', [
        'dgst',
        '-sha256',
        '-verify',
        join(f.root, 'store', 'keys', `${sealed.keyId}.pem`),
        '-signature',
        join(packPath, 'manifest.sig'),
        path,
      ]).status;
    } finally {
      await overwrite(path, original);
    }

    // Assess
    expect(status).not.toBe(0);
  });

  it('reports VERIFY_KEY_MISMATCH and VERIFY_BAD_SIGNATURE when checked with another key', async () => {
    // Act
    const result = await verifyPack({ store: f.store, packDir: sealed.dir, publicKeyPem: f.otherKeyPem });

    // Assess
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(['VERIFY_BAD_SIGNATURE', 'VERIFY_KEY_MISMATCH']);
  });

  it.each(ARTIFACTS)('reports VERIFY_MISSING_FILE when %s is deleted', async (name) => {
    // Prepare
    const path = join(packPath, name);
    const original = await readFile(path);
    await unlink(path);

    // Act
    let result: Awaited<ReturnType<typeof verifyPack>>;
    try {
      result = await verifyPack({ store: f.store, packDir: sealed.dir, publicKeyPem: f.publicKeyPem });
    } finally {
      await writeFile(path, original, { mode: 0o444 });
    }

    // Assess
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(['VERIFY_MISSING_FILE']);
    expect(result.checks.find((c) => c.code === 'VERIFY_MISSING_FILE')?.file).toBe(name);
  });

  it.each([
    ['manifest.sig', ['VERIFY_MISSING_FILE']],
    ['manifest.json', ['VERIFY_MANIFEST_INVALID']],
  ])('reports a deleted %s as %j without throwing', async (name, expected) => {
    // Prepare
    const path = join(packPath, name);
    const original = await readFile(path);
    await unlink(path);

    // Act
    let result: Awaited<ReturnType<typeof verifyPack>>;
    try {
      result = await verifyPack({ store: f.store, packDir: sealed.dir, publicKeyPem: f.publicKeyPem });
    } finally {
      await writeFile(path, original, { mode: 0o444 });
    }

    // Assess
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(expected);
  });

  it.each([
    'notes.txt',
    'queries/03-extra.sql',
  ])('reports VERIFY_UNLISTED_FILE for an added %s', async (name) => {
    // Prepare
    const path = `${sealed.dir}/${name}`;
    await f.store.putNew(path, bytes('added later'));

    // Act
    let result: Awaited<ReturnType<typeof verifyPack>>;
    try {
      result = await verifyPack({ store: f.store, packDir: sealed.dir, publicKeyPem: f.publicKeyPem });
    } finally {
      await unlink(f.store.describe(path));
    }

    // Assess
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(['VERIFY_UNLISTED_FILE']);
    expect(result.checks.find((c) => c.code === 'VERIFY_UNLISTED_FILE')?.file).toBe(name);
  });
});

describe('verifyPack on packs sealed wrongly', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await prepare();
  });
  afterAll(async () => {
    await rm(f.root, { recursive: true, force: true });
  });

  it('reports VERIFY_SCHEMA for a correctly signed evidence.json that breaks the schema', async () => {
    // Prepare
    const sealed = await seal(f, 'bad-schema', { ...minimalPack(), extra: 'not in the model' });

    // Act
    const result = await verifyPack({ store: f.store, packDir: sealed.dir, publicKeyPem: f.publicKeyPem });

    // Assess
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(['VERIFY_SCHEMA']);
    expect(result.checks.find((c) => c.code === 'VERIFY_SCHEMA')?.message).toContain(
      'unknown property "extra"',
    );
  });

  it('reports VERIFY_MANIFEST_INVALID when evidence.json belongs to another pack', async () => {
    // Prepare
    const sealed = await seal(f, 'not-the-evidence-pack-id');

    // Act
    const result = await verifyPack({ store: f.store, packDir: sealed.dir });

    // Assess
    expect(codes(result)).toEqual(['VERIFY_MANIFEST_INVALID']);
  });

  it('reports a pack re-signed with another key as VERIFY_KEY_MISMATCH when the trusted key is given', async () => {
    // Prepare: an attacker edits evidence and re-seals with their own key, publishing it beside the series.
    const attacker = await prepare();
    const forged = await sealPack(
      { store: f.store, signer: attacker.signer, clock: fixedClock('2024-02-01T03:00:00.000Z') },
      {
        series: populatedPack().pack.series,
        packId: 'forged',
        artifacts: [
          {
            name: 'evidence.json',
            bytes: canonicalBytes({ ...minimalPack(), pack: { ...minimalPack().pack, id: 'forged' } }),
          },
        ],
        previous: null,
        tool: { name: 'sessiontrail', version: '0.1.0' },
      },
    );
    await rm(attacker.root, { recursive: true, force: true });

    // Act
    const unpinned = await verifyPack({ store: f.store, packDir: forged.dir });
    const pinned = await verifyPack({ store: f.store, packDir: forged.dir, publicKeyPem: f.publicKeyPem });

    // Assess: without a pinned key only integrity is proven, which is why the CLI asks for --key.
    expect(unpinned.ok).toBe(true);
    expect(unpinned.keyId).toBe(await attacker.signer.keyId());
    expect(codes(pinned)).toEqual(['VERIFY_BAD_SIGNATURE', 'VERIFY_KEY_MISMATCH']);
  });

  it('reports an empty folder without throwing', async () => {
    // Act
    const result = await verifyPack({ store: f.store, packDir: 'review-monthly/never-sealed' });

    // Assess
    expect(result).toMatchObject({ ok: false, packId: null, keyId: null });
    expect(codes(result)).toEqual(['VERIFY_MANIFEST_INVALID', 'VERIFY_MISSING_FILE']);
  });

  it('throws KEY_INVALID when the trusted key given is not an EC P-256 key', async () => {
    // Prepare
    const sealed = await seal(f, 'for-bad-key');
    const rsa = execFileSync(
      'openssl',
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      {
        stdio: 'pipe',
      },
    ).toString();

    // Act
    const attempt = verifyPack({ store: f.store, packDir: sealed.dir, publicKeyPem: rsa });

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'KEY_INVALID' });
  });
});
