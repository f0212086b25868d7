/**
 * The Linux sample generator: deterministic output, options checked, and a ground truth that holds
 * the scenarios the reconstruction tests rely on.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessiontrailError } from '../../lib/errors.ts';
import type { LinuxGroundTruth } from '../../sample/linux-ground-truth.ts';
import { generateLinuxSample } from '../../sample/linux-sample.ts';

const opts = { seed: 5, hosts: 3, days: 2, from: '2024-12-31' } as const;

async function generate() {
  const outDir = await mkdtemp(join(tmpdir(), 'st-lsample-'));
  const result = await generateLinuxSample({ ...opts, outDir });
  const bytes = await Promise.all(
    result.files.map(async (f) => [relative(outDir, f), await readFile(f)] as const),
  );
  const truth = JSON.parse(await readFile(result.groundTruthPath, 'utf8')) as LinuxGroundTruth;
  return { result, bytes, truth, gt: await readFile(result.groundTruthPath, 'utf8') };
}

describe('generateLinuxSample', () => {
  it('writes byte-identical files and ground truth for the same options', async () => {
    const a = await generate();
    const b = await generate();
    expect(a.bytes.map(([n]) => n)).toEqual(b.bytes.map(([n]) => n));
    for (const [i, [name, data]] of a.bytes.entries())
      expect(data.equals(b.bytes[i]?.[1] as Buffer), name).toBe(true);
    expect(a.gt).toEqual(b.gt);
  });

  it('lays files out by source and day, across the year end, some gzipped', async () => {
    const { bytes } = await generate();
    const names = bytes.map(([n]) => n);
    expect(names).toContain('linux_auditd/dt=2024-12-31/lnx01.log');
    expect(names).toContain('linux_auth/dt=2025-01-01/lnx02.log.gz');
  });

  it('holds the scenarios: cron, sudo, a reboot that reuses ses, a root login, su without a login session', async () => {
    const { truth } = await generate();
    const kinds = new Set(truth.sessions.map((s) => s.kind));
    expect([...kinds].sort()).toEqual(['cron', 'root_ssh', 'ssh']);
    expect(truth.sessions.some((s) => s.sudo_commands > 0 && s.privileged)).toBe(true);
    expect(truth.sessions.some((s) => s.kind === 'ssh' && !s.privileged)).toBe(true);
    const rebooted = truth.sessions.filter((s) => s.host === 'LNX02');
    const reused = rebooted.filter((s) => rebooted.some((o) => o !== s && o.ses === s.ses));
    expect(reused.length).toBeGreaterThan(0);
    expect(truth.sessions.some((s) => s.end_reason === 'shutdown')).toBe(true);
    // su without a login session: its PAM records (auth to close) and its shell's two commands
    const su = truth.orphans.auditd.filter((o) => o.host === 'LNX01' && o.session.startsWith('unset:su['));
    expect(su.length).toBe(opts.days); // one su a day on the first host
    for (const o of su)
      expect(o.records.map((r) => r.slice(r.indexOf('/') + 1)).sort()).toEqual(
        [
          'CRED_ACQ',
          'CRED_DISP',
          'SYSCALL',
          'SYSCALL',
          'USER_ACCT',
          'USER_AUTH',
          'USER_END',
          'USER_START',
        ].sort(),
      );
    // sshd's records before pam_loginuid sets ses are kept under the sshd process
    expect(truth.orphans.auditd.some((o) => o.session.startsWith('unset:sshd['))).toBe(true);
    expect(truth.auditd_counts.duplicates).toBe(2);
  });

  it('refuses options out of range', async () => {
    await expect(generateLinuxSample({ ...opts, hosts: 2, outDir: '/tmp/x' })).rejects.toThrow(
      SessiontrailError,
    );
    await expect(generateLinuxSample({ ...opts, from: '2024-02-30', outDir: '/tmp/x' })).rejects.toThrow(
      /from/,
    );
  });
});
