import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import type { ErrorCode } from '../../lib/errors.ts';
import { canonicalBytes } from '../../lib/evidence/canonical-json.ts';
import { parseManifest } from '../../lib/signing/manifest.ts';
import { readPdfAttachments } from '../../lib/signing/pdf-attachment.ts';
import { type SealedPack, sealPack } from '../../lib/signing/seal-pack.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { minimalPack, populatedPack } from '../fixtures/minimal-pack.ts';
import {
  artifactsOf,
  bytes,
  evidenceFor,
  type Fixture,
  overwrite,
  prepare,
  resign,
  seal,
  TOOL,
} from './pack-fixture.ts';

const ARTIFACTS = [
  'evidence.json',
  'evidence.pdf',
  'queries/01-normalise-windows.sql',
  'queries/02-sessions.sql',
];

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
    sealed = await seal(f, packId, { evidence: populatedPack(), series: populatedPack().pack.series });
    packPath = join(f.root, 'store', sealed.dir);
  });
  afterAll(async () => {
    await rm(f.root, { recursive: true, force: true });
  });

  it.each([
    ['a trusted key', () => ({ trustedKeys: [f.publicKeyPem] }), 'verified'],
    [
      'the key published in the store, when untrusted keys are allowed',
      () => ({ allowUntrustedKey: true }),
      'not checked',
    ],
  ])('accepts a sealed pack checked with %s, and says what it proved', async (_how, options, origin) => {
    // Act
    const result = await verifyPack({ store: f.store, packDir: sealed.dir, ...options() });

    // Assess
    expect(result.checks.filter((c) => c.code !== 'OK')).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.origin).toBe(origin);
    expect(result.packId).toBe(packId);
    expect(result.keyId).toBe(sealed.keyId);
    expect(result.checks.filter((c) => c.file !== undefined && ARTIFACTS.includes(c.file)).length).toBe(
      ARTIFACTS.length + 2, // one digest check each, the schema of evidence.json, the PDF's attachment
    );
  });

  it('reports VERIFY_ORIGIN_NOT_CHECKED, and origin "not checked", when no trusted key is given', async () => {
    // Act
    const result = await verifyPack({ store: f.store, packDir: sealed.dir });

    // Assess: integrity checks out, origin does not, so the pack is not verified.
    expect(result.ok).toBe(false);
    expect(result.origin).toBe('not checked');
    expect(codes(result)).toEqual(['VERIFY_ORIGIN_NOT_CHECKED']);
  });

  it('is accepted by openssl dgst -verify and sha256sum -c, with nothing else', async () => {
    // Prepare: what an auditor does, with the key obtained out of band and the digests from the manifest.
    const keyFile = join(f.root, 'trusted-key.pem');
    await writeFile(keyFile, f.publicKeyPem);
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
      [...ARTIFACTS, 'README.txt'].map((a) => `${a}: OK`).sort(),
    );
  });

  // Every byte of the manifest and signature, and an even spread of bytes through each artifact.
  const TAMPER_TABLE: [string, ErrorCode, number | 'all'][] = [
    ...ARTIFACTS.map((name): [string, ErrorCode, number | 'all'] => [name, 'VERIFY_DIGEST_MISMATCH', 48]),
    ['manifest.json', 'VERIFY_BAD_SIGNATURE', 'all'],
    ['manifest.sig', 'VERIFY_BAD_SIGNATURE', 'all'],
    ['manifest.dsse.json', 'VERIFY_DSSE_INVALID', 64],
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
          trustedKeys: [f.publicKeyPem],
        });
        const published = await verifyPack({ store: f.store, packDir: sealed.dir, allowUntrustedKey: true });

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
    expect(
      (await verifyPack({ store: f.store, packDir: sealed.dir, trustedKeys: [f.publicKeyPem] })).ok,
    ).toBe(true);
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
    const result = await verifyPack({ store: f.store, packDir: sealed.dir, trustedKeys: [f.otherKeyPem] });

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
      result = await verifyPack({ store: f.store, packDir: sealed.dir, trustedKeys: [f.publicKeyPem] });
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
      result = await verifyPack({ store: f.store, packDir: sealed.dir, trustedKeys: [f.publicKeyPem] });
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
      result = await verifyPack({ store: f.store, packDir: sealed.dir, trustedKeys: [f.publicKeyPem] });
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
    const sealed = await seal(f, 'bad-schema', {
      evidence: {
        ...minimalPack(),
        pack: { ...minimalPack().pack, id: 'bad-schema', series: 'series-bad-schema' },
        extra: 'not in the model',
      },
    });

    // Act
    const result = await verifyPack({ store: f.store, packDir: sealed.dir, trustedKeys: [f.publicKeyPem] });

    // Assess
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(['VERIFY_SCHEMA']);
    expect(result.checks.find((c) => c.code === 'VERIFY_SCHEMA')?.message).toContain(
      'unknown property "extra"',
    );
  });

  it('reports VERIFY_MANIFEST_INVALID when evidence.json belongs to another pack', async () => {
    // Prepare
    const sealed = await seal(f, 'not-the-evidence-pack-id', {
      evidence: populatedPack(),
      series: populatedPack().pack.series,
    });

    // Act
    const result = await verifyPack({ store: f.store, packDir: sealed.dir, trustedKeys: [f.publicKeyPem] });

    // Assess
    expect(codes(result)).toEqual(['VERIFY_MANIFEST_INVALID']);
  });

  it('refuses a pack re-signed by an attacker whose key sits beside it: VERIFY_ORIGIN_NOT_CHECKED without a trusted key, VERIFY_KEY_MISMATCH with one', async () => {
    // Prepare: an attacker edits evidence and re-seals with their own key, publishing it in keys/.
    const attacker = await prepare();
    const forged = await seal({ store: f.store, signer: attacker.signer }, 'forged');
    const attackerKeyFile = join(f.root, 'store', 'keys', `${forged.keyId}.pem`);
    const trustedKeyFile = join(f.root, 'trusted-key.pem');
    await writeFile(trustedKeyFile, f.publicKeyPem);
    await rm(attacker.root, { recursive: true, force: true });
    const packPath = join(f.root, 'store', forged.dir);
    const ssl = (key: string) =>
      spawnSync(
        'openssl',
        ['dgst', '-sha256', '-verify', key, '-signature', 'manifest.sig', 'manifest.json'],
        {
          cwd: packPath,
        },
      ).status;

    // Act
    const unpinned = await verifyPack({ store: f.store, packDir: forged.dir });
    const pinned = await verifyPack({ store: f.store, packDir: forged.dir, trustedKeys: [f.publicKeyPem] });

    // Assess: the key beside the pack proves integrity only; the README's recipe uses a key obtained
    // out of band, which openssl refuses, while the attacker's key beside it would pass.
    expect(unpinned.ok).toBe(false);
    expect(unpinned.origin).toBe('not checked');
    expect(codes(unpinned)).toEqual(['VERIFY_ORIGIN_NOT_CHECKED']);
    expect(codes(pinned)).toEqual(['VERIFY_BAD_SIGNATURE', 'VERIFY_KEY_MISMATCH']);
    expect(pinned.origin).toBe('failed');
    expect(ssl(trustedKeyFile)).not.toBe(0);
    expect(ssl(attackerKeyFile)).toBe(0);
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
    const attempt = verifyPack({ store: f.store, packDir: sealed.dir, trustedKeys: [rsa] });

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'KEY_INVALID' });
  });
});

