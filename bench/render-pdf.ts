/**
 * Bench: renders the PDF of a 1,000-session pack with 50,000 activity rows and prints render time,
 * page count, size and peak RSS. Run with `npx tsx bench/render-pdf.ts [sessions] [activityPerSession]`.
 * Budget: under 10 s on a 2-core machine.
 */
import { createHash } from 'node:crypto';
import { renderPdf } from '../lib/render/pdf/render-pdf.ts';
import { buildRenderModel } from '../lib/render/render-model.ts';
import { makeSamplePack } from '../test/fixtures/sample-pack.ts';

const sessions = Number(process.argv[2] ?? 1000);
const activityPerSession = Number(process.argv[3] ?? 50);
const pack = makeSamplePack({ sessions, activityPerSession, seed: 7, windowHours: 24 * 90 });
const json = new TextEncoder().encode(JSON.stringify(pack));
const evidenceSha256 = createHash('sha256').update(json).digest('hex');

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

const started = performance.now();
const model = buildRenderModel(pack, { evidenceSha256, keyId: 'bench-key', keyFingerprint: 'SHA256:bench' });
const pdf = await renderPdf(model, json);
const elapsed = performance.now() - started;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

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
    peakRssMb: Math.round(peakRss / 1024 / 1024),
  }),
);
