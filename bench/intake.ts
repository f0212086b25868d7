/**
 * The local intake alone (lib/locate/local-logs.ts `findLocalLogs`), on the files of a fleet input
 * that `npm run bench` generated: wall time, CPU (user + system of the whole process, worker
 * threads and zlib's thread pool included), peak RSS, and a digest of what the intake decided (the
 * input list and the problems, scratch paths left out), so that a change to the intake's speed is
 * shown not to change its decisions.
 *
 *   npx tsx bench/intake.ts [--root DIR] [--rounds N] [--source windows] [--pool-min-mib N]
 *
 * `--root` defaults to the 0.25 M-record fleet in `~/.cache/sessiontrail/bench-fleet`. Each round
 * runs in a child process of its own (peak RSS is the process's). Never a timed test.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { homedir, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLocalLogs, INTAKE_POOL_MIN_BYTES } from '../lib/locate/local-logs.ts';
import { DEFAULT_LIMITS } from '../lib/locate/log-intake.ts';

interface Round {
  wallMs: number;
  cpuMs: number;
  peakRss: number;
  files: number;
  digest: string;
  load: number;
  /** Share of the wall time the main thread was busy (event-loop utilisation): near 1, the main thread is the limit. */
  mainBusy: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function child(root: string, source: string, poolMinBytes: number): Promise<Round> {
  const load = loadavg()[0] as number;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const started = performance.now();
  const found = await findLocalLogs(root, source, 0, Date.parse('2100-01-01'), DEFAULT_LIMITS, poolMinBytes);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const mainBusy = performance.eventLoopUtilization(elu0).utilization;
  await found.cleanup();
  const decided = {
    inputs: found.inputs,
    problems: found.problems,
    files: found.files.map((f) => [f.key, basename(f.path)]),
  };
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRss: process.resourceUsage().maxRSS * 1024,
    files: found.inputs.length,
    digest: createHash('sha256').update(JSON.stringify(decided)).digest('hex').slice(0, 16),
    load,
    mainBusy,
  };
}

function runChild(root: string, source: string, poolMib: string): Promise<Round> {
  return new Promise((done, fail) => {
    const p = spawn(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--child',
        '--root',
        root,
        '--source',
        source,
        '--pool-min-mib',
        poolMib,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', fail);
    p.on('close', (code) =>
      code === 0 ? done(JSON.parse(out) as Round) : fail(new Error(`intake child exited ${code}`)),
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const root = arg('root', join(homedir(), '.cache/sessiontrail/bench-fleet/windows-250000'));
const source = arg('source', 'windows');
/** Worker threads from this many MiB of text files (default: the intake's own threshold). */
const poolMib = arg('pool-min-mib', String(INTAKE_POOL_MIN_BYTES / 2 ** 20));
if (process.argv.includes('--child')) {
  process.stdout.write(JSON.stringify(await child(root, source, Number(poolMib) * 2 ** 20)));
} else {
  const rounds = Number(arg('rounds', '3'));
  const results: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await runChild(root, source, poolMib);
    results.push(r);
    console.log(
      `round ${i + 1}: wall ${(r.wallMs / 1000).toFixed(2)} s, CPU ${(r.cpuMs / 1000).toFixed(2)} s, ` +
        `peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MiB, ${r.files} files, decisions ${r.digest}, main thread busy ${(100 * r.mainBusy).toFixed(0)} %, load ${r.load.toFixed(2)}`,
    );
  }
  console.log(
    `median of ${rounds}: wall ${(median(results.map((r) => r.wallMs)) / 1000).toFixed(2)} s, ` +
      `CPU ${(median(results.map((r) => r.cpuMs)) / 1000).toFixed(2)} s, ` +
      `peak RSS ${(median(results.map((r) => r.peakRss)) / 2 ** 20).toFixed(0)} MiB`,
  );
}
