/**
 * The peer case (issue 15, item 4): Hayabusa's `logon-summary` and sessiontrail's `export --kind
 * review` on the identical records, each timed the same way.
 *
 * The records: Hayabusa's `-J` reads JSON lines, uncompressed, from files named `*.json`/`*.jsonl`,
 * each line one flat record (it nests the line under `Event.EventData` and reads `Channel`,
 * `EventID`, `Hostname` there), so the bench writes an inflated copy of the generated files once, in
 * the tool's layout (`jsonl-uncompressed/windows/dt=YYYY-MM-DD/<name>.json`), and both tools read that copy:
 * `hayabusa logon-summary -J -d <copy>` (it walks the folder) and `sessiontrail export --logs <copy>`.
 * While copying, the bench counts the records each logon count is checked against: Security 4624
 * (successful logon) and 4625 (failed logon), by the channel's spelling and the record's layout.
 *
 * The measure: each command runs as a child under `/usr/bin/time` (wall, user + system CPU, peak
 * RSS as the kernel counts it, children included), in interleaved rounds; medians are printed.
 * sessiontrail runs as a user runs it (`bin/sessiontrail.js`, which loads the TypeScript through tsx:
 * its start-up is in the figure), DuckDB with 2 threads as the export bench.
 *
 * The logons each finds: Hayabusa's `<prefix>-successful.csv` / `-failed.csv` rows of event
 * `Sec 4624` / `Sec 4625` (its other rows, RDP and 4778/4779 events, are left out), summed over the
 * `Successful` / `Failed` column; sessiontrail's from the pack: the 4624 / 4625 records it read as
 * events (evidence.json `coverage.field_population`, `total`).
 *
 * The binary: `HAYABUSA` (a path) when set; else one built by `scripts/build-hayabusa.sh` (cargo,
 * from the repository at a pinned tag, or from a local snapshot: HAYABUSA_MIRROR and
 * HAYABUSA_EVTX_MIRROR, see the script) into the bench cache, on the first run that needs it. When
 * the build cannot be made, the case is skipped with the script's reason, never guessed.
 *
 *   npx tsx bench/hayabusa.ts [--sizes 0.25] [--rounds 3] [--cache DIR]   (this case alone)
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { arg, benchCache, generatedFleets } from './bench-cli.ts';
import { FLEET_DAYS, FLEET_FROM, type FleetLogs } from './fleet-logs.ts';

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

/** Logon records in the copy, counted while it is written (the reference for both tools' counts). */
export interface LogonRecords {
  /** Security 4624 records by layout and channel spelling, e.g. `flat Channel=Security`. */
  readonly successful: Readonly<Record<string, number>>;
  readonly failed: Readonly<Record<string, number>>;
  readonly lines: number;
}

/** Counts one line's Security 4624/4625 (any channel case, either layout) into `into`. */
function countLogon(
  line: string,
  into: { successful: Record<string, number>; failed: Record<string, number> },
) {
  // Cheap pre-filter: the JSON parse only for lines that can be a logon.
  if (!line.includes('4624') && !line.includes('4625')) return;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const flat = 'Channel' in r || 'EventID' in r;
  const id = Number(flat ? r.EventID : r.event_id);
  const channel = String(flat ? r.Channel : r.log_name);
  if ((id !== 4624 && id !== 4625) || channel.toLowerCase() !== 'security') return;
  const key = `${flat ? 'flat Channel' : 'Winlogbeat log_name'}=${channel}`;
  const bucket = id === 4624 ? into.successful : into.failed;
  bucket[key] = (bucket[key] ?? 0) + 1;
}

