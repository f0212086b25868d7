/**
 * RFC 3161 trusted time: a pack sealed with a TSA carries `manifest.tsr`, which the real
 * `openssl ts -verify` accepts (as README.txt prints it) and `verify` checks; a token over other
 * bytes, a damaged token, a TSA from an untrusted CA, and a missing token when one is required each
 * fail with their own code; an unreachable TSA leaves the pack unsealed. The TSA is made here with
 * `openssl ts -reply` behind an HTTP server on 127.0.0.1 (test/helpers/local-tsa.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import { isSessiontrailError } from '../../lib/errors.ts';
import { sealPack } from '../../lib/signing/seal-pack.ts';
import { httpTimestamper } from '../../lib/signing/timestamp.ts';
import { verifyPack } from '../../lib/signing/verify-pack.ts';
import { type LocalTsa, startLocalTsa } from '../helpers/local-tsa.ts';
import { artifactsOf, evidenceFor, type Fixture, overwrite, prepare, seal, TOOL } from './pack-fixture.ts';

describe('RFC 3161 timestamp of the manifest (local TSA made with openssl ts)', () => {
  let f: Fixture;
  let tsa: LocalTsa;
  let otherTsa: LocalTsa;
  let caPem: string;
  const sealedWithTsa = async (packId: string, url = tsa.url) => {
    const series = `series-${packId}`;
    await sealPack(
      {
        store: f.store,
        signer: f.signer,
        clock: fixedClock('2024-02-01T03:00:00.000Z'),
        timestamper: httpTimestamper(url),
      },
      {
        series,
        packId,
        artifacts: await artifactsOf(evidenceFor(packId, series)),
        tool: TOOL,
        facts: { operator: 'test', request: null },
      },
    );
    return { dir: `${series}/${packId}`, path: join(f.root, 'store', series, packId) };
  };
  const verifyWith = (dir: string, cas = caPem) =>
    verifyPack({ store: f.store, packDir: dir, trustedKeys: [f.publicKeyPem], trustedTsaCas: cas });
  const codes = (r: Awaited<ReturnType<typeof verifyPack>>) =>
    r.checks.filter((c) => c.code !== 'OK').map((c) => c.code);

  beforeAll(async () => {
    f = await prepare();
    tsa = await startLocalTsa();
    otherTsa = await startLocalTsa();
    caPem = await readFile(tsa.caFile, 'utf8');
  }, 60_000);
  afterAll(async () => {
    await tsa?.close();
    await otherTsa?.close();
    if (f !== undefined) await rm(f.root, { recursive: true, force: true });
  });

  it('stores manifest.tsr, which openssl ts -verify accepts with the TSA CA, as README.txt prints it', async () => {
    // Act
    const before = Date.now();
    const { dir, path } = await sealedWithTsa('review-2024-01-tsa');

    // Assess: openssl alone, run from the pack folder exactly as README.txt prints it.
    const readme = await readFile(join(path, 'README.txt'), 'utf8');
    const commands = readme
      .split('\n')
      .filter((l) => l.startsWith('  $ openssl ts'))
      .map((l) => l.slice(4));
    expect(commands).toEqual([
      'openssl ts -verify -in manifest.tsr -data manifest.json -CAfile tsa-ca.pem',
      'openssl ts -reply -in manifest.tsr -text | grep "Time stamp"',
    ]);
    await copyFile(tsa.caFile, join(path, 'tsa-ca.pem'));
    try {
      const verified = spawnSync('sh', ['-c', commands[0] as string], { cwd: path, encoding: 'utf8' });
      expect(verified.stdout + verified.stderr).toContain('Verification: OK');
      expect(verified.status).toBe(0);
      expect(execFileSync('sh', ['-c', commands[1] as string], { cwd: path }).toString()).toMatch(
        /Time stamp: /,
      );
    } finally {
      await rm(join(path, 'tsa-ca.pem'));
    }

    // Assess: verify checks it too, and states the TSA's time.
    const result = await verifyWith(dir);
    expect(codes(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.timestamp).toMatchObject({ tsa: 'CN=Test TSA', tsaTrusted: true });
    // The TSA's clock, to the second (accuracy secs:1 in the TSA configuration).
    const time = Date.parse(result.timestamp?.time ?? '');
    expect(time).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(time).toBeLessThanOrEqual(Date.now() + 1000);
  }, 60_000);

  it('rejects a token over another manifest (VERIFY_TIMESTAMP_MISMATCH)', async () => {
    const a = await sealedWithTsa('review-2024-01-a');
    const b = await sealedWithTsa('review-2024-01-b');
    await overwrite(join(a.path, 'manifest.tsr'), await readFile(join(b.path, 'manifest.tsr')));
    expect(codes(await verifyWith(a.dir))).toEqual(['VERIFY_TIMESTAMP_MISMATCH']);
  }, 60_000);

  it('rejects a token whose signature was damaged (VERIFY_TIMESTAMP_INVALID), as openssl does', async () => {
    const { dir, path } = await sealedWithTsa('review-2024-01-damaged');
    const token = Buffer.from(await readFile(join(path, 'manifest.tsr')));
    // The signature is the token's last element: flip a bit in its last byte.
    token[token.length - 1] = (token[token.length - 1] as number) ^ 0x01;
    await overwrite(join(path, 'manifest.tsr'), token);
    expect(codes(await verifyWith(dir))).toEqual(['VERIFY_TIMESTAMP_INVALID']);
    const ssl = spawnSync(
      'openssl',
      ['ts', '-verify', '-in', 'manifest.tsr', '-data', 'manifest.json', '-CAfile', tsa.caFile],
      { cwd: path, encoding: 'utf8' },
    );
    expect(ssl.status).not.toBe(0);
  }, 60_000);

  it('rejects a TSA that the trusted CA did not issue (VERIFY_TIMESTAMP_UNTRUSTED), and says so when no CA is given', async () => {
    const { dir } = await sealedWithTsa('review-2024-01-other-tsa', otherTsa.url);
    expect(codes(await verifyWith(dir))).toEqual(['VERIFY_TIMESTAMP_UNTRUSTED']);
    const unchecked = await verifyPack({ store: f.store, packDir: dir, trustedKeys: [f.publicKeyPem] });
    expect(unchecked.ok).toBe(true);
    expect(unchecked.timestamp?.tsaTrusted).toBe(false);
    expect(unchecked.checks.find((c) => c.file === 'manifest.tsr')?.message).toContain(
      'TSA certificate not checked',
    );
  }, 60_000);

  it('requires a token when TSA CAs are given and the pack has none (VERIFY_TIMESTAMP_UNTRUSTED)', async () => {
    await seal(f, 'review-2024-01-no-tsa');
    expect(codes(await verifyWith('series-review-2024-01-no-tsa/review-2024-01-no-tsa'))).toEqual([
      'VERIFY_TIMESTAMP_UNTRUSTED',
    ]);
  }, 60_000);

  it('leaves the pack unsealed (no manifest.sig) when the TSA cannot be reached (TIMESTAMP_FAILED)', async () => {
    let error: unknown;
    try {
      // Port 9 (discard) on 127.0.0.1: nothing listens there in the test machine.
      await sealedWithTsa('review-2024-01-no-tsa-reachable', 'http://127.0.0.1:9/tsa');
    } catch (err) {
      error = err;
    }
    expect(isSessiontrailError(error, 'TIMESTAMP_FAILED')).toBe(true);
    const files = await f.store.list(
      'series-review-2024-01-no-tsa-reachable/review-2024-01-no-tsa-reachable',
    );
    expect(files).toContain('manifest.json');
    expect(files).not.toContain('manifest.sig');
  }, 60_000);
});
