/**
 * Renders the evidence PDF from a {@link RenderModel}: cover, summary, per-account table, timeline,
 * per-session detail, orphan activity, data quality, method and verification, with a footer on
 * every page and evidence.json attached as the PDF/A-3 source file.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';
import { orphanDestination, type RenderModel, sessionDestination } from '../render-model.ts';
import { loadFontSet } from './font-set.ts';
import { MUTED, PAGE_MARGIN, PdfWriter } from './pdf-writer.ts';
import { drawTimeline } from './timeline-chart.ts';

/**
 * Attaches evidence.json as the PDF/A-3 source file (an associated file with relationship Source),
 * as pdfkit's `doc.file()` writes it (EmbeddedFile with Subtype, Params CheckSum/Size/dates; a
 * Filespec in the EmbeddedFiles name tree and the catalog's AF), but compressed here in one step:
 * `doc.file()` copies the bytes twice (for its MD5 and before deflating), 280 MB of transient
 * memory for a 140 MB evidence.json. The stream is deflated with zlib's defaults, as pdfkit does.
 */
function attachSource(doc: PDFKit.PDFDocument, bytes: Uint8Array, description: string, date: Date): void {
  const d = doc as unknown as {
    ref(data: object): PdfRef & { data: object };
    addNamedEmbeddedFile(name: string, ref: PdfRef): void;
    _root: { data: { AF?: PdfRef[] } };
  };
  const name = 'evidence.json';
  const file = d.ref({
    Type: 'EmbeddedFile',
    Params: {
      CreationDate: date,
      ModDate: date,
      // ISO 32000-1 §7.11.4: the checksum of the uncompressed file; pdfkit writes it as hex text.
      CheckSum: new String(createHash('md5').update(bytes).digest('hex')),
      Size: bytes.byteLength,
    },
    Subtype: 'application#2Fjson',
    Filter: 'FlateDecode',
  });
  file.end(deflateSync(bytes));
  const spec = d.ref({
    Type: 'Filespec',
    AFRelationship: 'Source',
    F: new String(name),
    EF: { F: file },
    UF: new String(name),
    Desc: new String(description),
  });
  spec.end();
  d.addNamedEmbeddedFile(name, spec);
  d._root.data.AF = [...(d._root.data.AF ?? []), spec];
}

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
    // Pages stream out as they are finished (the footer is drawn on each page before it leaves):
    // a buffered 3,000-page document held every content stream until the end, 2 GB of RSS.
    bufferPages: false,
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
  // The render is synchronous, so a 'data' listener would see nothing until it ends: the stream
  // would buffer every piece pdfkit pushes (millions of small arrays, ~50 KB per page). Its bytes go
  // straight into a sink of 1 MB blocks instead; only the end of the stream goes through the stream.
  const out = new ByteSink();
  // The header, written by the constructor, is already in the stream's buffer.
  for (let head = doc.read() as Uint8Array | null; head !== null; head = doc.read() as Uint8Array | null)
    out.push(head);
  const stream = doc as unknown as { push(chunk: Uint8Array | null): boolean };
  const push = stream.push.bind(stream);
  stream.push = (chunk: Uint8Array | null): boolean => {
    if (chunk === null) return push(null);
    out.push(chunk);
    return true;
  };
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.resume();

  const fonts = loadFontSet();
  // pdfkit accepts a parsed fontkit font wherever it accepts font bytes (PDFFontFactory.open checks
  // for `layout`); sharing the parsed fonts saves re-parsing 6 MB of font files per render.
  const asSource = (f: unknown) => f as PDFKit.Mixins.PDFFontSource;
  doc.registerFont('regular', asSource(fonts.fonts.regular));
  doc.registerFont('bold', asSource(fonts.fonts.bold));
  doc.registerFont('mono', asSource(fonts.fonts.mono));
  doc.registerFont('cjk', asSource(fonts.fonts.cjk));

  attachSource(doc, evidenceJson, `The evidence this PDF shows; sha256 ${model.evidenceSha256}`, date);
  // pdfkit writes xmp:CreateDate but not xmp:ModifyDate; PDF/A wants the Info ModDate in XMP too.
  doc.appendXML(
    `<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:ModifyDate>${
      date.toISOString().split('.')[0]
    }Z</xmp:ModifyDate></rdf:Description>`,
  );

  const w = new PdfWriter(doc, fonts);
  const total = new PageTotal(doc, FOOTER_SIZE, MUTED);
  w.onPageEnd = (n) => writeFooter(w, model, n, total);
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
  total.write(w.pageNumber);

  doc.end();
  await done;
  return out.bytes();
}

/**
 * Collects the document's bytes in 1 MB blocks. pdfkit pushes every token it writes ("12 0 obj", a
 * dictionary, "endobj") as a typed array of its own: a 5,000-page document is millions of them,
 * which, kept until the end, held more memory than the PDF itself.
 */
class ByteSink {
  private static readonly BLOCK = 1 << 20;
  private readonly full: Uint8Array[] = [];
  private block = new Uint8Array(ByteSink.BLOCK);
  private used = 0;

  push(chunk: Uint8Array): void {
    let from = 0;
    while (from < chunk.byteLength) {
      if (this.used === this.block.byteLength) {
        this.full.push(this.block);
        this.block = new Uint8Array(ByteSink.BLOCK);
        this.used = 0;
      }
      const n = Math.min(chunk.byteLength - from, this.block.byteLength - this.used);
      this.block.set(chunk.subarray(from, from + n), this.used);
      this.used += n;
      from += n;
    }
  }

