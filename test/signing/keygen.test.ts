import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { fingerprint, generateKeyPair, keyIdOf } from '../../lib/signing/keygen.ts';

/** sha256 of the SPKI DER of a key, computed by the real openssl and sha256sum binaries. */
function opensslKeyId(privateKeyPath: string): string {
  const der = execFileSync('openssl', ['pkey', '-in', privateKeyPath, '-pubout', '-outform', 'DER']);
  return execFileSync('sha256sum', { input: der }).toString().split(' ')[0]!;
}

describe('generateKeyPair', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sessiontrail-keygen-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a PKCS#8 PEM P-256 private key with mode 0600, readable by openssl', async () => {
    // Prepare
    const path = join(dir, 'nested', 'signing-key.pem');

    // Act
    const { keyId, publicKeyPem } = await generateKeyPair(path);

    // Assess
    const pem = await readFile(path, 'utf8');
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = execFileSync('openssl', ['pkey', '-in', path, '-noout', '-text']).toString();
    expect(text).toMatch(/prime256v1|P-256/);
    expect(publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----\n')).toBe(true);
    expect(keyId).toBe(opensslKeyId(path));
  });

  it('refuses to overwrite an existing file (KEY_EXISTS) and leaves it untouched', async () => {
    // Prepare
    const path = join(dir, 'key.pem');
    await writeFile(path, 'precious');

    // Act
    let error: unknown;
    try {
      await generateKeyPair(path);
    } catch (err) {
      error = err;
    }

    // Assess
    expect(isSessiontrailError(error, 'KEY_EXISTS')).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('precious');
  });

  it('makes a different key each time', async () => {
    // Act
    const a = await generateKeyPair(join(dir, 'a.pem'));
    const b = await generateKeyPair(join(dir, 'b.pem'));

    // Assess
    expect(a.keyId).not.toBe(b.keyId);
  });
});

describe('fingerprint', () => {
  it('shows SHA256: and all 64 hex digits of the key id (256 bits) in groups of four, as openssl prints them', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'sessiontrail-fp-'));
    const { keyId, publicKeyPem } = await generateKeyPair(join(dir, 'key.pem'));
    await rm(dir, { recursive: true, force: true });

    // Act
    const shown = fingerprint(publicKeyPem);

    // Assess
    expect(shown).toMatch(/^SHA256:[0-9a-f]{4}(:[0-9a-f]{4}){15}$/);
    expect(shown.slice('SHA256:'.length).replaceAll(':', '')).toBe(keyId);
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: publicKeyPem });
    expect(execFileSync('sha256sum', { input: der }).toString().split(' ')[0]).toBe(keyId);
    expect(keyIdOf(publicKeyPem)).toBe(keyId);
  });

  it('refuses text that is not a key (KEY_INVALID)', () => {
    // Act
    let error: unknown;
    try {
      fingerprint('not a key');
    } catch (err) {
      error = err;
    }

    // Assess
    expect(isSessiontrailError(error, 'KEY_INVALID')).toBe(true);
  });
});
