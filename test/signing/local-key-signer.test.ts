import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { generateKeyPair } from '../../lib/signing/keygen.ts';
import { LocalKeySigner } from '../../lib/signing/local-key-signer.ts';
import type { Signer } from '../../lib/signing/signer.ts';

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('LocalKeySigner', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sessiontrail-signer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('signs so that openssl dgst -sha256 -verify accepts the DER signature', async () => {
    // Prepare
    const keyPath = join(dir, 'key.pem');
    const generated = await generateKeyPair(keyPath);
    const signer: Signer = await LocalKeySigner.fromFile(keyPath);
    const data = new TextEncoder().encode('{"hello":"wörld"}');
    await writeFile(join(dir, 'data'), data);
    await writeFile(join(dir, 'pub.pem'), await signer.publicKeyPem());

    // Act
    const signature = await signer.sign(data);
    await writeFile(join(dir, 'data.sig'), signature);

    // Assess
    expect(await signer.keyId()).toBe(generated.keyId);
    expect(await signer.publicKeyPem()).toBe(generated.publicKeyPem);
    const out = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      join(dir, 'pub.pem'),
      '-signature',
      join(dir, 'data.sig'),
      join(dir, 'data'),
    ]).toString();
    expect(out.trim()).toBe('Verified OK');
  });

  it.each([
    ['PKCS#8 from openssl genpkey', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']],
    ['SEC1 from openssl ecparam', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout']],
  ])('loads a P-256 key in %s, with the key id openssl and sha256sum compute', async (_form, args) => {
    // Prepare
    const keyPath = join(dir, 'key.pem');
    execFileSync('openssl', [...args, '-out', keyPath], { stdio: 'pipe' });
    const der = execFileSync('openssl', ['pkey', '-in', keyPath, '-pubout', '-outform', 'DER']);
    const expectedId = execFileSync('sha256sum', { input: der }).toString().split(' ')[0];

    // Act
    const signer = await LocalKeySigner.fromFile(keyPath);

    // Assess
    expect(await signer.keyId()).toBe(expectedId);
  });

  it('reports a missing key file as KEY_NOT_FOUND and says to run keygen', async () => {
    // Act
    const error = await errorOf(LocalKeySigner.fromFile(join(dir, 'absent.pem')));

    // Assess
    expect(isSessiontrailError(error, 'KEY_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('sessiontrail keygen');
  });

  it.each([
    ['an RSA key', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']],
    ['a P-384 key', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']],
    ['an Ed25519 key', ['genpkey', '-algorithm', 'ED25519']],
  ])('refuses %s with KEY_INVALID and says to run keygen', async (_what, args) => {
    // Prepare
    const keyPath = join(dir, 'key.pem');
    execFileSync('openssl', [...args, '-out', keyPath], { stdio: 'pipe' });

    // Act
    const error = await errorOf(LocalKeySigner.fromFile(keyPath));

    // Assess
    expect(isSessiontrailError(error, 'KEY_INVALID')).toBe(true);
    expect((error as Error).message).toContain('sessiontrail keygen');
  });

  it.each([
    ['a public key', async (path: string) => (await generateKeyPair(path)).publicKeyPem],
    ['text that is not PEM', async () => 'hello'],
  ])('refuses %s with KEY_INVALID', async (_what, content) => {
    // Prepare
    const keyPath = join(dir, 'key.pem');
    const text = await content(join(dir, 'private.pem'));
    await writeFile(keyPath, text);

    // Act
    const error = await errorOf(LocalKeySigner.fromFile(keyPath));

    // Assess
    expect(isSessiontrailError(error, 'KEY_INVALID')).toBe(true);
  });
});
