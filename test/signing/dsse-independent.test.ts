/**
 * manifest.dsse.json checked by tools that share no code with sessiontrail: Python securesystemslib
 * (installed by scripts/install-dsse-verifier.sh; the library in-toto signs with), and openssl over
 * PAE bytes assembled here by printf, per the DSSE protocol (secure-systems-lab/dsse, protocol.md).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../lib/signing/keygen.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { type Fixture, overwrite, prepare, seal } from './pack-fixture.ts';

const VERIFIER = new URL('../../scripts/dsse-verify.py', import.meta.url).pathname;

describe('manifest.dsse.json and independent DSSE verifiers', () => {
  let f: Fixture;
  let packPath: string;
  let packDir: string;
  let keyFile: string;

  beforeAll(async () => {
    execFileSync('bash', [new URL('../../scripts/install-dsse-verifier.sh', import.meta.url).pathname]);
    f = await prepare();
    const sealed = await seal(f, 'dsse-pack');
    packDir = sealed.dir;
    packPath = join(f.root, 'store', sealed.dir);
    keyFile = join(f.root, 'trusted-key.pem');
    await writeFile(keyFile, f.publicKeyPem);
  });
  afterAll(async () => {
    await rm(f.root, { recursive: true, force: true });
  });

  const sslib = (key = keyFile) => spawnSync('python3', [VERIFIER, packPath, key], { encoding: 'utf8' });

  it('is an in-toto DSSE envelope of manifest.json, keyed by the key id', async () => {
    // Act
    const envelope = JSON.parse(await readFile(join(packPath, 'manifest.dsse.json'), 'utf8'));

    // Assess
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(
      Buffer.from(envelope.payload, 'base64').equals(await readFile(join(packPath, 'manifest.json'))),
    ).toBe(true);
    expect(envelope.signatures).toEqual([{ keyid: keyIdOf(f.publicKeyPem), sig: expect.any(String) }]);
  });

  it('is accepted by securesystemslib (PyPI) with the trusted key: signature and every subject', () => {
    // Act
    const run = sslib();

    // Assess
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^OK signature by [0-9a-f]{64} and 5 subjects/);
  });

  it('is accepted by openssl over the PAE assembled with printf, and rejected once a subject digest in the payload changes', async () => {
    // Prepare: DSSEv1 SP len(type) SP type SP len(body) SP body, built by the shell.
    const envelope = JSON.parse(await readFile(join(packPath, 'manifest.dsse.json'), 'utf8'));
    const sig = join(f.root, 'dsse.sig');
    await writeFile(sig, Buffer.from(envelope.signatures[0].sig, 'base64'));
    const paeOf = async (payload: Buffer, name: string) => {
      const body = join(f.root, `${name}.payload`);
      await writeFile(body, payload);
      const file = join(f.root, `${name}.pae`);
      execFileSync('sh', [
        '-c',
        't=application/vnd.in-toto+json; printf "DSSEv1 %d %s %d " "$(printf %s "$t" | wc -c)" "$t" "$(wc -c < "$1")" > "$2"; cat "$1" >> "$2"',
        'sh',
        body,
        file,
      ]);
      return file;
    };
    const payload = Buffer.from(envelope.payload, 'base64');
    const tampered = Buffer.from(payload.toString('utf8').replace(/"sha256":"[0-9a-f]/, '"sha256":"x'));
    const ssl = (file: string) =>
      spawnSync('openssl', ['dgst', '-sha256', '-verify', keyFile, '-signature', sig, file]).status;

    // Act
    const genuine = ssl(await paeOf(payload, 'genuine'));
    const forged = ssl(await paeOf(tampered, 'forged'));

    // Assess
    expect(tampered.equals(payload)).toBe(false);
    expect(genuine).toBe(0);
    expect(forged).not.toBe(0);
  });

  it('is rejected by securesystemslib, and by verify, when a subject file is tampered with', async () => {
    // Prepare
    const path = join(packPath, 'queries/02-sessions.sql');
    const original = await readFile(path);
    await overwrite(path, Buffer.from('SELECT 1 -- changed\n'));

    // Act
    let run: ReturnType<typeof sslib>;
    let ours: Awaited<ReturnType<typeof verifyPack>>;
    try {
      run = sslib();
      ours = await verifyPack({ store: f.store, packDir, trustedKeys: [f.publicKeyPem] });
    } finally {
      await overwrite(path, original);
    }

    // Assess
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FAIL subject queries\/02-sessions\.sql/);
    expect(ours.checks.filter((c) => c.code !== 'OK').map((c) => c.code)).toEqual(['VERIFY_DIGEST_MISMATCH']);
  });

  it('is rejected by securesystemslib when checked with another key', async () => {
    // Prepare
    const other = join(f.root, 'other.pem');
    await writeFile(other, f.otherKeyPem);

    // Act
    const run = sslib(other);

    // Assess
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FAIL signature/);
  });
});
