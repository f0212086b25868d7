/**
 * Bench: renders the PDF of a generated pack and reports render time, pages, size and peak RSS.
 *
 * - `npm run bench:pdf` runs the two cases of record, each in its own process so that each peak
 *   RSS is its own: 3,000 sessions / 150,000 activity rows and 5,000 sessions / 300,000 rows
 *   (issue targets: the latter under 1 GB peak RSS).
 * - `npx tsx bench/render-pdf.ts <sessions> <activityPerSession>` runs one case in this process;
 *   `750 7` and `3700 7` are about the packs of the export bench at 1 M and 5 M records (749 and
 *   3,710 sessions, about 5,000 and 25,000 activity rows).
 * - `npx tsx bench/render-pdf.ts <evidence.json>` renders an exported pack's evidence.json (such as
 *   the packs the export bench writes) in this process.
 *
 * The process holds what the export holds when it renders (lib/export/export-evidence.ts
 * `finishPack`): the pack's objects and its evidence.json bytes, made as the export makes them
 * (`canonicalBytes`); the query rows the pack was assembled from are let go before the render there.
 * Peak RSS is the process's high-water mark as the OS counts it (`process.resourceUsage().maxRSS`):
 * `peakBeforeRenderMb` from the start (building the pack and serialising evidence.json), then, the
 * mark reset just before the render (Linux `/proc/self/clear_refs`), `peakRssMb`: the highest RSS of
 * the process while it renders, everything it holds included. A timer cannot sample it: the render
 * is synchronous. `renderCpuMs` is the process's CPU time (user + system, all threads, the garbage
 * collector's included) over the render: steadier than `renderMs` on a shared machine, where it
 * should be run niced.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { canonicalBytes, sha256Hex } from '../lib/evidence/canonical-json.ts';
import type { EvidencePack } from '../lib/evidence/model.ts';
import { renderPdf } from '../lib/render/pdf/render-pdf.ts';
import { buildRenderModel } from '../lib/render/render-model.ts';
import { makeSamplePack } from '../test/fixtures/sample-pack.ts';

const CASES: readonly (readonly [sessions: number, activityPerSession: number])[] = [
  [3000, 50],
  [5000, 60],
];

if (process.argv[2] === undefined) {
  const self = fileURLToPath(import.meta.url);
  for (const [sessions, per] of CASES) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, String(sessions), String(per)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    process.stdout.write(out);
  }
} else if (process.argv[2].endsWith('.json')) {
  // An export's evidence.json: its exact bytes are embedded, its parse is the pack.
  const json = new Uint8Array(readFileSync(process.argv[2]));
  await runCase(JSON.parse(new TextDecoder().decode(json)) as EvidencePack, json);
} else {
  const pack = makeSamplePack({
    sessions: Number(process.argv[2]),
    activityPerSession: Number(process.argv[3] ?? 50),
    seed: 7,
    windowHours: 24 * 90,
  });
  await runCase(pack, canonicalBytes(pack));
}

async function runCase(pack: EvidencePack, json: Uint8Array): Promise<void> {
  const evidenceSha256 = sha256Hex(json);
  const peakBeforeRenderMb = maxRssMb();
  const beforeRenderMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  // Linux: writing 5 resets the process's RSS high-water mark (proc(5), /proc/pid/clear_refs).
  writeFileSync('/proc/self/clear_refs', '5');

  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const model = buildRenderModel(pack, {
    evidenceSha256,
    keyId: 'bench-key',
    keyFingerprint: 'SHA256:bench',
    engine: { name: 'duckdb', version: 'bench' },
    querySha256: Object.fromEntries(pack.queries.map((q) => [q.file, evidenceSha256])),
  });
  const pdf = await renderPdf(model, json);
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const peakRssMb = maxRssMb();

  // The page count is the /Count of the root /Pages object, the only one pdfkit writes.
  const pages = /\/Type \/Pages\n\/Count (\d+)/.exec(Buffer.from(pdf).toString('latin1'))?.[1] ?? '?';
  console.log(
    JSON.stringify({
      sessions: pack.sessions.length,
      activityRows: pack.sessions.reduce((n, s) => n + s.activity.length, 0),
      renderMs: Math.round(elapsed),
      renderCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      pages: Number(pages),
      bytes: pdf.byteLength,
      pdfSha256: sha256Hex(pdf),
      evidenceJsonBytes: json.byteLength,
      peakBeforeRenderMb,
      rssBeforeRenderMb: beforeRenderMb,
      peakRssMb,
      loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    }),
  );
}

function maxRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