  /** All bytes written, in one array; the blocks are let go as they are copied. */
  bytes(): Uint8Array {
    const size = this.full.length * ByteSink.BLOCK + this.used;
    const all = new Uint8Array(size);
    let at = 0;
    for (let i = 0; i < this.full.length; i++) {
      all.set(this.full[i] as Uint8Array, at);
      at += ByteSink.BLOCK;
      this.full[i] = EMPTY;
    }
    all.set(this.block.subarray(0, this.used), at);
    this.block = EMPTY;
    this.used = 0;
    return all;
  }
}
const EMPTY = new Uint8Array(0);

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
        'session tables, and each row of this register links to the page of its session. The disposition ' +
        'column is left for the reviewer.',
      { size: 8, color: MUTED },
    );
    w.table(
      f.register,
      { widths: [20, 40, 158, 62, 70, 50, 51, 60], size: 6.8, maxLines: 8 },
      { tagging: 'rows', links: f.registerLinks },
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
  for (let i = 0; i < m.sessions.length; i++) {
    // Built here, one at a time, and let go once drawn.
    const s = m.sessions.at(i);
    // Start a session where its identity and a few activity rows fit, not at the foot of a page.
    w.ensure(260);
    w.heading(`${i + 1}. ${s.title}`, 2, sessionDestination(s.id));
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
  }
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
    w.heading(block.host, 2, orphanDestination(block.host));
    w.table(block.groups, { widths: [120, 55, 70, 70, 36, 80, 80], size: 7.5 });
  }
}

function writeDataQuality(w: PdfWriter, m: RenderModel): void {
  const q = m.dataQuality;
  w.beginSection('Data quality and coverage', { newPage: 'portrait' });
  w.heading('Records per source', 2);
  w.table(q.sources, { widths: [50, 34, 48, 48, 48, 48, 45, 50, 140], size: 7.5 });
  w.heading('Input files', 2);
  w.paragraph(q.inputs.note, { size: 8.5 });
  if (q.inputs.table.rows.length > 0)
    w.table(
      q.inputs.table,
      { widths: [42, 160, 38, 80, 45, 35, 38, 73], size: 6.8, mono: [1, 7] },
      { tagging: 'rows' },
    );
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

const FOOTER_SIZE = 7.5;

/**
 * The footer of page `n`: pack id, short digest, and "page n of N". N is not known while pages
 * stream out, so it is one form XObject that every footer draws and that is written after the last
 * page ({@link PageTotal}).
 */
function writeFooter(w: PdfWriter, m: RenderModel, n: number, total: PageTotal): void {
  const doc = w.doc;
  const width = doc.page.width;
  const y = doc.page.height - PAGE_MARGIN.bottom + 22;
  const text = `Pack ${m.packId}  ·  evidence.json sha256 ${m.shortSha256}…  ·  page ${n} of `;
  w.artifact(() => {
    doc
      .moveTo(PAGE_MARGIN.side, y - 6)
      .lineTo(width - PAGE_MARGIN.side, y - 6)
      .lineWidth(0.4)
      .stroke('#b8b8b8');
    const drawn = w.drawLine(text, PAGE_MARGIN.side, y, { size: FOOTER_SIZE, color: MUTED });
    total.place(PAGE_MARGIN.side + drawn, y);
  }, 'Pagination');
}

/**
 * The page count as a form XObject (ISO 32000-1 §8.10): placed on every page while the document
 * streams, its content (the number, in the regular font) written once the count is known. Text in a
 * form XObject is extracted with its page (poppler, veraPDF read it like page text).
 */
class PageTotal {
  private readonly doc: PDFKit.PDFDocument;
  private readonly size: number;
  private readonly color: string;
  private readonly form: PdfRef;
  private readonly font: PdfFont;

  constructor(doc: PDFKit.PDFDocument, size: number, color: string) {
    this.doc = doc;
    this.size = size;
    this.color = color;
    const internals = doc as unknown as { _font: PdfFont | undefined; ref(data: object): PdfRef };
    const previous = internals._font;
    doc.font('regular');
    this.font = internals._font as PdfFont;
    if (previous) (doc as unknown as { _font: PdfFont })._font = previous;
    this.form = internals.ref({
      Type: 'XObject',
      Subtype: 'Form',
      // Room for a five-digit count at this size; the form clips to its box.
      BBox: [0, -size, size * 5, size * 1.5],
      Resources: { Font: { F1: this.font.ref() } },
    });
  }

  /** Draws the count with its baseline where text drawn at top `y` would have it, starting at `x`. */
  place(x: number, y: number): void {
    const doc = this.doc;
    const page = doc.page as unknown as { xobjects: Record<string, PdfRef> };
    page.xobjects.PageTotal = this.form;
    const baseline = y + (this.font.ascender / 1000) * this.size;
    doc.save();
    // The page's space runs downward (pdfkit flips it); the form's text runs upward.
    doc.transform(1, 0, 0, -1, x, baseline);
    doc.addContent('/PageTotal Do');
    doc.restore();
  }

  /** Writes the form's content: the page count. Call after the last page, before `doc.end()`. */
  write(pages: number): void {
    const [glyphs] = this.font.encode(String(pages));
    const rgb = [1, 3, 5].map((i) => (Number.parseInt(this.color.slice(i, i + 2), 16) / 255).toFixed(3));
    this.form.end(`BT /F1 ${this.size} Tf ${rgb.join(' ')} rg 0 0 Td <${glyphs.join('')}> Tj ET`);
  }
}

/** The parts of pdfkit's object reference and embedded font that {@link PageTotal} uses (pdfkit 0.20). */
interface PdfRef {
  end(chunk?: string | Uint8Array): void;
}
interface PdfFont {
  readonly ascender: number;
  ref(): PdfRef;
  encode(text: string): [string[], unknown];
}

/** pdfkit copies Info strings into the XMP packet unescaped: keep XML metacharacters out of them. */
function xmpSafe(s: string): string {
  return s.replace(/[<>&]/g, ' ');
}
