/**
 * `export --tsa-url` and `verify --tsa-ca` as a user runs them: a real process, real DuckDB, and a
 * local TSA made with `openssl ts -reply` on 127.0.0.1 (test/helpers/local-tsa.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTsa, startLocalTsa } from '../helpers/local-tsa.ts';

const BIN = new URL('../../bin/sessiontrail.js', import.meta.url).pathname;

/** Runs the CLI without blocking this process: the TSA it calls answers from this process. */
function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, timeout: 180_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sessiontrail export --tsa-url, verify --tsa-ca', () => {
  let tsa: LocalTsa;
  let cwd: string;
  beforeAll(async () => {
    tsa = await startLocalTsa();
    cwd = mkdtempSync(join(tmpdir(), 'st-cli-tsa-'));
  });
  afterAll(async () => {
    await tsa?.close();
  });

  it('timestamps the manifest through the TSA, and verify reports the trusted time (exit 0)', async () => {
    // Prepare
    const sample = await run(
      ['sample', '--out', 'logs', '--source', 'windows', '--hosts', '3', '--days', '1'],
      cwd,
    );
    expect(sample.code, sample.stderr).toBe(0);
    await run(['keygen', '--key', 'key.pem'], cwd);

    // Act
    const exported = await run(
      [
        'export',
        '--kind',
        'review',
        '--from',
        '2024-03-04',
        '--to',
        '2024-03-05',
        '--logs',
        'logs',
        '--key',
        'key.pem',
        '--tsa-url',
        tsa.url,
        '--json',
      ],
      cwd,
    );

    // Assess
    expect(exported.code, exported.stderr).toBe(0);
    const { dir } = JSON.parse(exported.stdout) as { dir: string };
    expect(existsSync(join(dir, 'manifest.tsr'))).toBe(true);
    expect(tsa.answered()).toBe(1);
    // The public half of the signing key, as the operator holds it (not the copy beside the packs).
    execFileSync('openssl', ['pkey', '-in', 'key.pem', '-pubout', '-out', 'trusted-key.pem'], { cwd });
    const verified = await run(['verify', dir, '--key', 'trusted-key.pem', '--tsa-ca', tsa.caFile], cwd);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/trusted time: \d{4}-\d{2}-\d{2}T.*CN=Test TSA\)/);
  }, 180_000);
});