describe('verifyPack against forgeries, each with its own code, even with the trusted key', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await prepare();
  });
  afterAll(async () => {
    await rm(f.root, { recursive: true, force: true });
  });
  const trusted = (packDir: string) => verifyPack({ store: f.store, packDir, trustedKeys: [f.publicKeyPem] });

  it.each([
    ['another pack id of the same series', 'review-monthly', 'review-2024-03-04'],
    ['another series (an audit pack)', 'audit', 'review-2024-03-05'],
  ])('reports VERIFY_PACK_MOVED for a genuine pack copied into the folder of %s', async (_what, series, id) => {
    // Prepare: the March 5 review, genuine and untouched, copied where another pack belongs.
    const genuine = await seal(f, 'review-2024-03-05', { series: 'review-monthly' });
    await mkdir(join(f.root, 'store', series), { recursive: true });
    await cp(join(f.root, 'store', genuine.dir), join(f.root, 'store', series, id), { recursive: true });

    // Act
    const moved = await trusted(`${series}/${id}`);

    // Assess
    expect(codes(moved)).toEqual(['VERIFY_PACK_MOVED']);
    expect((await trusted(genuine.dir)).ok).toBe(true);
    await rm(join(f.root, 'store', genuine.dir), { recursive: true, force: true });
    await rm(join(f.root, 'store', 'review-monthly', '_sequence'), { recursive: true, force: true });
  });

  it('reports VERIFY_DUPLICATE_KEY for a signed manifest that states pack_id twice', async () => {
    // Prepare: the second pack_id is what JSON.parse keeps; a first-wins reader sees the first.
    const sealed = await seal(f, 'dup-key', { series: 'dup' });
    const path = join(f.root, 'store', sealed.dir);
    const text = (await readFile(join(path, 'manifest.json'), 'utf8')).replace(
      '"pack_id":"dup-key"',
      '"pack_id":"review-2024-99","pack_id":"dup-key"',
    );
    await resign(path, bytes(text), f.signer);

    // Act
    const result = await trusted(sealed.dir);

    // Assess
    expect(codes(result)).toEqual(['VERIFY_DUPLICATE_KEY']);
    expect(result.checks.find((c) => c.code === 'VERIFY_DUPLICATE_KEY')?.message).toContain('/predicate');
  });

  it('reports VERIFY_NOT_CANONICAL for a signed manifest in another form (pretty-printed)', async () => {
    // Prepare
    const sealed = await seal(f, 'pretty', { series: 'pretty' });
    const path = join(f.root, 'store', sealed.dir);
    const pretty = JSON.stringify(JSON.parse(await readFile(join(path, 'manifest.json'), 'utf8')), null, 2);
    await resign(path, bytes(pretty), f.signer);

    // Act
    const result = await trusted(sealed.dir);

    // Assess
    expect(codes(result)).toEqual(['VERIFY_NOT_CANONICAL']);
  });

  it('reports VERIFY_NOT_REGULAR_FILE for a subject that is a symlink to a file outside the pack, even with the same bytes', async () => {
    // Prepare
    const sealed = await seal(f, 'linked', { series: 'linked' });
    const subject = join(f.root, 'store', sealed.dir, 'queries/02-sessions.sql');
    const outside = join(f.root, 'outside.sql');
    await writeFile(outside, await readFile(subject));
    await unlink(subject);
    await symlink(outside, subject);

    // Act
    const result = await trusted(sealed.dir);

    // Assess
    expect(codes(result)).toEqual(['VERIFY_NOT_REGULAR_FILE']);
    expect(result.checks.find((c) => c.code === 'VERIFY_NOT_REGULAR_FILE')?.file).toBe(
      'queries/02-sessions.sql',
    );
  });

  it('reports VERIFY_PDF_ATTACHMENT_MISMATCH for a signed PDF that embeds other evidence, as poppler pdfdetach reads it too', async () => {
    // Prepare: the PDF embeds evidence with one session fewer than the pack's evidence.json.
    const evidence = evidenceFor('pdf-other', 'series-pdf-other');
    const other = canonicalBytes({ ...evidence, sessions: evidence.sessions.slice(1) });
    const sealed = await seal(f, 'pdf-other', { evidence, pdfEvidence: other });
    const pdfPath = join(f.root, 'store', sealed.dir, 'evidence.pdf');
    const detached = join(f.root, 'detached.json');
    execFileSync('pdfdetach', ['-save', '1', '-o', detached, pdfPath]);

    // Act
    const result = await trusted(sealed.dir);
    const ours = readPdfAttachments(await readFile(pdfPath));

    // Assess
    expect(codes(result)).toEqual(['VERIFY_PDF_ATTACHMENT_MISMATCH']);
    expect(ours.files.map((x) => x.names)).toEqual([['evidence.json']]);
    expect(Buffer.from(ours.files[0]?.bytes ?? []).equals(await readFile(detached))).toBe(true);
    expect(Buffer.from(other).equals(await readFile(detached))).toBe(true);
  });

  it('reads the attachment of a PDF rendered by the product exactly as poppler pdfdetach does', async () => {
    // Prepare: the pack's own PDF (pdfkit, compressed EmbeddedFile stream).
    const sealed = await seal(f, 'pdf-same', { series: 'pdf-same' });
    const pdfPath = join(f.root, 'store', sealed.dir, 'evidence.pdf');
    const detached = join(f.root, 'detached-same.json');
    execFileSync('pdfdetach', ['-save', '1', '-o', detached, pdfPath]);

    // Act
    const ours = readPdfAttachments(await readFile(pdfPath));

    // Assess
    expect(ours.problem).toBeUndefined();
    expect(Buffer.from(ours.files[0]?.bytes ?? []).equals(await readFile(detached))).toBe(true);
    expect((await trusted(sealed.dir)).ok).toBe(true);
  });

  it('seals through sealPack with the artifacts of the fixture (sanity of the helpers)', async () => {
    // Act
    const sealed = await sealPack(
      { store: f.store, signer: f.signer, clock: fixedClock('2024-02-01T03:00:00.000Z') },
      {
        series: 'helpers',
        packId: 'h1',
        artifacts: await artifactsOf(evidenceFor('h1', 'helpers')),
        tool: TOOL,
      },
    );

    // Assess
    expect(
      parseManifest(await readFile(join(f.root, 'store', sealed.dir, 'manifest.json'))).predicate.operator,
    ).toBe('unspecified');
  });
});

