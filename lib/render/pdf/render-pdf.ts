/**
 * Renders the evidence PDF from a {@link RenderModel}: cover, summary, per-account table, timeline,
 * per-session detail, orphan activity, data quality, method and verification, with a footer on
 * every page and evidence.json attached as the PDF/A-3 source file.
 */
import PDFDocument from 'pdfkit';
import type { RenderModel } from '../render-model.ts';
import { loadFontSet } from './font-set.ts';
import { MUTED, PAGE_MARGIN, PdfWriter } from './pdf-writer.ts';
import { drawTimeline } from './timeline-chart.ts';

/** pdfkit's attachment options less what @types/pdfkit 0.17 knows: PDF/A-3 needs the relationship. */
type AttachmentOptions = PDFKit.Mixins.PDFAttachmentOptions & {
  relationship: 'Source' | 'Data' | 'Alternative' | 'Supplement' | 'Unspecified';
};

/**
 * Renders the PDF. Pure in effect: the same model and JSON give the same bytes (no clock; dates come
 * from the model, the document id from pdfkit's hash of the info dictionary).
 *
 * @param model - from `buildRenderModel`
 * @param evidenceJson - the exact evidence.json bytes, embedded as the PDF's source file
 * @returns the PDF bytes
 */
export async function renderPdf(model: RenderModel, evidenceJson: Uint8Array): Promise<Uint8Array> {
  const date = new Date(model.documentDate);
  const doc = new PDFDocument({
    pdfVersion: '1.7',
    subset: 'PDF/A-3b',
    tagged: true,
    bufferPages: true,
    autoFirstPage: false,
    displayTitle: true,
    lang: 'en',
    info: {
      Title: xmpSafe(model.meta.title),
      Author: 'sessiontrail',
      Subject: xmpSafe(model.meta.subject),
      Keywords: xmpSafe(model.meta.keywords.join(', ')),
      Creator: 'sessiontrail',
      Producer: 'sessiontrail with PDFKit',
      CreationDate: date,
      ModDate: date,
    },
  });
  const chunks: Uint8Array[] = [];
  doc.on('data', (chunk: Uint8Array) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });

  const fonts = loadFontSet();
  // pdfkit accepts a parsed fontkit font wherever it accepts font bytes (PDFFontFactory.open checks
  // for `layout`); sharing the parsed fonts saves re-parsing 6 MB of font files per render.
  const asSource = (f: unknown) => f as PDFKit.Mixins.PDFFontSource;
  doc.registerFont('regular', asSource(fonts.fonts.regular));
  doc.registerFont('bold', asSource(fonts.fonts.bold));
  doc.registerFont('mono', asSource(fonts.fonts.mono));
  doc.registerFont('cjk', asSource(fonts.fonts.cjk));

  doc.file(Buffer.from(evidenceJson.buffer, evidenceJson.byteOffset, evidenceJson.byteLength), {
    name: 'evidence.json',
    type: 'application/json',
    relationship: 'Source',
    description: `The evidence this PDF shows; sha256 ${model.evidenceSha256}`,
    creationDate: date,
    modifiedDate: date,
  } satisfies AttachmentOptions as PDFKit.Mixins.PDFAttachmentOptions);
  // pdfkit writes xmp:CreateDate but not xmp:ModifyDate; PDF/A wants the Info ModDate in XMP too.
  doc.appendXML(
    `<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:ModifyDate>${
      date.toISOString().split('.')[0]
    }Z</xmp:ModifyDate></rdf:Description>`,
  );

  const w = new PdfWriter(doc, fonts);
  writeCover(w, model);
  writeFindings(w, model);
  writeSummary(w, model);
  writeAccounts(w, model);
  w.beginSection('Session timeline', { newPage: 'landscape' });
  drawTimeline(w, model.timeline, model.sessions.length);
  writeSessions(w, model);
  writeOrphans(w, model);
  writeDataQuality(w, model);
  writeMethod(w, model);
  w.finish();
  writeFooters(w, model);

  doc.end();
  await done;
  return Buffer.concat(chunks);
}

