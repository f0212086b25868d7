/**
 * The writer draws and measures text itself rather than through pdfkit's `text()` and
 * `widthOfString()` (lib/render/pdf/pdf-writer.ts). These tests hold it to pdfkit's own output:
 * a document drawn by the writer and the same document drawn through pdfkit's calls, as the writer
 * did before, are the same bytes; and the wrap, which stops measuring a cell once it overflows,
 * breaks lines where measuring the whole cell first breaks them.
 */
import fc from 'fast-check';
import PDFDocument from 'pdfkit';
import { describe, expect, it } from 'vitest';
import { type FontRole, loadFontSet, splitRuns } from '../../../lib/render/pdf/font-set.ts';
import { PdfWriter } from '../../../lib/render/pdf/pdf-writer.ts';

const DATE = new Date('2024-03-09T10:15:00.000Z');

/** Renders with `draw` on one page of an uncompressed document (the content readable) and returns its bytes. */
async function render(draw: (w: PdfWriter) => void): Promise<Buffer> {
  const doc = new PDFDocument({
    autoFirstPage: false,
    compress: false,
    tagged: true,
    info: { CreationDate: DATE, ModDate: DATE },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve) => doc.on('end', resolve));
  const fonts = loadFontSet();
  for (const role of ['regular', 'bold', 'mono', 'cjk'] as const)
    doc.registerFont(role, fonts.fonts[role] as unknown as PDFKit.Mixins.PDFFontSource);
  const w = new PdfWriter(doc, fonts);
  w.newPage('portrait');
  draw(w);
  w.finish();
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

/** A line drawn as the writer drew it before: colour, size, then pdfkit's text() per font run. */
function drawThroughPdfkit(
  doc: PDFKit.PDFDocument,
  text: string,
  x: number,
  y: number,
  role: Exclude<FontRole, 'cjk'>,
  size: number,
  color: string,
): void {
  doc.fillColor(color);
  doc.fontSize(size);
  let at = x;
  for (const run of splitRuns(loadFontSet(), role, text)) {
    doc.font(run.fallback ? 'cjk' : role);
    doc.text(run.text, at, y, { lineBreak: false });
    at += doc.widthOfString(run.text);
  }
}

const LINES: readonly [text: string, role: Exclude<FontRole, 'cjk'>, size: number, color: string][] = [
  // Kerning pairs (AV, Ta, Wo) make TJ adjustments; a combining acute is positioned by an offset.
  ['AVATAR Tokyo WAVE Wolf, Type 10 logon', 'regular', 9, '#1a1a1a'],
  ['café résumé e\u0301 a\u0308 o\u0323', 'regular', 7.5, '#5a5a5a'],
  ['Jürgen Łukasz 山田太郎 logon at 2024-03-01 12:00:00Z', 'bold', 11.5, '#1a1a1a'],
  ['C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile', 'mono', 6.8, '#1a1a1a'],
  ['two  spaces\tand a tab', 'regular', 8, '#9d1c20'],
  ['a line\nwith a newline', 'regular', 8, '#1a1a1a'],
  ['', 'regular', 8, '#1a1a1a'],
  ['named colour', 'regular', 8, 'red'],
];

describe('PdfWriter text', () => {
  it('draws each line as the same bytes as pdfkit text() does', async () => {
    const ours = await render((w) => {
      LINES.forEach(([text, role, size, color], i) => {
        w.drawLine(text, 42 + i, 60 + i * 20, { role, size, color });
      });
    });
    const pdfkits = await render((w) => {
      LINES.forEach(([text, role, size, color], i) => {
        drawThroughPdfkit(w.doc, text, 42 + i, 60 + i * 20, role, size, color);
      });
    });
    // The content holds kerning adjustments and an offset glyph: the cases the writer rebuilds.
    const content = ours.toString('latin1');
    expect(content).toMatch(/> -?\d+(\.\d+)? <[0-9a-f]+>/);
    expect(content).toMatch(/\nET\nQ\n/);
    expect(ours.equals(pdfkits)).toBe(true);
  });

  it('returns the width pdfkit measures for a line, CJK runs included', async () => {
    await render((w) => {
      for (const [text, role, size] of LINES) {
        let expected = 0;
        for (const run of splitRuns(loadFontSet(), role, text)) {
          w.doc.font(run.fallback ? 'cjk' : role).fontSize(size);
          expected += w.doc.widthOfString(run.text);
        }
        if (!text.includes('\n')) expect(w.measure(text, role, size)).toBe(expected);
      }
    });
  });

  it('wraps exactly where measuring each whole paragraph first wraps', async () => {
    // Texts of the shapes the PDF wraps: paths, command lines, record references, names, CJK.
    const word = fc.constantFrom(
      'C:\\Windows\\System32\\cmd.exe',
      's3://logs/windows/SRV-FILE01/2024/03/01/part-0001.json.gz#6653);',
      '-NoProfile',
      'Where-Object',
      '2024-03-01',
      '12:05:37Z',
      '山田太郎',
      'jürgen.müller-adm',
      'AVATAR',
      'a',
      'x'.repeat(90),
      ',',
      ';',
    );
    const text = fc
      .array(fc.tuple(word, fc.constantFrom(' ', '', '/', '\\', ' | ', '=', '\n', '\t')), { maxLength: 14 })
      .map((parts) => parts.map(([a, b]) => a + b).join(''));
    await render((w) => {
      fc.assert(
        fc.property(
          text,
          fc.constantFrom(30, 80.6, 145.6, 398.5),
          fc.constantFrom('regular', 'bold', 'mono') as fc.Arbitrary<Exclude<FontRole, 'cjk'>>,
          fc.constantFrom(6.8, 7.5, 9),
          (t, width, role, size) => {
            expect(w.wrap(t, width, role, size)).toEqual(wrapMeasuringFirst(w, t, width, role, size));
          },
        ),
        { numRuns: 300, seed: 15 },
      );
    });
  });
});

/** The wrap as the writer did it before: the whole paragraph measured first (see PdfWriter.wrap). */
function wrapMeasuringFirst(
  w: PdfWriter,
  text: string,
  width: number,
  role: Exclude<FontRole, 'cjk'>,
  size: number,
): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    if (w.measure(paragraph, role, size) <= width) {
      out.push(paragraph);
      continue;
    }
    const tokens = paragraph.match(/[^\s\\/|,;=]*[\s\\/|,;=]?/g)?.filter((t) => t !== '') ?? [paragraph];
    let line = '';
    let lineWidth = 0;
    for (const token of tokens) {
      const tw = w.measure(token, role, size);
      if (lineWidth + tw <= width) {
        line += token;
        lineWidth += tw;
        continue;
      }
      if (line !== '') out.push(line.trimEnd());
      if (tw <= width) {
        line = token;
        lineWidth = tw;
        continue;
      }
      line = '';
      lineWidth = 0;
      for (const ch of token) {
        const cw = w.measure(ch, role, size);
        if (lineWidth + cw > width && line !== '') {
          out.push(line);
          line = '';
          lineWidth = 0;
        }
        line += ch;
        lineWidth += cw;
      }
    }
    if (line !== '') out.push(line.trimEnd());
  }
  return out.length > 0 ? out : [''];
}
