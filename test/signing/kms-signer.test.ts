/**
 * KmsSigner against a mocked KMS (aws-sdk-client-mock) that signs with a real local P-256 key the way
 * KMS does: `MessageType: 'DIGEST'` signs the given 32 bytes as the hash (here with
 * `openssl pkeyutl -sign`, which signs its input as a digest), `RAW` hashes the message first. So a
 * pack sealed through it verifies with `verifyPack` and the real `openssl dgst -sha256 -verify` only
 * if the signer hashes exactly once and says DIGEST.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  KMSClient,
  NotFoundException,
  SignCommand,
  type SignCommandInput,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import { isSessiontrailError } from '../../lib/errors.ts';
import { canonicalBytes } from '../../lib/evidence/canonical-json.ts';
import { keyIdOf } from '../../lib/signing/keygen.ts';
import { KmsSigner } from '../../lib/signing/kms-signer.ts';
import { sealPack } from '../../lib/signing/seal-pack.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';
import { minimalPack } from '../fixtures/minimal-pack.ts';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const kms = mockClient(KMSClient);

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('KmsSigner (aws-sdk-client-mock)', () => {
  let dir: string;
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  let privateKeyPath: string;

  /** What KMS Sign does with ECDSA_SHA_256 (KMS API reference, Sign: MessageType). */
  const kmsSign = (
    input: SignCommandInput,
  ): { KeyId: string; Signature: Uint8Array; SigningAlgorithm: 'ECDSA_SHA_256' } => {
    const message = Buffer.from(input.Message ?? new Uint8Array());
    let signature: Buffer;
    if (input.MessageType === 'DIGEST') {
      if (message.byteLength !== 32)
        throw new Error('ValidationException: digest must be 32 bytes for ECDSA_SHA_256');
      signature = execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', privateKeyPath], { input: message });
    } else {
      signature = nodeSign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
    }
    return { KeyId: KEY_ARN, Signature: new Uint8Array(signature), SigningAlgorithm: 'ECDSA_SHA_256' };
  };
  const publicKeyOutput = (
    overrides: Partial<GetPublicKeyCommandOutput> = {},
  ): GetPublicKeyCommandOutput => ({
    $metadata: {},
    KeyId: KEY_ARN,
    PublicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    KeySpec: 'ECC_NIST_P256',
    KeyUsage: 'SIGN_VERIFY',
    SigningAlgorithms: ['ECDSA_SHA_256'],
    ...overrides,
  });
  const signer = () =>
    new KmsSigner({ client: new KMSClient({ region: 'eu-west-1' }), keyId: 'alias/sessiontrail-signing' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sessiontrail-kms-'));
    ({ privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    privateKeyPath = join(dir, 'kms-private.pem');
    await writeFile(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
      mode: 0o600,
    });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    kms.reset();
    kms.on(GetPublicKeyCommand).resolves(publicKeyOutput());
    kms.on(SignCommand).callsFake(kmsSign);
  });

  it('seals a pack that verifyPack and the real openssl dgst -sha256 -verify both accept', async () => {
    // Prepare
    const store = new FsEvidenceStore(join(dir, 'store'));
    const s = signer();

    // Act
    const sealed = await sealPack(
      { store, signer: s, clock: fixedClock('2024-02-01T03:00:00.000Z') },
      {
        series: 'review-monthly',
        packId: 'review-2024-01-kms',
        artifacts: [
          {
            name: 'evidence.json',
            bytes: canonicalBytes(minimalPack({ pack: { ...minimalPack().pack, id: 'review-2024-01-kms' } })),
          },
        ],
        tool: { name: 'sessiontrail', version: '0.1.0' },
      },
    );
    const result = await verifyPack({ store, packDir: sealed.dir, trustedKeys: [await s.publicKeyPem()] });

    // Assess
    expect(result.checks.filter((c) => c.code !== 'OK')).toEqual([]);
    expect(result.ok).toBe(true);
    const packDir = join(dir, 'store', sealed.dir);
    const ssl = execFileSync(
      'openssl',
      [
        'dgst',
        '-sha256',
        '-verify',
        join(dir, 'store', 'keys', `${sealed.keyId}.pem`),
        '-signature',
        'manifest.sig',
        'manifest.json',
      ],
      { cwd: packDir, encoding: 'utf8' },
    );
    expect(ssl.trim()).toBe('Verified OK');
  });

  it('asks KMS to sign the SHA-256 digest of the data with MessageType DIGEST and ECDSA_SHA_256', async () => {
    // Prepare
    const data = new TextEncoder().encode('{"manifest":"bytes"}');

    // Act
    await signer().sign(data);

    // Assess
    const input = kms.commandCalls(SignCommand)[0]?.args[0].input;
    expect(input?.KeyId).toBe('alias/sessiontrail-signing');
    expect(input?.MessageType).toBe('DIGEST');
    expect(input?.SigningAlgorithm).toBe('ECDSA_SHA_256');
    expect(Buffer.from(input?.Message ?? []).toString('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
  });

  it('is checked by a faithful mock: the digest signed as RAW (hashed twice) fails openssl', async () => {
    // Prepare: what a signer that forgot MessageType would get back.
    const data = Buffer.from('manifest bytes');
    const digest = createHash('sha256').update(data).digest();
    const wrong = kmsSign({
      KeyId: 'k',
      Message: digest,
      MessageType: 'RAW',
      SigningAlgorithm: 'ECDSA_SHA_256',
    });
    await writeFile(join(dir, 'm'), data);
    await writeFile(join(dir, 'm.sig'), wrong.Signature);
    await writeFile(join(dir, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }) as string);

    // Act
    const run = spawnSync(
      'openssl',
      ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'm.sig'), join(dir, 'm')],
      { encoding: 'utf8' },
    );

    // Assess
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/Verification [Ff]ailure/);
  });

  it('reports as key id the sha256 of the SPKI DER (what openssl pkey | sha256sum gives), and the ARN apart', async () => {
    // Prepare
    const s = signer();
    const pemPath = join(dir, 'kms-public.pem');
    await writeFile(pemPath, await s.publicKeyPem());

    // Act
    const keyId = await s.keyId();
    const arn = await s.kmsKeyArn();

    // Assess
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', pemPath, '-outform', 'DER']);
    expect(keyId).toBe(createHash('sha256').update(der).digest('hex'));
    expect(keyId).toBe(keyIdOf(publicKey));
    expect(arn).toBe(KEY_ARN);
    expect(await readFile(pemPath, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('reads the public key from KMS once and caches it', async () => {
    const s = signer();
    await Promise.all([s.keyId(), s.publicKeyPem(), s.kmsKeyArn()]);
    await s.keyId();
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
    expect(kms.commandCalls(GetPublicKeyCommand)[0]?.args[0].input).toEqual({
      KeyId: 'alias/sessiontrail-signing',
    });
  });

  it.each([
    ['an RSA key spec', { KeySpec: 'RSA_2048' as const }, /key spec RSA_2048/],
    ['the secp256k1 curve', { KeySpec: 'ECC_SECG_P256K1' as const }, /key spec ECC_SECG_P256K1/],
    ['an encryption key', { KeyUsage: 'ENCRYPT_DECRYPT' as const }, /key usage ENCRYPT_DECRYPT/],
    [
      'no ECDSA_SHA_256',
      { SigningAlgorithms: ['ECDSA_SHA_384' as const] },
      /signing algorithms ECDSA_SHA_384/,
    ],
    ['no public key', { PublicKey: undefined }, /no public key/],
  ])('refuses %s with KEY_INVALID', async (_what, overrides, message) => {
    // Prepare
    kms.on(GetPublicKeyCommand).resolves(publicKeyOutput(overrides));

    // Act
    const err = await errorOf(signer().publicKeyPem());

    // Assess
    expect(isSessiontrailError(err, 'KEY_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('accepts the deprecated CustomerMasterKeySpec when KMS (or an emulator) omits KeySpec', async () => {
    kms
      .on(GetPublicKeyCommand)
      .resolves(publicKeyOutput({ KeySpec: undefined, CustomerMasterKeySpec: 'ECC_NIST_P256' }));
    expect(await signer().keyId()).toBe(keyIdOf(publicKey));
  });

  it('maps a missing KMS key to KEY_NOT_FOUND and asks again on the next call', async () => {
    // Prepare
    kms
      .on(GetPublicKeyCommand)
      .rejectsOnce(new NotFoundException({ message: 'Alias alias/nope is not found.', $metadata: {} }))
      .resolves(publicKeyOutput());
    const s = signer();

    // Act
    const err = await errorOf(s.keyId());
    const keyId = await s.keyId();

    // Assess
    expect(isSessiontrailError(err, 'KEY_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('alias/nope is not found');
    expect(keyId).toBe(keyIdOf(publicKey));
  });

  it('maps KMS being unreachable during Sign to SIGNER_UNAVAILABLE', async () => {
    kms.on(SignCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const err = await errorOf(signer().sign(new Uint8Array([1])));
    expect(isSessiontrailError(err, 'SIGNER_UNAVAILABLE')).toBe(true);
  });
});
