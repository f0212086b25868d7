/**
 * The measurement of record for speed and memory (issue 15): realistic Windows input at fleet sizes,
 * the bare DuckDB scan of the same files and fields as the limit, then the whole local export
 * (intake → normalise and the other queries → assemble → render → seal), interleaved rounds, each
 * run in a child process of its own so that its peak RSS is its own (DuckDB is in-process).
 *
 *   npm run bench -- [--sizes 0.25,1,5] [--large] [--rounds N] [--cache DIR] [--threads N] [--peer-max M] [--trino-scan]
 *                    [--trino-scan [--trino-url URL]]   (bytes scanned per pack: bench/trino-scan.ts)
 *
 * Sizes are millions of records (default 0.25, 1 and 5; `--large` adds 10). The input is generated
 * once per size by {@link fleetLogs} into `--cache` (default `~/.cache/sessiontrail/bench-fleet`,
 * outside the repository) and reused. Prints, per size, the median of the rounds for each stage:
 * time, rows, bytes, peak RSS during the stage, and the ratio of its time to the scan's.
 * Never a timed test: figures depend on the machine, which `bench/RESULTS.md` records with them.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { fixedClock } from '../lib/clock.ts';
import { loadConfig } from '../lib/config/config.ts';
import { exportEvidence } from '../lib/export/export-evidence.ts';
import { localLocator } from '../lib/locate/local-logs.ts';
import { MAX_LINE_BYTES, READ_BUFFER_BYTES } from '../lib/query/dialects/duckdb-dialect.ts';
import { DuckDbEngine } from '../lib/query/duckdb/duckdb-engine.ts';
import { LocalKeySigner } from '../lib/signing/local-key-signer.ts';
import { FsEvidenceStore } from '../lib/storage/fs-evidence-store.ts';
import { makeKey } from '../test/helpers/local-export.ts';
import { arg, benchCache, fleetRoot } from './bench-cli.ts';
import { FLEET_DAYS, FLEET_FROM, fleetLogs, readFleet } from './fleet-logs.ts';
import { hayabusaCase } from './hayabusa.ts';
import { trinoScanCase } from './trino-scan.ts';

const CAPTURES = fileURLToPath(new URL('../../shared/datasets/windows/otrf', import.meta.url));

/** One stage of one run. */
interface Stage {
  name: string;
  ms: number;
  /** CPU time of the whole process (all DuckDB threads included) during the stage. */
  cpuMs: number;
  rows: number | null;
  bytes: number | null;
  peakRss: number;
}

interface RunResult {
  kind: 'scan' | 'export';
  wallMs: number;
  cpuMs: number;
  peakRss: number;
  stages: Stage[];
  records: number;
  sessions?: number;
}

/**
 * Each stage's peak RSS. On Linux it is exact: the kernel's high-water mark of the process (VmHWM
 * in /proc/self/status) read at each stage's end and then reset (writing 5 to
 * /proc/self/clear_refs, proc(5)), so every stage's peak is its own, synchronous work included.
 * Elsewhere RSS is sampled every 20 ms, which misses peaks between samples and during synchronous
 * stages. `mark` closes the current stage and returns its peak.
 */
function rssSampler() {
  const before = highWaterMark();
  if (before !== null) {
    try {
      writeFileSync('/proc/self/clear_refs', '5');
      // The process's peak so far (start-up included): every reset mark is folded into it.
      let overall = before;
      return {
        mark(): number {
          const peak = highWaterMark() ?? 0;
          writeFileSync('/proc/self/clear_refs', '5');
          overall = Math.max(overall, peak);
          return peak;
        },
        overall: () => overall,
        stop: () => {},
      };
    } catch {
      // not allowed here: sample instead
    }
  }
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return {
    mark(): number {
      const p = Math.max(peak, process.memoryUsage().rss);
      peak = process.memoryUsage().rss;
      return p;
    },
    // getrusage's peak: the process's whole life (nothing resets it on this path)
    overall: () => process.resourceUsage().maxRSS * 1024,
    stop: () => clearInterval(timer),
  };
}