/** One uncompressed copy of the records in the tool's layout (Hayabusa reads no gzip), made once. */
export async function flatCopy(logs: FleetLogs): Promise<{ dir: string; logons: LogonRecords }> {
  // Its own folder name: an older bench wrote a flat folder of renamed files as `flat-jsonl`.
  const dir = join(logs.root, 'jsonl-uncompressed');
  const done = join(dir, '.logon-counts.json');
  if (existsSync(done)) return { dir, logons: JSON.parse(await readFile(done, 'utf8')) as LogonRecords };
  await rm(dir, { recursive: true, force: true });
  const counts = { successful: {} as Record<string, number>, failed: {} as Record<string, number>, lines: 0 };
  for (const f of logs.files) {
    // <root>/windows/dt=…/<name>.json.gz → <dir>/windows/dt=…/<name>.json
    const out = join(dir, basename(dirname(dirname(f))), basename(dirname(f)), basename(f, '.gz'));
    await mkdir(dirname(out), { recursive: true });
    let tail = '';
    const text = new StringDecoder('utf8');
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        const lines = (tail + text.write(chunk)).split('\n');
        tail = lines.pop() ?? '';
        for (const l of lines) {
          counts.lines++;
          countLogon(l, counts);
        }
        cb(null, chunk);
      },
      flush(cb) {
        tail += text.end();
        if (tail !== '') {
          counts.lines++;
          countLogon(tail, counts);
        }
        cb();
      },
    });
    await pipeline(createReadStream(f), createGunzip(), counter, createWriteStream(`${out}.part`));
    await rename(`${out}.part`, out);
  }
  await writeFile(done, JSON.stringify(counts));
  return { dir, logons: counts };
}

/** Wall, CPU and peak RSS of one command, from `/usr/bin/time -f '%e %U %S %M'`. */
interface Timed {
  readonly code: number | null;
  readonly wallS: number;
  readonly cpuS: number;
  readonly peakMiB: number;
}

async function timed(cmd: string, args: readonly string[], statsFile: string, cwd?: string): Promise<Timed> {
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', statsFile, cmd, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      ...(cwd === undefined ? {} : { cwd }),
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  const [wall, user, sys, maxKb] =
    (await readFile(statsFile, 'utf8')).trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  return { code, wallS: wall ?? Number.NaN, cpuS: (user ?? 0) + (sys ?? 0), peakMiB: (maxKb ?? 0) / 1024 };
}

