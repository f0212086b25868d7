/**
 * Bench: the whole local export (normalise → reconstruct → evidence.json → PDF → seal) over a
 * generated sample of `hosts` × `days`, on DuckDB with 2 threads. Prints the input size, the time of
 * each query, the total time and the peak RSS of this process (DuckDB included).
 * Run with `npx tsx bench/export.ts [hosts] [days]` (default 50 × 30). The sample is cached in
 * ~/.cache/sessiontrail/bench-<hosts>x<days> so that only the first run pays for generating it.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../lib/config/config.ts';
import { generateWindowsSample } from '../sample/windows-sample.ts';
import { localExport } from '../test/helpers/local-export.ts';

const hosts = Number(process.argv[2] ?? 50);
const days = Number(process.argv[3] ?? 30);
const from = '2024-01-01';
const logs = join(homedir(), '.cache', 'sessiontrail', `bench-${hosts}x${days}`);
if (!existsSync(join(logs, 'ground-truth.json'))) {
  await mkdir(logs, { recursive: true });
  await generateWindowsSample({ seed: 1, hosts, days, from, outDir: logs });
}
let bytes = 0;
let files = 0;
for (const e of await readdir(logs, { recursive: true, withFileTypes: true })) {
  if (e.isFile() && /\.json(\.gz)?$/.test(e.name) && e.name !== 'ground-truth.json') {
    files += 1;
    bytes += (await stat(join(e.parentPath, e.name))).size;
  }
}

let peak = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const to = new Date(Date.parse(`${from}T00:00:00Z`) + days * 86_400_000).toISOString();
const started = performance.now();
const { result } = await localExport(
  logs,
  { kind: 'review', from, to },
  {
    config: await loadConfig(new URL('../config/demo.config.json', import.meta.url).pathname),
    storeRoot: await mkdtemp(join(tmpdir(), 'st-bench-')),
    threads: 2,
  },
);
const total = performance.now() - started;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);

const s = result.pack.summary;
const read = result.pack.coverage.sources.reduce((n, c) => n + c.records_read, 0);
console.log(
  `input: ${hosts} hosts x ${days} days, ${files} files, ${(bytes / 2 ** 20).toFixed(1)} MiB compressed, ${read} records`,
);
for (const r of result.runs)
  console.log(`  ${r.name.padEnd(22)} ${(r.durationMs / 1000).toFixed(2).padStart(7)} s  ${r.rows} rows`);
console.log(
  `sessions: ${s.sessions} (${s.privileged_sessions} privileged), activity ${s.activity_events}, orphans ${s.orphan_events}`,
);
console.log(
  `total: ${(total / 1000).toFixed(1)} s, ${Math.round(read / (total / 1000))} records/s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`,
);
