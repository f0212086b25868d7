/**
 * The command line as a user runs it: a real process (`bin/sessiontrail.js`), real DuckDB, real
 * files, and the pack checked with the real openssl and sha256sum.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/sessiontrail.js', import.meta.url).pathname;

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sessiontrail demo', () => {
  let cwd: string;
  let packDir: string;
  let demo: ReturnType<typeof run>;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'st-cli-'));
    demo = run(['demo', '--json'], cwd);
    const out = JSON.parse(demo.stdout) as { dir: string; verified: boolean };
    packDir = out.dir;
  }, 120_000);

  it('runs sample → DuckDB → signed JSON + PDF → verified, and says where the pack is', () => {
    expect(demo.code, demo.stderr).toBe(0);
    const out = JSON.parse(demo.stdout);
    expect(out).toMatchObject({ status: 'written', verified: true });
    expect(out.summary.privileged_sessions).toBeGreaterThan(10);
    expect(readdirSync(packDir).sort()).toEqual([
      'README.txt',
      'evidence.json',
      'evidence.pdf',
      'manifest.dsse.json',
      'manifest.json',
      'manifest.sig',
      'queries',
    ]);
  });

  it('makes a pack that openssl and sha256sum alone verify', () => {
    const manifest = JSON.parse(readFileSync(join(packDir, 'manifest.json'), 'utf8'));
    const keyId = manifest.predicate.signer.key_id as string;
    const ssl = execFileSync(
      'openssl',
      [
        'dgst',
        '-sha256',
        '-verify',
        // The key as the operator holds it (the demo wrote it beside its private key), not keys/.
        join(cwd, '.sessiontrail', `${keyId}.pub.pem`),
        '-signature',
        'manifest.sig',
        'manifest.json',
      ],
      { cwd: packDir, encoding: 'utf8' },
    );
    expect(ssl.trim()).toBe('Verified OK');
    const sums = manifest.subject
      .map((s: { name: string; digest: { sha256: string } }) => `${s.digest.sha256}  ${s.name}`)
      .join('\n');
    const checked = execFileSync('sha256sum', ['-c', '-'], {
      cwd: packDir,
      input: `${sums}\n`,
      encoding: 'utf8',
    });
    expect(
      checked
        .trim()
        .split('\n')
        .every((l) => l.endsWith(': OK')),
    ).toBe(true);
  });

  it('verify says what it proved: without a trusted key "origin: not checked" and exit 1; --allow-untrusted-key exit 0 still saying so; --key exit 0, origin verified', () => {
    const keyId = JSON.parse(readFileSync(join(packDir, 'manifest.json'), 'utf8')).predicate.signer.key_id;
    const key = join(cwd, '.sessiontrail', `${keyId}.pub.pem`);
    const bare = run(['verify', packDir], cwd);
    const bareJson = run(['verify', packDir, '--json'], cwd);
    const allowed = run(['verify', packDir, '--allow-untrusted-key', '--json'], cwd);
    const trusted = run(['verify', packDir, '--key', key, '--json'], cwd);
    const trustFile = run(['verify', packDir, '--trust-file', key], cwd);

    expect(bare.code).toBe(1);
    expect(bare.stdout).toMatch(/FAIL VERIFY_ORIGIN_NOT_CHECKED/);
    expect(bare.stdout).toMatch(/^origin: NOT CHECKED/m);
    expect(bareJson.code).toBe(1);
    expect(JSON.parse(bareJson.stdout)).toMatchObject({ ok: false, origin: 'not checked' });
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ ok: true, origin: 'not checked' });
    expect(trusted.code, trusted.stdout).toBe(0);
    expect(JSON.parse(trusted.stdout)).toMatchObject({ ok: true, origin: 'verified', keyId });
    expect(trustFile.code).toBe(0);
    expect(trustFile.stdout).toMatch(/^origin: verified with trusted key/m);
  });

  it("runs the PDF's verification commands as printed, from the pack folder, with the key saved as trusted-key.pem", () => {
    const keyId = JSON.parse(readFileSync(join(packDir, 'manifest.json'), 'utf8')).predicate.signer.key_id;
    const work = mkdtempSync(join(tmpdir(), 'st-pdf-cmds-'));
    execFileSync('cp', ['-r', `${packDir}/.`, work]);
    writeFileSync(
      join(work, 'trusted-key.pem'),
      readFileSync(join(cwd, '.sessiontrail', `${keyId}.pub.pem`)),
    );
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', join(packDir, 'evidence.pdf'), '-'], {
      encoding: 'utf8',
    }).replace(/\s+/g, ' ');
    const signature =
      /openssl dgst -sha256 -verify trusted-key\.pem -signature manifest\.sig manifest\.json/.exec(text)?.[0];
    const evidence = /echo "[0-9a-f]{64} \*evidence\.json" \| sha256sum -c/.exec(text)?.[0];
    const keyCheck = /openssl pkey -pubin -in trusted-key\.pem -outform DER \| sha256sum/.exec(text)?.[0];

    const sh = (c: string | undefined) =>
      execFileSync('sh', ['-c', c ?? 'false'], { cwd: work, encoding: 'utf8' }).trim();
    expect(sh(signature)).toBe('Verified OK');
    expect(sh(evidence)).toBe('evidence.json: OK');
    expect(sh(keyCheck)).toBe(`${keyId}  -`);
    expect(text).toContain(`must be ${keyId}`);
  });

  it('verify --series walks the series and prints its head', () => {
    const keyId = JSON.parse(readFileSync(join(packDir, 'manifest.json'), 'utf8')).predicate.signer.key_id;
    const key = join(cwd, '.sessiontrail', `${keyId}.pub.pem`);
    const r = run(
      ['verify', '--series', join(packDir, '..'), '--key', key, '--expect-head', '1', '--json'],
      cwd,
    );
    const behind = run(['verify', '--series', join(packDir, '..'), '--key', key, '--expect-head', '2'], cwd);

    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, head: 1, packs: [{ sequence: 1, ok: true }] });
    expect(behind.code).toBe(1);
    expect(behind.stdout).toMatch(/SERIES_HEAD_MISSING/);
  });

  it('finds the same pack again on a second run: same request, same evidence.json bytes', () => {
    const again = run(['demo', '--json'], cwd);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      status: 'already_sealed',
      dir: packDir,
      verified: true,
    });
  });

  it('verify fails with VERIFY_DIGEST_MISMATCH when a byte of evidence.pdf changes, and openssl still trusts the manifest', () => {
    const copy = mkdtempSync(join(tmpdir(), 'st-tamper-'));
    execFileSync('cp', ['-r', join(packDir, '..', '..'), copy]);
    const store = join(copy, readdirSync(copy)[0] as string);
    const series = readdirSync(store).find((n) => n !== 'keys') as string;
    const pack = join(
      store,
      series,
      readdirSync(join(store, series)).find((n) => !n.startsWith('_')) as string,
    );
    const pdf = join(pack, 'evidence.pdf');
    chmodSync(pdf, 0o644);
    const bytes = readFileSync(pdf);
    const at = bytes.length >> 1;
    bytes[at] = (bytes[at] as number) ^ 0x01;
    writeFileSync(pdf, bytes);
    const r = run(['verify', pack], cwd);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL VERIFY_DIGEST_MISMATCH\s+evidence\.pdf/);
  });
});

describe('sessiontrail bad input', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'st-cli-bad-'));
  it.each([
    [
      ['export', '--kind', 'weekly', '--from', '2024-01-01', '--to', '2024-01-02', '--logs', '.'],
      /Allowed choices are review, audit, incident/,
    ],
    [
      [
        'export',
        '--kind',
        'review',
        '--from',
        '2024-01-02',
        '--to',
        '2024-01-01',
        '--logs',
        '.',
        '--key',
        BIN,
      ],
      /--to: must be after from/,
    ],
    [
      [
        'export',
        '--kind',
        'review',
        '--from',
        '2024-01-01',
        '--to',
        '2024-01-02',
        '--logs',
        '/no/such/logs',
        '--key',
        '/no/key.pem',
      ],
      /KEY_NOT_FOUND|LOGS_NOT_FOUND/,
    ],
    [
      ['export', '--kind', 'review', '--from', 'last tuesday', '--to', '2024-01-02', '--logs', '.'],
      /ISO 8601/,
    ],
    [['verify', '/no/such/pack'], /no pack folder/],
    [['sample', '--out', 'x', '--hosts', 'many'], /--hosts must be a whole number/],
    [
      [
        'export',
        '--kind',
        'review',
        '--from',
        '2024-01-01',
        '--to',
        '2024-01-02',
        '--logs',
        '.',
        '--memory-limit',
        '2',
      ],
      /--memory-limit.*"2" is not a size of at least 64MB.*e\.g\. 512MB/,
    ],
    [['rederive', '/no/such/pack', '--logs', '.', '--memory-limit', 'lots'], /"lots" is not a size/],
  ])('refuses %j with a message that says what to fix and exit code 2', (args, message) => {
    const r = run(args as string[], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace for bad input
  });
});