function writeCover(w: PdfWriter, m: RenderModel): void {
  w.newPage('portrait');
  w.beginSection(m.cover.heading);
  w.paragraph(
    'Privileged logon sessions rebuilt from logs by sessiontrail. This PDF is one file of a signed pack; ' +
      'the evidence it shows is the attached evidence.json, whose sha256 is printed below and in every footer.',
    { color: MUTED },
  );
  w.facts(m.cover.facts, 140, 9);
}

/** The findings register, right after the cover: what the reviewer must act on, then the sign-off. */
function writeFindings(w: PdfWriter, m: RenderModel): void {
  const f = m.findings;
  w.beginSection('Findings', { newPage: 'portrait' });
  w.paragraph(f.sentence, { role: 'bold' });
  if (f.register.rows.length === 0) {
    w.paragraph(
      'No rule of the catalogue raised a finding on this data (evidence.json lists every rule that ran).',
    );
  } else {
    w.paragraph(
      'Each finding rests on the records evidence.json lists under it; its rows are marked F<number> in the ' +
        'session tables. The disposition column is left for the reviewer.',
      { size: 8, color: MUTED },
    );
    w.table(
      f.register,
      { widths: [20, 40, 158, 62, 70, 50, 51, 60], size: 6.8, maxLines: 8 },
      { tagging: 'rows' },
    );
  }
  w.heading('Review sign-off', 2);
  w.facts(f.signOff, 140, 9);
  w.heading('Event codes in this PDF', 2);
  if (f.legend.rows.length === 0) w.paragraph('None.');
  else w.table(f.legend, { widths: [150, 361], size: 7 });
}

function writeSummary(w: PdfWriter, m: RenderModel): void {
  w.beginSection('Summary', { newPage: 'portrait' });
  w.paragraph(m.findings.sentence);
  w.facts(m.summary.counts, 170, 9);
  w.heading('Completeness verdicts', 2);
  w.table(m.summary.verdicts, { widths: [300, 80], size: 8.5 });
  w.heading('Suppressed sessions per rule', 2);
  if (m.summary.suppressions.rows.length === 0) w.paragraph('No suppression rule is configured.');
  else w.table(m.summary.suppressions, { widths: [52, 199, 70, 90, 45, 55], size: 8 });
  w.heading('What this pack does not show', 2);
  w.paragraph(m.summary.gaps, { size: 9 });
}

function writeAccounts(w: PdfWriter, m: RenderModel): void {
  w.beginSection('Accounts', { newPage: 'portrait' });
  if (m.accounts.rows.length === 0) {
    w.paragraph('No session in scope.');
    return;
  }
  w.table(m.accounts, { widths: [112, 44, 62, 62, 105, 40, 40, 46], size: 7.5 });
}

function writeSessions(w: PdfWriter, m: RenderModel): void {
  w.beginSection('Sessions', { newPage: 'portrait' });
  if (m.sessions.length === 0) w.paragraph('No session in scope.');
  m.sessions.forEach((s, i) => {
    // Start a session where its identity and a few activity rows fit, not at the foot of a page.
    w.ensure(260);
    w.heading(`${i + 1}. ${s.title}`, 2);
    w.facts(s.facts, 110, 7.5, 'rows');
    if (s.activity.rows.length === 0) {
      w.paragraph('No activity recorded in this session.', { size: 8, color: MUTED });
    } else {
      w.table(
        s.activity,
        { widths: [86, 58, 34, 94, 150, 89], size: 6.8, mono: [4], maxLines: 10 },
        { tagging: 'rows' },
      );
    }
    if (s.omittedRows > 0) {
      w.paragraph(
        `${s.omittedRows} further activity rows of this session are omitted here to keep the PDF readable; ` +
          `evidence.json holds all of them (session ${s.id}).`,
        { size: 8, role: 'bold' },
      );
    }
  });
}