/** The process's RSS high-water mark in bytes (Linux VmHWM), or null where it cannot be read. */
function highWaterMark(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * The fields the scan extracts: the system fields the Windows source reads (event id, channel,
 * host, record number, the three time fields) in the two layouts of the captures (flat NXLog and
 * Winlogbeat 6), and the EventData fields of a logon, in one `json_value` call per line (one parse),
 * as the normalising query extracts them. It reads with the export's line reader settings (longest
 * line, buffer per thread), so that the two differ only in what they do with a line.
 */
const SCAN_FIELDS = [
  ['EventID'],
  ['event_id'],
  ['Channel'],
  ['log_name'],
  ['Hostname'],
  ['computer_name'],
  ['RecordNumber'],
  ['record_number'],
  ['@timestamp'],
  ['EventTime'],
  ['TimeCreated'],
  ...[
    'SubjectUserSid',
    'SubjectUserName',
    'SubjectDomainName',
    'SubjectLogonId',
    'TargetUserSid',
    'TargetUserName',
    'TargetDomainName',
    'TargetLogonId',
    'TargetLinkedLogonId',
    'LogonType',
    'ElevatedToken',
    'IpAddress',
    'WorkstationName',
    'ProcessName',
    'NewProcessName',
    'ParentProcessName',
    'CommandLine',
    'PrivilegeList',
  ].flatMap((f) => [[f], ['event_data', f]]),
];

async function childScan(files: readonly string[], threads: number): Promise<RunResult> {
  const rss = rssSampler();
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: '2GB' });
  const con = await db.connect();
  const paths = SCAN_FIELDS.map((k) => `'$${k.map((p) => `."${p}"`).join('')}'`).join(', ');
  const list = `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}]`;
  const reader = await con.runAndReadAll(`SELECT count(*) AS n, count(sv[1]) + count(sv[2]) AS with_id,
    sum(len(list_filter(sv, x -> x IS NOT NULL))) AS values
  FROM (SELECT json_value(line, [${paths}]) AS sv
    FROM read_csv(${list}, columns = {'line': 'VARCHAR'}, header = false, delim = E'\\x01', quote = '', escape = '', auto_detect = false, max_line_size = ${MAX_LINE_BYTES}, buffer_size = ${READ_BUFFER_BYTES}))`);
  const row = reader.getRowObjectsJS()[0] as { n: bigint; values: bigint };
  con.closeSync();
  db.closeSync();
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  rss.mark();
  const peakRss = rss.overall();
  rss.stop();
  return {
    kind: 'scan',
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRss,
    records: Number(row.n),
    stages: [
      {
        name: 'scan',
        ms: wallMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        rows: Number(row.n),
        bytes: Number(row.values),
        peakRss,
      },
    ],
  };
}

