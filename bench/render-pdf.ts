/**
 * Bench: renders the PDF of a generated pack and reports render time, pages, size and peak RSS.
 *
 * - `npm run bench:pdf` runs the two cases of record, each in its own process so that each peak
 *   RSS is its own: 3,000 sessions / 150,000 activity rows and 5,000 sessions / 300,000 rows
 *   (issue targets: the latter under 1 GB peak RSS).
 * - `npx tsx bench/render-pdf.ts <sessions> <activityPerSession>` runs one case in this process.
 *
 * Peak RSS is the process's high-water mark as the OS counts it (`process.resourceUsage().maxRSS`),
 * which includes the pack and its evidence.json bytes, as the export holds them while it renders.
 * A timer cannot sample it: the render is synchronous. Run it niced on a shared machine.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
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
} else {
  await runCase(Number(process.argv[2]), Number(process.argv[3] ?? 50));
}

async function runCase(sessions: number, activityPerSession: number): Promise<void> {
  const pack = makeSamplePack({ sessions, activityPerSession, seed: 7, windowHours: 24 * 90 });
  const json = new TextEncoder().encode(JSON.stringify(pack));
  const evidenceSha256 = createHash('sha256').update(json).digest('hex');
  const beforeRenderMb = Math.round(process.memoryUsage().rss / 1024 / 1024);

  const started = performance.now();
  const model = buildRenderModel(pack, {
    evidenceSha256,
    keyId: 'bench-key',
    keyFingerprint: 'SHA256:bench',
    engine: { name: 'duckdb', version: 'bench' },
    querySha256: Object.fromEntries(pack.queries.map((q) => [q.file, evidenceSha256])),
  });
  const pdf = await renderPdf(model, json);
  const elapsed = performance.now() - started;

  // The page count is the /Count of the root /Pages object, the only one pdfkit writes.
  const pages = /\/Type \/Pages\n\/Count (\d+)/.exec(Buffer.from(pdf).toString('latin1'))?.[1] ?? '?';
  console.log(
    JSON.stringify({
      sessions,
      activityRows: sessions * activityPerSession,
      renderMs: Math.round(elapsed),
      pages: Number(pages),
      bytes: pdf.byteLength,
      evidenceJsonBytes: json.byteLength,
      rssBeforeRenderMb: beforeRenderMb,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}
