/**
 * The peer case (issue 15, item 4): Hayabusa's `logon-summary` on the same records as the export.
 * Hayabusa's `-J` reads JSON lines, uncompressed, so the bench writes an inflated copy of the
 * generated files next to them once, and times `hayabusa logon-summary -J -d <copy>` with
 * `/usr/bin/time` (wall, CPU, peak RSS of the child).
 *
 * The binary: `HAYABUSA` (a path) when set; else one built by `scripts/build-hayabusa.sh` (cargo,
 * from the repository at a pinned tag) into the bench cache, on the first run that needs it. When
 * the build cannot be made, the case is skipped with the script's reason, never guessed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import type { FleetLogs } from './fleet-logs.ts';

/** Where `scripts/build-hayabusa.sh` leaves the binary (its first argument is this folder). */
export function hayabusaBuildDir(cache: string): string {
  return join(cache, 'hayabusa');
}

/** The binary to compare with, or why there is none. */
function findBinary(cache: string): { path: string } | { skip: string } {
  const given = process.env.HAYABUSA;
  if (given !== undefined && given !== '')
    return existsSync(given) ? { path: given } : { skip: `HAYABUSA=${given} does not exist` };
  const built = join(hayabusaBuildDir(cache), 'bin', 'hayabusa');
  if (existsSync(built)) return { path: built };
  // No binary yet: build it (once; a failed build leaves its reason, read on later runs).
  const note = join(hayabusaBuildDir(cache), 'BUILD-FAILED.txt');
  if (!existsSync(note)) {
    const script = fileURLToPath(new URL('../scripts/build-hayabusa.sh', import.meta.url));
    spawnSync('bash', [script, hayabusaBuildDir(cache)], { stdio: 'inherit' });
    if (existsSync(built)) return { path: built };
  }
  return existsSync(note)
    ? { skip: `not built: ${readFileSync(note, 'utf8').trim()} (${note}; delete it to retry)` }
    : { skip: 'not built: scripts/build-hayabusa.sh left no binary' };
}

/** One uncompressed copy of the records (Hayabusa reads no gzip), made once. */
async function flatCopy(logs: FleetLogs): Promise<string> {
  const dir = join(logs.root, 'flat-jsonl');
  const done = join(dir, '.complete');
  if (existsSync(done)) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [i, f] of logs.files.entries()) {
    const out = join(dir, `${i}-${basename(dirname(f))}-${basename(f, '.gz')}`.replace(/=/g, '_'));
    await pipeline(createReadStream(f), createGunzip(), createWriteStream(`${out}.part`));
    await rename(`${out}.part`, out);
  }
  await (await import('node:fs/promises')).writeFile(done, '');
  return dir;
}

/** Runs the peer on the same records; a one-line result or the reason it was skipped. */
export async function hayabusaCase(logs: FleetLogs, cache: string): Promise<string> {
  const bin = findBinary(cache);
  if ('skip' in bin) return `skipped (${bin.skip})`;
  if (spawnSync('/usr/bin/time', ['--version']).error !== undefined)
    return 'skipped (/usr/bin/time is missing)';
  const dir = await flatCopy(logs);
  const outPrefix = join(logs.root, 'hayabusa-logon-summary');
  const stats = join(logs.root, 'hayabusa-time.txt');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      '/usr/bin/time',
      [
        '-f',
        '%e %U %S %M',
        '-o',
        stats,
        bin.path,
        'logon-summary',
        '-J',
        '-d',
        dir,
        '-o',
        outPrefix,
        '-q',
        '-C',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.on('error', reject);
    child.on('close', resolve);
  });
  const [wall, user, sys, maxKb] =
    (await readFile(stats, 'utf8')).trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  return `${code === 0 ? '' : `exit ${code}, `}${wall} s wall, ${((user ?? 0) + (sys ?? 0)).toFixed(2)} s CPU, peak RSS ${((maxKb ?? 0) / 1024).toFixed(0)} MiB (${bin.path})`;
}