async function childExport(root: string, threads: number): Promise<RunResult> {
  const keyPath = await makeKey();
  const storeRoot = await mkdtemp(join(tmpdir(), 'st-bench-store-'));
  const rss = rssSampler();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const marks: { name: string; at: number; cpu: number; peakBefore: number }[] = [];
  const cpuNow = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  };
  const stageName = (step: string) =>
    step.startsWith('finding ')
      ? 'intake'
      : step.startsWith('running ')
        ? step.slice('running '.length)
        : step.startsWith('assembling')
          ? 'assemble'
          : step.startsWith('reserving')
            ? 'reserve'
            : step.startsWith('rendering')
              ? 'render'
              : step.startsWith('sealing')
                ? 'seal'
                : step;
  const onProgress = (step: string) =>
    marks.push({ name: stageName(step), at: performance.now(), cpu: cpuNow(), peakBefore: rss.mark() });
  const engine = await DuckDbEngine.open({ threads });
  marks.push({ name: 'plan', at: performance.now(), cpu: cpuNow(), peakBefore: rss.mark() });
  let result: Awaited<ReturnType<typeof exportEvidence>>;
  try {
    result = await exportEvidence(
      {
        kind: 'review',
        from: `${FLEET_FROM}T00:00:00Z`,
        to: new Date(Date.parse(`${FLEET_FROM}T00:00:00Z`) + FLEET_DAYS * 86_400_000).toISOString(),
      },
      {
        engine,
        store: new FsEvidenceStore(storeRoot),
        signer: await LocalKeySigner.fromFile(keyPath),
        clock: fixedClock('2026-01-01T00:00:00.000Z'),
        config: await loadConfig(fileURLToPath(new URL('../config/demo.config.json', import.meta.url))),
        locator: localLocator(root),
        toolVersion: '0.0.0-bench',
        onProgress,
      },
    );
  } finally {
    await engine.close();
  }
  const end = performance.now();
  const endCpu = cpuNow();
  const lastPeak = rss.mark();
  rss.stop();
  const cpu = process.cpuUsage(cpu0);
  const packDir = join(storeRoot, result.dir);
  const sizes = new Map<string, number>();
  for (const e of await readdir(packDir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) sizes.set(e.name, (await stat(join(e.parentPath, e.name))).size);
  const runs = [...result.runs];
  const stages: Stage[] = marks.map((m, i) => {
    const next = marks[i + 1];
    const ms = (next?.at ?? end) - m.at;
    const cpuMs = (next?.cpu ?? endCpu) - m.cpu;
    const peakRss = next?.peakBefore ?? lastPeak;
    let rows: number | null = null;
    let bytes: number | null = null;
    if (m.name === 'intake') {
      const found = result.pack.coverage.sources.reduce((n, c) => n + c.records_read, 0);
      rows = found;
    } else if (m.name === 'assemble') bytes = sizes.get('evidence.json') ?? null;
    else if (m.name === 'render') bytes = sizes.get('evidence.pdf') ?? null;
    else if (m.name === 'seal') bytes = [...sizes.values()].reduce((a, b) => a + b, 0);
    else if (m.name !== 'plan' && m.name !== 'reserve') {
      const run = runs.shift();
      rows = run?.rows ?? null;
      bytes = run?.bytesScanned ?? null;
    }
    return { name: m.name, ms, cpuMs, rows, bytes, peakRss };
  });
  await rm(storeRoot, { recursive: true, force: true });
  return {
    kind: 'export',
    wallMs: end - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRss: Math.max(lastPeak, rss.overall()),
    records: result.pack.coverage.sources.reduce((n, c) => n + c.records_read, 0),
    sessions: result.pack.summary.sessions,
    stages,
  };
}

