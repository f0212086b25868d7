/**
 * `sessiontrail rederive`, as an auditor runs it (a real process, real DuckDB, real files): the
 * demo pack re-derived from its own logs comes out byte-identical; one byte changed in one input,
 * a missing input, or a pack whose evidence.json was edited each fail with their own code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack } from '../../lib/evidence/model.ts';

const BIN = new URL('../../bin/sessiontrail.js', import.meta.url).pathname;
const DEMO_CONFIG = new URL('../../config/demo.config.json', import.meta.url).pathname;

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sessiontrail rederive', () => {
  let cwd: string;
  let packDir: string;
  let logs: string;
  let pack: EvidencePack;
  const rederive = () =>
    run(['rederive', packDir, '--logs', logs, '--config', DEMO_CONFIG, '--json', '--threads', '2'], cwd);

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'st-rederive-'));
    const demo = run(['demo', '--json'], cwd);
    if (demo.code !== 0) throw new Error(demo.stderr);
    packDir = (JSON.parse(demo.stdout) as { dir: string }).dir;
    // Where the demo wrote its sample logs (cli/commands.ts runDemo), relative to its folder.
    logs = join(cwd, '.sessiontrail', 'demo-logs');
    pack = JSON.parse(await readFile(join(packDir, 'evidence.json'), 'utf8')) as EvidencePack;
  }, 180_000);

  it('reproduces the demo pack byte for byte from the inputs it lists, with every statement identical', () => {
    // Act
    const r = rederive();

    // Assess
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const listedWithDigest = (pack.inputs ?? []).filter((i) => i.sha256 !== null).length;
    expect(listedWithDigest).toBeGreaterThan(0);
    expect(out).toMatchObject({
      identical: true,
      first_difference: null,
      inputs_checked: listedWithDigest,
      queries_identical: pack.queries.length,
      queries_differing: [],
    });
    expect(out.pack_sha256).toBe(out.rederived_sha256);
  }, 180_000);

  it('fails with REDERIVE_INPUT_CHANGED when one byte of one input changes', async () => {
    // Prepare: flip one bit of the last byte of the first input read.
    const input = (pack.inputs ?? []).find((i) => i.status === 'read');
    if (input === undefined) throw new Error('no input read');
    const path = join(logs, input.key);
    const original = await readFile(path);
    const changed = Buffer.from(original);
    changed[changed.length - 1] = (changed[changed.length - 1] as number) ^ 0x01;
    await writeFile(path, changed);

    // Act
    let r: ReturnType<typeof run>;
    try {
      r = rederive();
    } finally {
      await writeFile(path, original);
    }

    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[REDERIVE_INPUT_CHANGED]');
    expect(r.stderr).toContain(input.key);
    expect(r.stderr).toContain(input.sha256 as string);
  }, 180_000);

  it('fails with REDERIVE_INPUT_MISSING when a listed input is gone', async () => {
    const input = (pack.inputs ?? []).find((i) => i.status === 'read');
    if (input === undefined) throw new Error('no input read');
    const path = join(logs, input.key);
    await rename(path, `${path}.away`);
    let r: ReturnType<typeof run>;
    try {
      r = rederive();
    } finally {
      await rename(`${path}.away`, path);
    }
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[REDERIVE_INPUT_MISSING]');
    expect(r.stderr).toContain(input.key);
  }, 180_000);

  it('shows the first difference (exit 1, REDERIVE_DIFFERS) when the pack says something its inputs do not', async () => {
    // Prepare: the pack claims one more privileged session than its inputs give.
    const file = join(packDir, 'evidence.json');
    const original = await readFile(file, 'utf8');
    const claimed = pack.summary.privileged_sessions + 1;
    const edited = original.replace(
      `"privileged_sessions":${pack.summary.privileged_sessions},"rejected_records"`,
      `"privileged_sessions":${claimed},"rejected_records"`,
    );
    expect(edited).not.toBe(original);
    await writeFile(file, edited);

    // Act
    let r: ReturnType<typeof run>;
    try {
      r = rederive();
    } finally {
      await writeFile(file, original);
    }

    // Assess
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      identical: false,
      code: 'REDERIVE_DIFFERS',
      first_difference: {
        path: '$.summary.privileged_sessions',
        pack: String(claimed),
        rederived: String(pack.summary.privileged_sessions),
      },
    });
  }, 180_000);
});