/** Sum of one count column over the rows of one event in a Hayabusa logon-summary CSV. */
async function hayabusaCount(csv: string, column: 'Successful' | 'Failed', event: string): Promise<number> {
  if (!existsSync(csv)) return 0;
  const lines = createInterface({
    input: createReadStream(csv, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let header: string[] | null = null;
  let n = 0;
  for await (const line of lines) {
    // Its fields are quoted only when needed; the count and event columns never hold commas.
    const cells = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
    if (header === null) {
      header = cells;
      continue;
    }
    if (cells[header.indexOf('Event')] === event) n += Number(cells[header.indexOf(column)]);
  }
  return n;
}

interface Round {
  readonly hayabusa: Timed & { readonly ok: number; readonly failed: number };
  readonly sessiontrail: Timed & { readonly ok: number; readonly failed: number; readonly sessions: number };
}

async function oneRound(bin: string, dir: string, work: string): Promise<Round> {
  // Hayabusa: its config/ folder is found next to the binary (build-hayabusa.sh copies it there).
  const prefix = join(work, 'hayabusa-logon-summary');
  const hb = await timed(
    bin,
    ['logon-summary', '-J', '-d', dir, '-o', prefix, '-q', '-C'],
    join(work, 'hayabusa-time.txt'),
    dirname(bin),
  );
  const hayabusa = {
    ...hb,
    ok: await hayabusaCount(`${prefix}-successful.csv`, 'Successful', 'Sec 4624'),
    failed: await hayabusaCount(`${prefix}-failed.csv`, 'Failed', 'Sec 4625'),
  };
  // sessiontrail: the same command a user runs, on the same copy.
  const out = join(work, 'packs');
  await rm(out, { recursive: true, force: true });
  const cli = fileURLToPath(new URL('../bin/sessiontrail.js', import.meta.url));
  const key = join(work, 'k.pem');
  if (!existsSync(key)) spawnSync(process.execPath, [cli, 'keygen', '--key', key], { stdio: 'ignore' });
  const to = new Date(Date.parse(`${FLEET_FROM}T00:00:00Z`) + FLEET_DAYS * 86_400_000).toISOString();
  const config = fileURLToPath(new URL('../config/demo.config.json', import.meta.url));
  const st = await timed(
    process.execPath,
    [cli, 'export', '--kind', 'review', '--from', FLEET_FROM, '--to', to, '--logs', dir, '--out', out].concat(
      ['--config', config, '--key', key, '--threads', '2'],
    ),
    join(work, 'sessiontrail-time.txt'),
    work,
  );
  const evidence = (await readdir(out, { recursive: true })).find((f) => f.endsWith('evidence.json'));
  const pack =
    evidence === undefined
      ? null
      : (JSON.parse(await readFile(join(out, evidence), 'utf8')) as {
          summary: { sessions: number };
          coverage: { field_population: { source: string; event_code: string; total: number }[] };
        });
  const total = (code: string) =>
    pack?.coverage.field_population.find((f) => f.source === 'windows' && f.event_code === code)?.total ?? 0;
  return {
    hayabusa,
    sessiontrail: { ...st, ok: total('4624'), failed: total('4625'), sessions: pack?.summary.sessions ?? 0 },
  };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Runs the peer and the export on the same records; the lines to print, or why it was skipped. */
export async function hayabusaCase(logs: FleetLogs, cache: string, rounds = 1): Promise<string> {
  const bin = findBinary(cache);
  if ('skip' in bin) return `skipped (${bin.skip})`;
  if (spawnSync('/usr/bin/time', ['--version']).error !== undefined)
    return 'skipped (/usr/bin/time is missing)';
  const { dir, logons } = await flatCopy(logs);
  const work = await mkdtemp(join(tmpdir(), 'st-bench-hayabusa-'));
  const results: Round[] = [];
  const load: number[] = [];
  try {
    for (let r = 0; r < Math.max(1, rounds); r++) {
      load.push(loadavg()[0] as number);
      results.push(await oneRound(bin.path, dir, work));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const sum = (o: Readonly<Record<string, number>>) => Object.values(o).reduce((a, b) => a + b, 0);
  const spelled = (o: Readonly<Record<string, number>>) =>
    Object.entries(o)
      .sort()
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const line = (who: 'hayabusa' | 'sessiontrail') => {
    const rs = results.map((r) => r[who]);
    const codes = rs.filter((r) => r.code !== 0).map((r) => r.code);
    const ok = rs.map((r) => r.ok);
    const failed = rs.map((r) => r.failed);
    return `| ${who} | ${median(rs.map((r) => r.wallS)).toFixed(2)} s | ${median(rs.map((r) => r.cpuS)).toFixed(2)} s | ${median(rs.map((r) => r.peakMiB)).toFixed(0)} MiB | ${[...new Set(ok)].join(' / ')} of ${sum(logons.successful)} | ${[...new Set(failed)].join(' / ')} of ${sum(logons.failed)} |${codes.length > 0 ? ` exit ${codes.join(', ')}` : ''}`;
  };
  const h = results.map((r) => r.hayabusa);
  const s = results.map((r) => r.sessiontrail);
  const ratio = (f: (t: Timed) => number) => (median(s.map(f)) / median(h.map(f))).toFixed(2);
  const info = join(dirname(bin.path), 'BUILD-INFO.txt');
  return [
    `${bin.path}${existsSync(info) ? ` (${readFileSync(info, 'utf8').trim().split('\n').join('; ')})` : ''}`,
    `records: ${logons.lines} lines in ${dir}; Security 4624: ${spelled(logons.successful)}; 4625: ${spelled(logons.failed) || 'none'}`,
    `${results.length} interleaved round(s), medians; load average (1 min) at each round: ${load.map((l) => l.toFixed(1)).join(', ')}`,
    '| tool | wall | CPU | peak RSS | 4624 logons counted | 4625 counted |',
    '|---|---|---|---|---|---|',
    line('hayabusa'),
    line('sessiontrail'),
    `sessiontrail / hayabusa: wall ${ratio((t) => t.wallS)}×, CPU ${ratio((t) => t.cpuS)}×, peak RSS ${ratio((t) => t.peakMiB)}×; sessiontrail's pack: ${s[0]?.sessions} sessions`,
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const cache = benchCache();
  const rounds = Number(arg('--rounds') ?? 3);
  for await (const { millions, logs } of generatedFleets(cache, '0.25')) {
    console.log(`\n## ${millions} M records: hayabusa logon-summary vs sessiontrail export`);
    console.log(await hayabusaCase(logs, cache, rounds));
  }
}