/** Runs this file again as a child (`--child kind root threads`) and reads its last stdout line. */
function runChild(kind: 'scan' | 'export', root: string, threads: number): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', kind, root, String(threads)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`bench ${kind} child exited ${code}: ${out.slice(-2000)}`));
      else resolvePromise(JSON.parse(last) as RunResult);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [kind, root, threads] = process.argv.slice(3) as [string, string, string];
    const result =
      kind === 'scan'
        ? await childScan((await readFleet(root))?.files ?? [], Number(threads))
        : await childExport(root, Number(threads));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const sizes = (arg('--sizes') ?? '0.25,1,5')
    .split(',')
    .map(Number)
    .concat(process.argv.includes('--large') ? [10] : []);
  const rounds = Number(arg('--rounds') ?? 3);
  const threads = Number(arg('--threads') ?? 2);
  const cache = benchCache();
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${gib(totalmem())} RAM, node ${process.version}; DuckDB threads ${threads}; ${rounds} interleaved rounds, medians`,
  );
  for (const millions of sizes) {
    const records = Math.round(millions * 1_000_000);
    const root = fleetRoot(cache, millions);
    const genStart = performance.now();
    const logs = await fleetLogs({ captures: CAPTURES, root, records, seed: 15 });
    let gz = 0;
    for (const f of logs.files) gz += (await stat(f)).size;
    console.log(
      `\n## ${millions} M records: ${logs.files.length} files, ${mib(gz)} gzip, ${mib(logs.jsonBytes)} JSON (${sec(performance.now() - genStart)} to generate or find)`,
    );
    const scans: RunResult[] = [];
    const exports: RunResult[] = [];
    for (let r = 0; r < rounds; r++) {
      scans.push(await runChild('scan', root, threads));
      exports.push(await runChild('export', root, threads));
      const s = scans.at(-1) as RunResult;
      const e = exports.at(-1) as RunResult;
      console.log(
        `  round ${r + 1}: scan ${sec(s.wallMs)} wall, ${sec(s.cpuMs)} CPU, ${gib(s.peakRss)}; export ${sec(e.wallMs)} wall, ${sec(e.cpuMs)} CPU, ${gib(e.peakRss)}`,
      );
    }
    if (rounds < 1) {
      console.log('no rounds asked for (--rounds 0): the input is generated and cached, nothing measured');
      continue;
    }
    const scanMs = median(scans.map((s) => s.wallMs));
    const scanCpu = median(scans.map((s) => s.cpuMs));
    const first = exports[0] as RunResult;
    console.log(`| stage | time | CPU | rows | bytes | peak RSS | ratio to scan (wall / CPU) |`);
    console.log(`|---|---|---|---|---|---|---|`);
    console.log(
      `| bare DuckDB scan | ${sec(scanMs)} | ${sec(scanCpu)} | ${scans[0]?.records} | | ${gib(median(scans.map((s) => s.peakRss)))} | 1.00 / 1.00 |`,
    );
    first.stages.forEach((st, i) => {
      const ms = median(exports.map((e) => e.stages[i]?.ms ?? 0));
      const cpuMs = median(exports.map((e) => e.stages[i]?.cpuMs ?? 0));
      const peak = median(exports.map((e) => e.stages[i]?.peakRss ?? 0));
      console.log(
        `| ${st.name} | ${sec(ms)} | ${sec(cpuMs)} | ${st.rows ?? ''} | ${st.bytes ?? ''} | ${gib(peak)} | ${(ms / scanMs).toFixed(2)} / ${(cpuMs / scanCpu).toFixed(2)} |`,
      );
    });
    // A large input is normalised in parts, one statement each (lib/export/input-parts.ts): their sum.
    const parts = first.stages.filter((st) => st.name.startsWith('normalise-'));
    if (parts.length > 1) {
      const sum = (e: RunResult, pick: (st: Stage) => number) =>
        e.stages.filter((st) => st.name.startsWith('normalise-')).reduce((a, st) => a + pick(st), 0);
      const ms = median(exports.map((e) => sum(e, (st) => st.ms)));
      const cpuMs = median(exports.map((e) => sum(e, (st) => st.cpuMs)));
      const peak = median(
        exports.map((e) =>
          Math.max(...e.stages.filter((st) => st.name.startsWith('normalise-')).map((st) => st.peakRss)),
        ),
      );
      console.log(
        `| normalise, all ${parts.length} parts | ${sec(ms)} | ${sec(cpuMs)} | ${parts.reduce((a, st) => a + (st.rows ?? 0), 0)} | | ${gib(peak)} | ${(ms / scanMs).toFixed(2)} / ${(cpuMs / scanCpu).toFixed(2)} |`,
      );
    }
    const wall = median(exports.map((e) => e.wallMs));
    const cpu = median(exports.map((e) => e.cpuMs));
    console.log(
      `| **export total** | ${sec(wall)} | ${sec(cpu)} | ${first.sessions} sessions | | ${gib(median(exports.map((e) => e.peakRss)))} | ${(wall / scanMs).toFixed(2)} / ${(cpu / scanCpu).toFixed(2)} |`,
    );
    // The peer reads an uncompressed copy of the input (12 GB at 5 M records), so it runs only up
    // to --peer-max millions of records (default 1).
    const hb =
      millions <= Number(arg('--peer-max') ?? 1)
        ? await hayabusaCase(logs, cache, rounds)
        : `skipped (${millions} M records is above --peer-max)`;
    console.log(`hayabusa logon-summary vs export on the same uncompressed records: ${hb}`);
    if (process.argv.includes('--trino-scan'))
      console.log((await trinoScanCase(logs, arg('--trino-url') ?? 'http://127.0.0.1:8080')).join('\n'));
  }
}

await main();
