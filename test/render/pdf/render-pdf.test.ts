import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPdf } from '../../../lib/render/pdf/render-pdf.ts';
import { buildRenderModel, formatTime, type RenderModel } from '../../../lib/render/render-model.ts';
import { makeSamplePack } from '../../fixtures/sample-pack.ts';
import { sealFor } from '../../fixtures/seal-facts.ts';

/** Runs a poppler tool; fails (never skips) when poppler-utils is not installed. */
function poppler(tool: string, args: string[]): Buffer {
  const probe = spawnSync(tool, ['-v']);
  if (probe.error) {
    throw new Error(
      `${tool} not found: install poppler-utils (apt-get install -y poppler-utils) to run the PDF tests`,
    );
  }
  return execFileSync(tool, args, { maxBuffer: 256 * 1024 * 1024 });
}

/** Counts pixels darker than near-white in a binary PGM (P5) file, as pdftoppm -gray writes it. */
function inkedPixels(pgm: Buffer): { inked: number; total: number } {
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.toString('latin1', 0, 64));
  if (!header) throw new Error('not a binary PGM');
  const total = Number(header[1]) * Number(header[2]);
  const pixels = pgm.subarray(header[0].length);
  let inked = 0;
  for (let i = 0; i < total; i++) if ((pixels[i] ?? 255) < 200) inked++;
  return { inked, total };
}

const pack = makeSamplePack({ sessions: 50, activityPerSession: 20, seed: 42 });
const json = new TextEncoder().encode(JSON.stringify(pack));
const sha = createHash('sha256').update(json).digest('hex');
const seal = {
  evidenceSha256: sha,
  keyId: 'k-1f3a',
  keyFingerprint: 'SHA256:5bq8e0',
  sealedAt: '2024-03-09T10:15:00.000Z',
  operator: 'j.doe (--requester)',
  sequence: 7,
};