describe('README.txt of a pack', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await prepare();
  });
  afterAll(async () => {
    await rm(f.root, { recursive: true, force: true });
  });

  it('names every file of the pack, and its commands, run as printed from the pack folder, verify it', async () => {
    // Prepare: the key from the publisher, saved where the README says.
    const sealed = await seal(f, 'readme-pack');
    const packPath = join(f.root, 'store', sealed.dir);
    await writeFile(join(packPath, 'trusted-key.pem'), f.publicKeyPem);
    const readme = await readFile(join(packPath, 'README.txt'), 'utf8');
    const commands = readme
      .split('\n')
      .filter((l) => l.startsWith('  $ ') && !l.includes('cosign'))
      .map((l) => l.slice(4));

    // Act
    const outputs = commands.map((c) => {
      const r = spawnSync('sh', ['-c', c], { cwd: packPath, encoding: 'utf8' });
      return { c, status: r.status, out: r.stdout.trim() };
    });
    await unlink(join(packPath, 'trusted-key.pem'));

    // Assess
    for (const name of [...ARTIFACTS, 'README.txt', 'manifest.json', 'manifest.sig', 'manifest.dsse.json']) {
      expect(readme).toContain(`  ${name} `);
    }
    expect(outputs.map((o) => o.status)).toEqual([0, 0, 0, 0]);
    expect(outputs[0]?.out).toBe(`${sealed.keyId}  -`);
    expect(outputs[1]?.out).toBe('Verified OK');
    expect(outputs[2]?.out).toBe('1');
    expect(outputs[3]?.out.split('\n').sort()).toEqual(ARTIFACTS.map((a) => `${a}: OK`).sort());
  });

  it('makes its checks fail when a file is changed', async () => {
    // Prepare
    const sealed = await seal(f, 'readme-tampered');
    const packPath = join(f.root, 'store', sealed.dir);
    await overwrite(join(packPath, 'queries/02-sessions.sql'), bytes('SELECT 2\n'));
    const readme = await readFile(join(packPath, 'README.txt'), 'utf8');
    const check =
      readme
        .split('\n')
        .find((l) => l.includes('sha256sum -c'))
        ?.slice(4) ?? 'false';

    // Act
    const r = spawnSync('sh', ['-c', check], { cwd: packPath, encoding: 'utf8' });

    // Assess
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('queries/02-sessions.sql: FAILED');
  });
});