function writeOrphans(w: PdfWriter, m: RenderModel): void {
  w.beginSection('Orphan activity', { newPage: 'portrait' });
  w.paragraph(
    'Activity that no logon in the data explains, by host: the blind spots of this pack. Each group is the ' +
      'events of one logon id; evidence.json lists every event.',
    { color: MUTED },
  );
  if (m.orphans.length === 0) w.paragraph('None.');
  for (const block of m.orphans) {
    w.heading(block.host, 2);
    w.table(block.groups, { widths: [120, 55, 70, 70, 36, 80, 80], size: 7.5 });
  }
}

function writeDataQuality(w: PdfWriter, m: RenderModel): void {
  const q = m.dataQuality;
  w.beginSection('Data quality and coverage', { newPage: 'portrait' });
  w.heading('Records per source', 2);
  w.table(q.sources, { widths: [50, 38, 55, 55, 55, 50, 55, 153], size: 7.5 });
  w.heading('Records skipped or rejected, per source and reason', 2);
  if (q.reasons.rows.length === 0) w.paragraph('None.');
  else w.table(q.reasons, { widths: [50, 48, 120, 50, 243], size: 7.5, mono: [4] });
  w.heading('Field population', 2);
  w.table(q.fieldPopulation, { widths: [60, 50, 180, 70, 70, 81], size: 7.5 });
  w.heading('Integrity events', 2);
  w.paragraph(q.integrityStatement);
  if (q.integrity.rows.length > 0) w.table(q.integrity, { widths: [75, 75, 35, 90, 90, 146], size: 7.5 });
  w.heading('Hosts in the data', 2);
  w.table(q.hosts, { widths: [110, 70, 70, 45, 45, 171], size: 7.5 });
}

function writeMethod(w: PdfWriter, m: RenderModel): void {
  const v = m.method.verification;
  w.beginSection('Method and verification', { newPage: 'portrait' });
  w.heading('Queries', 2);
  w.table(m.method.queries, { widths: [16, 85, 135, 35, 240], size: 7, mono: [4] });
  w.heading('How sessions are built', 2);
  for (const p of m.method.paragraphs) w.paragraph(p);
  w.heading('How to verify this pack', 2);
  w.paragraph(
    "1. From the pack folder, check the signature over the manifest with the signer's public key as you " +
      'obtained it from the publisher (not the copy stored beside the packs, which whoever can change a pack ' +
      `can change too), saved as trusted-key.pem. Its key id, printed by "openssl pkey -pubin -in trusted-key.pem ` +
      `-outform DER | sha256sum", must be ${m.keyId}. It prints "Verified OK":`,
  );
  w.paragraph(v.signatureCommand, { role: 'mono', size: 8 });
  w.paragraph('2. Check that evidence.json is the file this PDF shows. It prints "evidence.json: OK":');
  w.paragraph(v.evidenceCheckCommand, { role: 'mono', size: 8 });
  w.paragraph(
    '3. Hash every file of the pack and compare each digest with its subject in manifest.json. This PDF is ' +
      'itself a subject of the manifest, so it cannot print its own digest; it prints those of evidence.json ' +
      'and of the queries (as evidence.json records them), listed below:',
  );
  w.paragraph(v.otherFilesCommand, { role: 'mono', size: 8 });
  w.table(v.expectedDigests, { widths: [160, 351], size: 7.5, mono: [1] });
}

function writeFooters(w: PdfWriter, m: RenderModel): void {
  const doc = w.doc;
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const width = doc.page.width;
    const y = doc.page.height - PAGE_MARGIN.bottom + 22;
    const text = `Pack ${m.packId}  ·  page ${i + 1} of ${range.count}  ·  evidence.json sha256 ${m.shortSha256}…`;
    w.artifact(() => {
      doc
        .moveTo(PAGE_MARGIN.side, y - 6)
        .lineTo(width - PAGE_MARGIN.side, y - 6)
        .lineWidth(0.4)
        .stroke('#b8b8b8');
      w.drawLine(text, PAGE_MARGIN.side, y, { size: 7.5, color: MUTED });
    }, 'Pagination');
  }
}

/** pdfkit copies Info strings into the XMP packet unescaped: keep XML metacharacters out of them. */
function xmpSafe(s: string): string {
  return s.replace(/[<>&]/g, ' ');
}