describe('renderPdf', () => {
  let dir: string;
  let pdfPath: string;
  let pdf: Uint8Array;
  let model: RenderModel;
  let text: string;
  let pages: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sessiontrail-pdf-'));
    model = buildRenderModel(pack, sealFor(pack, seal));
    pdf = await renderPdf(model, json);
    pdfPath = join(dir, 'evidence.pdf');
    writeFileSync(pdfPath, pdf);
    text = poppler('pdftotext', ['-enc', 'UTF-8', pdfPath, '-']).toString('utf8');
    pages = Number(/Pages:\s+(\d+)/.exec(poppler('pdfinfo', [pdfPath]).toString())?.[1]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the cover facts, including when, by whom and as which sequence number the pack was sealed', () => {
    const cover = poppler('pdftotext', ['-enc', 'UTF-8', '-l', '1', pdfPath, '-']).toString('utf8');
    for (const fact of [
      'Sealed (UTC)',
      '2024-03-09 10:15:00Z',
      'Sealed by',
      'j.doe (--requester)',
      'Sequence in series',
    ]) {
      expect(cover).toContain(fact);
    }
    for (const fact of [pack.pack.id, 'INC-2024-0042', sha, 'k-1f3a', 'SHA256:5bq8e0', 'duckdb 1.5.6']) {
      expect(text).toContain(fact);
    }
    expect(text).toContain('Quarterly privileged access review');
  });

  it('prints a session row of the activity table', () => {
    const session = pack.sessions[0]!;
    const event = session.activity[0]!;
    expect(text).toContain(`1. ${session.account} on ${session.host}`);
    expect(text).toContain(formatTime(event.time));
  });

  it('prints the verification commands', () => {
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain(
      'openssl dgst -sha256 -verify trusted-key.pem -signature manifest.sig manifest.json',
    );
    expect(flat).toContain(`echo "${sha} *evidence.json" | sha256sum -c`);
  });

  it('puts a footer with the pack id, page N of M and the short digest on every page', () => {
    expect(pages).toBeGreaterThan(10);
    for (const n of [1, Math.ceil(pages / 2), pages]) {
      const page = poppler('pdftotext', [
        '-f',
        String(n),
        '-l',
        String(n),
        '-enc',
        'UTF-8',
        pdfPath,
        '-',
      ]).toString();
      expect(page).toContain(`page ${n} of ${pages}`);
      expect(page).toContain(pack.pack.id);
      expect(page).toContain(sha.slice(0, 12));
    }
  });

  it('shows non-ASCII names in the extracted text', () => {
    expect(text).toContain('jürgen.müller-adm');
    expect(text).toContain('łukasz.wiśniewski-adm');
    expect(text).toContain('Łukasz Kowalczyk');
    expect(text).toContain('山田太郎');
  });

  it('renders pages that are not blank', () => {
    poppler('pdftoppm', ['-r', '40', '-gray', '-f', '1', '-l', '8', pdfPath, join(dir, 'page')]);
    const files = readdirSync(dir).filter((f) => f.startsWith('page') && f.endsWith('.pgm'));
    expect(files).toHaveLength(8);
    for (const f of files) {
      const { inked, total } = inkedPixels(readFileSync(join(dir, f)));
      expect(inked / total, f).toBeGreaterThan(0.005);
    }
  });

  it('embeds evidence.json byte for byte', () => {
    expect(poppler('pdfdetach', ['-list', pdfPath]).toString()).toContain('evidence.json');
    const out = join(dir, 'detached.json');
    poppler('pdfdetach', ['-save', '1', '-o', out, pdfPath]);
    expect(Buffer.compare(readFileSync(out), Buffer.from(json))).toBe(0);
  });

  it('is tagged and declares PDF/A-3b with the sealing time as its document dates', () => {
    const info = poppler('pdfinfo', ['-meta', pdfPath]).toString();
    expect(info).toContain('<pdfaid:part>3</pdfaid:part>');
    expect(info).toContain('<pdfaid:conformance>B</pdfaid:conformance>');
    const plain = poppler('pdfinfo', [pdfPath]).toString();
    expect(plain).toMatch(/Tagged:\s+yes/);
    expect(plain).toMatch(/Keywords:.*pk-/);
    expect(plain).toMatch(/CreationDate:\s+Sat Mar {2}9 10:15:00 2024 UTC/);
    expect(plain).toMatch(/ModDate:\s+Sat Mar {2}9 10:15:00 2024 UTC/);
    expect(info).toContain('2024-03-09T10:15:00');
  });

  it('writes a PDF of several 1 MB output blocks intact: evidence.json detaches byte for byte, text and pages read', async () => {
    // Prepare: 3 MB that deflate cannot shrink, pushed by pdfkit as one piece across block boundaries.
    const big = new Uint8Array(3 * 1024 * 1024 + 17);
    let state = 7;
    for (let i = 0; i < big.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) | 0;
      big[i] = state >>> 24;
    }
    const path = join(dir, 'big.pdf');

    // Act
    const out = await renderPdf(model, big);
    writeFileSync(path, out);

    // Assess
    expect(out.byteLength).toBeGreaterThan(big.length);
    const detached = join(dir, 'big.bin');
    poppler('pdfdetach', ['-save', '1', '-o', detached, path]);
    expect(Buffer.compare(readFileSync(detached), Buffer.from(big))).toBe(0);
    expect(Number(/Pages:\s+(\d+)/.exec(poppler('pdfinfo', [path]).toString())?.[1])).toBe(pages);
    const last = poppler('pdftotext', ['-f', String(pages), '-l', String(pages), path, '-']).toString();
    expect(last).toContain(`page ${pages} of ${pages}`);
  });

  it('renders the same model to the same bytes', async () => {
    const again = await renderPdf(buildRenderModel(pack, sealFor(pack, seal)), json);
    expect(Buffer.compare(Buffer.from(again), Buffer.from(pdf))).toBe(0);
  });
});
