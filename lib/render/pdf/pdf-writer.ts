/**
 * Layout primitives over pdfkit: text runs with font fallback, wrapping, tables with repeated headers,
 * page breaks and the structure tags of a tagged PDF. Everything is drawn at explicit positions:
 * pdfkit's own line wrapper is the slowest part of pdfkit, and owning the wrapping keeps row heights
 * exact, so pagination never depends on pdfkit moving the cursor. Each line's text object is
 * written here as pdfkit 0.20's `text(…, { lineBreak: false })` writes it, byte for byte (held so by
 * test/render/pdf/pdf-writer.test.ts: check it again when pdfkit is upgraded), from word layouts
 * this writer caches.
 */
import { SessiontrailError } from '../../errors.ts';
import type { Fact, Table } from '../render-model.ts';
import { type FontRole, type FontSet, splitRuns } from './font-set.ts';

/** Page geometry in PDF points. */
const A4: Readonly<Record<Orientation, { width: number; height: number }>> = {
  portrait: { width: 595.28, height: 841.89 },
  landscape: { width: 841.89, height: 595.28 },
};
const MARGIN = { top: 44, bottom: 52, side: 42 };

/** Page orientation. */
export type Orientation = 'portrait' | 'landscape';

/** Text style. */
export interface TextStyle {
  readonly role?: Exclude<FontRole, 'cjk'>;
  readonly size?: number;
  readonly color?: string;
}

/** Column layout of a table: widths in points; text wraps within them. */
export interface ColumnSpec {
  readonly widths: readonly number[];
  readonly size?: number;
  /** Monospace columns (digests, command lines). */
  readonly mono?: readonly number[];
  /** Most lines one cell may take; the rest is cut with a note that evidence.json has it all. */
  readonly maxLines?: number;
}

type Doc = PDFKit.PDFDocument;
/** The part of pdfkit's page content stream (a PDFReference) that the writer coalesces. */
interface ContentRef {
  write(chunk: string | Uint8Array): void;
  end(chunk?: string | Uint8Array): void;
}
type StructElement = PDFKit.PDFStructureElement;
/** A glyph's placement as pdfkit's embedded font lays it out (scaled to 1000 units per em). */
interface GlyphPlacement {
  readonly xAdvance: number;
  readonly xOffset: number;
  readonly yOffset: number;
  readonly advanceWidth: number;
}
/** A glyph of a fontkit layout: the parts pdfkit's `encode` reads. */
interface LaidGlyph {
  readonly id: number;
  readonly advanceWidth: number;
  readonly codePoints: readonly number[];
}
/** A fontkit glyph run as pdfkit's embedded font lays a word out (`layoutRun`). */
interface GlyphRun {
  readonly glyphs: readonly LaidGlyph[];
  readonly positions: readonly GlyphPlacement[];
  readonly advanceWidth: number;
}
/** The parts of pdfkit 0.20's embedded font (EmbeddedFont) that the text path uses. */
interface EmbeddedFont {
  readonly id: string;
  readonly ascender: number;
  readonly scale: number;
  readonly subset: { includeGlyph(id: number): number };
  readonly widths: (number | undefined)[];
  readonly unicode: (readonly number[] | undefined)[];
  layoutCache?: Record<string, GlyphRun>;
  layoutCached(text: string): GlyphRun;
  layoutRun(text: string): GlyphRun;
  ref(): unknown;
}
/** The parts of pdfkit 0.20's document state that the text path reads and sets. */
interface DocText {
  _font: EmbeddedFont;
  _fontSize: number;
  _fillColor: unknown;
  readonly page: { readonly height: number; readonly fonts: Record<string, unknown> };
}

const INK = '#1a1a1a';
const MUTED = '#5a5a5a';
const RULE = '#b8b8b8';
const HEAD_FILL = '#e8ecf1';
const LINE_GAP = 1.25;
/** pdfkit's per-word glyph layouts are aged every this many pages (see {@link WordLayouts}). */
const LAYOUT_CACHE_PAGES = 20;
/** Size of the blocks a page's content operators are gathered in. */
const CONTENT_BLOCK = 65_536;
/** Most text widths memoised at once (a few MB). */
const WIDTH_CACHE_ENTRIES = 50_000;

/** Writes flowing content onto the pages of one pdfkit document. */
export class PdfWriter {
  readonly doc: Doc;
  private readonly fonts: FontSet;
  private readonly root: StructElement;
  private section: StructElement | null = null;
  private orientation: Orientation = 'portrait';
  /** Widths by font and size, then text: tables measure the same tokens (paths, codes) thousands of times. */
  private readonly widths = new Map<string, Map<string, number>>();
  private widthEntries = 0;
  private state = { font: '', size: 0 };
  /** The word layouts and glyph codes of each pdfkit font this writer has used. */
  private readonly fontCaches = new Map<EmbeddedFont, FontCache>();
  /** The fill colour operators per colour (see {@link fillOperators}). */
  private readonly fills = new Map<string, string>();
  /** Current vertical position on the page. */
  y = MARGIN.top;
  /** Pages begun so far; the current page's number (1-based). */
  pageNumber = 0;
  /**
   * Called on each page once its content is complete (before the next page begins, and by
   * {@link finish} for the last): the document streams its pages out, so page furniture such as
   * the footer is drawn then, never by going back to an earlier page.
   */
  onPageEnd: ((pageNumber: number) => void) | null = null;

  constructor(doc: Doc, fonts: FontSet) {
    this.doc = doc;
    this.fonts = fonts;
    this.root = doc.struct('Document');
    doc.addStructure(this.root);
  }

  get left(): number {
    return MARGIN.side;
  }
  get width(): number {
    return A4[this.orientation].width - 2 * MARGIN.side;
  }
  get bottom(): number {
    return A4[this.orientation].height - MARGIN.bottom;
  }
  /** Space left on this page. */
  get room(): number {
    return this.bottom - this.y;
  }

  /** Starts a new page (the first call uses the page pdfkit was created without). */
  newPage(orientation: Orientation = this.orientation): void {
    if (this.pageNumber > 0) this.endPage();
    this.orientation = orientation;
    this.pageNumber += 1;
    this.doc.addPage({ size: 'A4', layout: orientation, margins: { top: 0, bottom: 0, left: 0, right: 0 } });
    this.coalesceContent();
    this.y = MARGIN.top;
  }

  /** Moves to a new page unless `height` points still fit on this one. */
  ensure(height: number): boolean {
    if (this.y + height <= this.bottom) return false;
    this.newPage();
    return true;
  }

  /** Opens a tagged section with an H1 heading; closes the previous one. */
  beginSection(title: string, options: { newPage?: Orientation } = {}): void {
    this.endSection();
    if (options.newPage) this.newPage(options.newPage);
    this.section = this.doc.struct('Sect', { title });
    this.root.add(this.section);
    this.heading(title, 1);
  }

  /** Closes the open section so that its structure can be written out. */
  endSection(): void {
    this.section?.end();
    this.section = null;
  }

  /** Closes the structure tree and the last page; call once after the last content. */
  finish(): void {
    this.endSection();
    this.root.end();
    if (this.pageNumber > 0) this.endPage();
  }

  /**
   * pdfkit turns every content operator into its own small byte array, kept until the page ends: a
   * page of tables is thousands of them, which outlive the young generation and leave the old one
   * full of garbage. The page's operators are gathered as text and handed over in 64 KB pieces.
   */
  private coalesceContent(): void {
    const content = (this.doc.page as unknown as { content: ContentRef }).content;
    const write = content.write.bind(content);
    const end = content.end.bind(content);
    // The operators go straight into 64 KB blocks as bytes: pdfkit appends a newline to each string
    // it is given and keeps the low byte of each character (fromBinaryString, a loop in JavaScript);
    // Node's latin1 encoder does the same natively.
    let block = Buffer.allocUnsafe(CONTENT_BLOCK);
    let used = 0;
    const flush = () => {
      if (used === 0) return;
      write(block.subarray(0, used));
      block = Buffer.allocUnsafe(CONTENT_BLOCK);
      used = 0;
    };
    content.write = (chunk: string | Uint8Array) => {
      if (typeof chunk !== 'string') {
        flush();
        write(chunk);
        return;
      }
      if (used + chunk.length + 1 > block.length) {
        flush();
        if (chunk.length + 1 > block.length) block = Buffer.allocUnsafe(chunk.length + 1);
      }
      used += block.write(chunk, used, 'latin1');
      block[used++] = 0x0a;
    };
    content.end = (chunk?: string | Uint8Array) => {
      flush();
      end(chunk);
    };
  }

  private endPage(): void {
    this.onPageEnd?.(this.pageNumber);
    if (this.pageNumber % LAYOUT_CACHE_PAGES === 0) for (const cache of this.fontCaches.values()) cache.age();
  }

  /** Makes `font` pdfkit's current font. */
  private setFont(font: FontRole): void {
    this.doc.font(font);
    this.state.font = font;
  }

  /** The {@link FontCache} of pdfkit's current font, made when the font is first used. */
  private currentFont(): FontCache {
    const current = (this.doc as unknown as DocText)._font;
    let cache = this.fontCaches.get(current);
    if (cache === undefined) {
      cache = new FontCache(current);
      this.fontCaches.set(current, cache);
    }
    return cache;
  }

  /**
   * A heading (H1 or H2), kept with at least a few lines of what follows; `destination` names it as
   * a link target (a PDF named destination, so links can point to pages not yet written).
   */
  heading(text: string, level: 1 | 2, destination?: string): void {
    const size = level === 1 ? 15 : 11.5;
    this.ensure(size * 4);
    this.y += level === 1 ? 2 : 6;
    if (destination) this.doc.addNamedDestination(destination, 'XYZ', this.left, this.y, null);
    this.tagged(`H${level}`, () => {
      this.draw(text, this.left, this.y, { role: 'bold', size, color: INK }, false);
    });
    this.y += size * 1.45;
  }

  /** A wrapped paragraph; breaks across pages line by line. */
  paragraph(text: string, style: TextStyle = {}): void {
    const size = style.size ?? 9;
    const lines = this.wrap(text, this.width, style.role ?? 'regular', size);
    const lineHeight = size * LINE_GAP;
    let batch: string[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      const at = this.y;
      const draw = batch;
      this.tagged('P', () => {
        draw.forEach((line, i) => {
          this.draw(line, this.left, at + i * lineHeight, { ...style, size }, false);
        });
      });
      this.y += draw.length * lineHeight;
      batch = [];
    };
    for (const line of lines) {
      if (this.y + (batch.length + 1) * lineHeight > this.bottom) {
        flush();
        this.newPage();
      }
      batch.push(line);
    }
    flush();
    this.y += size * 0.6;
  }

  /** Label–value pairs in two columns; values wrap. */
  facts(facts: readonly Fact[], labelWidth = 150, size = 9, tagging: 'cells' | 'rows' = 'cells'): void {
    this.table(
      { headers: ['', ''], rows: facts.map((f) => [f.label, f.value]) },
      { widths: [labelWidth, this.width - labelWidth], size },
      { header: false, labelColumn: true, tagging },
    );
  }

  /**
   * A table with a header row repeated on every page it spans. Cells wrap inside their column;
   * rows never split across pages.
   */
  table(
    table: Table,
    spec: ColumnSpec,
    options: {
      header?: boolean;
      labelColumn?: boolean;
      zebra?: boolean;
      /**
       * `cells` tags TR/TD per cell; `rows` tags the rows of the table on each page as one P (their
       * text in reading order, row by row). Long tables use `rows`: seven structure elements per row
       * tripled the file size and cost a quarter of the render time, and one per row still kept
       * about 15 KB per page alive to the end (the parent tree holds every element).
       */
      tagging?: 'cells' | 'rows';
      /** Per row, a named destination the whole row links to (a GoTo link annotation), or null. */
      links?: readonly (string | null)[];
    } = {},
  ): void {
    const doc = this.doc;
    const size = spec.size ?? 7.5;
    const lineHeight = size * LINE_GAP;
    const pad = 2.2;
    const withHeader = options.header !== false;
    const mono = new Set(spec.mono ?? []);
    const maxLines = spec.maxLines ?? 12;
    const tableStruct = doc.struct('Table');
    this.section?.add(tableStruct);

    const headerLines = table.headers.map((h, i) =>
      this.wrap(h, (spec.widths[i] ?? 40) - 2 * pad, 'bold', size),
    );
    const headerHeight = Math.max(1, ...headerLines.map((l) => l.length)) * lineHeight + 2 * pad;
    const drawHeader = (tagged: boolean) => {
      if (!withHeader) return;
      const top = this.y;
      this.artifact(() => {
        doc.rect(this.left, top, sum(spec.widths), headerHeight).fill(HEAD_FILL);
      });
      const cells = (x: number, i: number) => {
        headerLines[i]!.forEach((line, k) => {
          this.draw(line, x + pad, top + pad + k * lineHeight, { role: 'bold', size, color: INK }, false);
        });
      };
      if (tagged) {
        const tr = doc.struct('TR');
        tableStruct.add(tr);
        this.eachColumn(spec.widths, (x, i) => {
          tr.add(doc.struct('TH', {}, [this.content('TH', () => cells(x, i))]));
        });
        tr.end();
      } else {
        // A repeated header is page furniture: the structure tree has the header once.
        this.artifact(() => this.eachColumn(spec.widths, cells), 'Pagination');
      }
      this.y += headerHeight;
    };

    if (this.ensure(headerHeight + lineHeight + 2 * pad)) {
      // fresh page: nothing to do, header follows
    }
    drawHeader(true);
    // `rows` tagging: the rows of this page, drawn (text only) as one marked-content sequence when
    // the page is full or the table ends; their fills and rules, artifacts, are drawn as they come.
    let block: (() => void)[] = [];
    const endBlock = () => {
      if (block.length === 0) return;
      const draws = block;
      block = [];
      tableStruct.add(
        doc.struct('P', {}, [
          this.content('P', () => {
            for (const draw of draws) draw();
          }),
        ]),
      );
    };
    let index = 0;
    for (const row of table.rows) {
      const lines = row.map((cell, i) => {
        const role = options.labelColumn && i === 0 ? 'bold' : mono.has(i) ? 'mono' : 'regular';
        const wrapped = this.wrap(cell, (spec.widths[i] ?? 40) - 2 * pad, role, size);
        if (wrapped.length <= maxLines) return { role, wrapped };
        const kept = wrapped.slice(0, maxLines);
        const cut = wrapped.slice(maxLines).join('').length;
        kept.push(`… ${cut} more characters in evidence.json`);
        return { role, wrapped: kept };
      });
      const height = Math.max(1, ...lines.map((l) => l.wrapped.length)) * lineHeight + 2 * pad;
      if (this.y + height > this.bottom) {
        endBlock();
        this.newPage();
        drawHeader(false);
      }
      const top = this.y;
      const link = options.links?.[index];
      if (link) doc.goTo(this.left, top, sum(spec.widths), height, link);
      this.artifact(() => {
        if (options.zebra !== false && index % 2 === 1) {
          doc.rect(this.left, top, sum(spec.widths), height).fill('#f6f7f9');
        }
        doc
          .moveTo(this.left, top + height)
          .lineTo(this.left + sum(spec.widths), top + height)
          .lineWidth(0.3)
          .stroke(RULE);
      });
      const drawCell = (x: number, i: number) => {
        const cell = lines[i];
        if (!cell) return;
        cell.wrapped.forEach((line, k) => {
          this.draw(
            line,
            x + pad,
            top + pad + k * lineHeight,
            {
              role: cell.role as TextStyle['role'],
              size,
              color: options.labelColumn && i === 0 ? MUTED : INK,
            },
            false,
          );
        });
      };
      if (options.tagging === 'rows') {
        block.push(() => this.eachColumn(spec.widths, drawCell));
      } else {
        const tr = doc.struct('TR');
        tableStruct.add(tr);
        this.eachColumn(spec.widths, (x, i) => {
          tr.add(doc.struct('TD', {}, [this.content('TD', () => drawCell(x, i))]));
        });
        tr.end();
      }
      this.y += height;
      index++;
    }
    endBlock();
    tableStruct.end();
    this.y += size;
  }

  /** Calls `fn(x, i)` for each column's left edge. */
  private eachColumn(widths: readonly number[], fn: (x: number, i: number) => void): void {
    let x = this.left;
    widths.forEach((w, i) => {
      fn(x, i);
      x += w;
    });
  }

  /**
   * Draws one line of text at (x, y), switching to the CJK font for runs the primary font lacks.
   * Returns the width drawn.
   */
  drawLine(text: string, x: number, y: number, style: TextStyle = {}): number {
    return this.draw(text, x, y, style, true);
  }

  /**
   * {@link drawLine}, measuring only what placing the next run needs when `measured` is false (the
   * tables and paragraphs place each line themselves and never use its width).
   */
  private draw(text: string, x: number, y: number, style: TextStyle, measured: boolean): number {
    const role = style.role ?? 'regular';
    const size = style.size ?? 9;
    const color = style.color ?? INK;
    // The fill colour is page state (a new page starts black, and fills change it): set it every time.
    // The font is document state in pdfkit, written into each text object: set it only when it changes.
    let ops = this.fillOperators(color);
    if (this.state.size !== size) {
      this.doc.fontSize(size);
      this.state.size = size;
    }
    const runs = splitRuns(this.fonts, role, text);
    let at = x;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i] as (typeof runs)[number];
      const font = run.fallback ? 'cjk' : role;
      if (this.state.font !== font) this.setFont(font);
      ops = this.appendText(ops, run.text, at, y);
      if (measured || i < runs.length - 1) at += this.runWidth(run.text, font, size);
    }
    if (ops !== '') this.doc.addContent(ops);
    return at - x;
  }

  /**
   * The operators that set the fill colour, as pdfkit's `fillColor` writes them (colour space, then
   * the components, each the byte over 255), made once per colour: tables set it for every line.
   */
  private fillOperators(color: string): string {
    let ops = this.fills.get(color);
    if (ops === undefined) {
      if (!/^#[0-9a-fA-F]{6}$/.test(color)) {
        // Not a colour this writer uses: let pdfkit write it.
        this.doc.fillColor(color);
        return '';
      }
      const hex = Number.parseInt(color.slice(1), 16);
      const rgb = [hex >> 16, (hex >> 8) & 0xff, hex & 0xff].map((part) => part / 255);
      ops = `/DeviceRGB cs\n${rgb.join(' ')} scn`;
      this.fills.set(color, ops);
    }
    (this.doc as unknown as DocText)._fillColor = [color, undefined];
    return ops;
  }

  /**
   * Appends to `ops` the operators that draw `text` in the current font with its top at (x, y),
   * exactly as pdfkit's `text(text, x, y, { lineBreak: false })` writes them (pdfkit 0.20 `_text`,
   * `_line` and `_fragment`, left-aligned, no spacing options): the same text object, glyph codes
   * and kerning adjustments. pdfkit's path measures each fragment twice more (for options this
   * writer never uses and for its own cursor) and sets the colour, the transform and each operator
   * through calls of their own; here the fragment is one string.
   */
  private appendText(ops: string, text: string, x: number, y: number): string {
    if (!text.includes('\n')) {
      if (text.length === 0) return ops;
      const fragment = this.fragment(text, x, y);
      return ops === '' ? fragment : `${ops}\n${fragment}`;
    }
    const lines = text.split('\n');
    let at = x;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.length > 0) {
        const fragment = this.fragment(line, at, y);
        ops = ops === '' ? fragment : `${ops}\n${fragment}`;
      }
      // pdfkit moves its cursor by the width of each line of a text with newlines.
      if (i < lines.length - 1) at += this.doc.widthOfString(line);
    }
    return ops;
  }

  /**
   * One text object (pdfkit 0.20 `_fragment` with its defaults, and `encode`), `text` without
   * newlines. Glyphs enter the font subset in the order pdfkit's `encode` adds them (the order
   * numbers them in the subset); runs of glyphs are split where the layout adjusts an advance
   * (kerning) or offsets a glyph, as pdfkit splits them.
   */
  private fragment(text: string, x: number, y: number): string {
    const d = this.doc as unknown as DocText;
    const font = d._font;
    const cache = this.currentFont();
    const size = d._fontSize;
    const page = d.page;
    // pdfkit's default baseline is the top: the ascender, in 1000 units per em, at the font size.
    const dy = (font.ascender / 1000) * size;
    const flipped = page.height - y - dy;
    if (page.fonts[font.id] == null) page.fonts[font.id] = font.ref();
    let out =
      `q\n1 0 0 -1 0 ${pdfNumber(page.height)} cm\nBT\n1 0 0 1 ${pdfNumber(x)} ${pdfNumber(flipped)} Tm\n` +
      `/${font.id} ${pdfNumber(size)} Tf`;
    const scale = size / 1000;
    // The TJ operands not yet written, and the glyph codes of the run being gathered, whose last
    // glyph's advance adjustment closes it. Inline rather than helper closures: this runs per line.
    let commands = '';
    let segment = '';
    let segmentAdjust = 0;
    let hadOffset = false;
    let cx = x;
    let last = 0;
    let index = 0;
    while (index <= text.length) {
      // Word by word as pdfkit 0.20's EmbeddedFont.layout splits text: each word ends after a space
      // or tab, which it keeps, and the last at the end of the text.
      const c = index < text.length ? text.charCodeAt(index) : -1;
      index += 1;
      if (!((index === text.length + 1 && last < index - 1) || c === 32 || c === 9)) continue;
      const { glyphs, placements } = cache.layout(text.slice(last, index));
      last = index;
      for (let k = 0; k < glyphs.length; k++) {
        const code = cache.code(glyphs[k] as LaidGlyph);
        const xAdvance = placements[4 * k] as number;
        const adjust = placements[4 * k + 1] as number;
        const xOffset = placements[4 * k + 2] as number;
        const yOffset = placements[4 * k + 3] as number;
        if (xOffset || yOffset) {
          // An offset glyph: what came before is written, then the glyph alone at its own position.
          if (segment !== '')
            commands = `${commands === '' ? '' : `${commands} `}<${segment}> ${pdfNumber(-segmentAdjust)}`;
          if (commands !== '') out += `\n[${commands}] TJ`;
          out += `\n1 0 0 1 ${pdfNumber(cx + xOffset * scale)} ${pdfNumber(flipped + yOffset * scale)} Tm`;
          out += `\n[<${code}> ${pdfNumber(-adjust)}] TJ`;
          commands = '';
          segment = '';
          hadOffset = true;
        } else {
          if (hadOffset) {
            out += `\n1 0 0 1 ${pdfNumber(cx)} ${pdfNumber(flipped)} Tm`;
            hadOffset = false;
          }
          segment += code;
          segmentAdjust = adjust;
          if (adjust !== 0) {
            commands = `${commands === '' ? '' : `${commands} `}<${segment}> ${pdfNumber(-adjust)}`;
            segment = '';
          }
        }
        cx += xAdvance * scale;
      }
    }
    if (segment !== '')
      commands = `${commands === '' ? '' : `${commands} `}<${segment}> ${pdfNumber(-segmentAdjust)}`;
    if (commands !== '') out += `\n[${commands}] TJ`;
    return `${out}\nET\nQ`;
  }

  /** Width of `text` at `size`, with the same font fallback as {@link drawLine}. */
  measure(text: string, role: Exclude<FontRole, 'cjk'>, size: number): number {
    let width = 0;
    for (const run of splitRuns(this.fonts, role, text))
      width += this.runWidth(run.text, run.fallback ? 'cjk' : role, size);
    return width;
  }

  /**
   * Whether `text` fits in `width` points: `measure(text, role, size) <= width`, decided as soon
   * as the words measured so far overflow. The words after them are not laid out: a long cell that
   * wraps is laid out again by tokens and by lines, and laying out all its words first was over a
   * third of the shaping a pack's render did. Exact, since a word's advance is never negative (the
   * glyphs' advances, unsigned in the font's hmtx table, less kerning far smaller than a glyph) and
   * every step of the sum (adding, scaling by the size) is monotonic in floating point too.
   */
  private fits(text: string, role: Exclude<FontRole, 'cjk'>, size: number, width: number): boolean {
    let total = 0;
    for (const run of splitRuns(this.fonts, role, text)) {
      total += this.runWidth(run.text, run.fallback ? 'cjk' : role, size, { before: total, limit: width });
      if (total > width) return false;
    }
    return total <= width;
  }

  /**
   * Width of a run in one font; memoised. Sets the font and size it measured with. With `overflow`,
   * stops at the first word that takes `before` plus the width so far past `limit`, and returns
   * Infinity (not memoised).
   */
  private runWidth(
    text: string,
    font: FontRole,
    size: number,
    overflow?: { readonly before: number; readonly limit: number },
  ): number {
    const key = `${font}|${size}`;
    let widths = this.widths.get(key);
    if (widths === undefined) {
      widths = new Map();
      this.widths.set(key, widths);
    }
    let width = widths.get(text);
    if (width === undefined) {
      if (this.state.font !== font) this.setFont(font);
      if (this.state.size !== size) {
        this.doc.fontSize(size);
        this.state.size = size;
      }
      // pdfkit's widthOfString: the sum of the words' advances, in this order, scaled to the size
      // (EmbeddedFont), then with no character spacing at 100 % horizontal scaling (the document).
      const cache = this.currentFont();
      let advance = 0;
      let last = 0;
      let index = 0;
      while (index <= text.length) {
        // Word by word as pdfkit splits text (see fragment).
        const c = index < text.length ? text.charCodeAt(index) : -1;
        index += 1;
        if (!((index === text.length + 1 && last < index - 1) || c === 32 || c === 9)) continue;
        advance += cache.layout(text.slice(last, index)).advance;
        last = index;
        if (
          overflow !== undefined &&
          index <= text.length &&
          overflow.before + ((advance * (size / 1000) + 0 * (text.length - 1)) * 100) / 100 > overflow.limit
        )
          return Number.POSITIVE_INFINITY;
      }
      width = ((advance * (size / 1000) + 0 * (text.length - 1)) * 100) / 100;
      // Bounded: a document repeats a small vocabulary (labels, codes, paths), but every timestamp and
      // command line is new; start over when full rather than hold them all.
      if (this.widthEntries >= WIDTH_CACHE_ENTRIES) {
        for (const entries of this.widths.values()) entries.clear();
        this.widthEntries = 0;
      }
      widths.set(text, width);
      this.widthEntries += 1;
    }
    return width;
  }

  /**
   * Greedy wrapping into lines of at most `width` points. Breaks after spaces and path or option
   * separators (command lines and file paths have few spaces), and inside a token only when the
   * token alone is wider than the column.
   */
  wrap(text: string, width: number, role: Exclude<FontRole, 'cjk'>, size: number): string[] {
    const out: string[] = [];
    for (const paragraph of text.split('\n')) {
      if (this.fits(paragraph, role, size, width)) {
        out.push(paragraph);
        continue;
      }
      const tokens = paragraph.match(/[^\s\\/|,;=]*[\s\\/|,;=]?/g)?.filter((t) => t !== '') ?? [paragraph];
      let line = '';
      let lineWidth = 0;
      for (const token of tokens) {
        const w = this.measure(token, role, size);
        if (lineWidth + w <= width) {
          line += token;
          lineWidth += w;
          continue;
        }
        if (line !== '') out.push(line.trimEnd());
        if (w <= width) {
          line = token;
          lineWidth = w;
          continue;
        }
        // A token wider than the column: cut it by characters.
        line = '';
        lineWidth = 0;
        for (const ch of token) {
          const cw = this.measure(ch, role, size);
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

  /** Runs `draw` inside a marked-content sequence tagged `tag`, added to the open section. */
  tagged(tag: string, draw: () => void, options: PDFKit.Mixins.StructureElementOptions = {}): void {
    const content = this.content(tag, draw);
    const element = this.doc.struct(tag, options, [content]);
    (this.section ?? this.root).add(element);
  }

  /** Draws inside a marked-content sequence and returns it, for the caller to place in the tree. */
  content(tag: string, draw: () => void): PDFKit.PDFStructureContent {
    const content = this.doc.markStructureContent(tag);
    draw();
    this.doc.endMarkedContent();
    return content;
  }

  /** Draws page furniture (rules, fills, footers) as an artifact, outside the structure tree. */
  artifact(draw: () => void, type: 'Pagination' | 'Layout' = 'Layout'): void {
    this.doc.markContent('Artifact', { type });
    draw();
    this.doc.endMarkedContent();
  }
}

/**
 * A word as pdfkit's embedded font lays it out (`layoutRun`), kept compact: fontkit's glyph run
 * carries per-run feature tables and a position object per glyph, which, kept for pages, made most
 * of what each young-generation collection had to copy.
 */
interface WordLayout {
  readonly glyphs: readonly LaidGlyph[];
  /**
   * Four numbers per glyph, in 1000 units per em as pdfkit scales them: the advance, its
   * adjustment by the layout (advance less the glyph's own width: kerning), and the x and y offsets.
   */
  readonly placements: readonly number[];
  /** The run's width: the sum of the advances, in order (fontkit's GlyphRun.advanceWidth). */
  readonly advance: number;
}

function compact(run: GlyphRun): WordLayout {
  const placements: number[] = [];
  for (const p of run.positions)
    placements.push(p.xAdvance, p.xAdvance - p.advanceWidth, p.xOffset, p.yOffset);
  return { glyphs: run.glyphs, placements, advance: run.advanceWidth };
}

/**
 * What drawing and measuring text needs from one pdfkit font, computed once.
 *
 * Word layouts: pdfkit lays text out word by word (fontkit's shaping, the costliest step of drawing
 * a line) and kept the layout of every distinct word for the whole document (EmbeddedFont
 * .layoutCache): on a 3,000-page pack that was most of the memory a render held. This cache keeps
 * two generations instead, aged every {@link LAYOUT_CACHE_PAGES} pages: a word used again in the
 * next generation is carried over, so the words pages repeat (headers, labels, codes, paths) are
 * laid out once per document, while the words seen once (timestamps, record references) are let go
 * after two generations. Emptying pdfkit's cache every 40 pages, as before, laid out a sixth of the
 * words again. pdfkit's own `layoutCached` is pointed at this cache, so it and this writer share
 * the same layouts; the layouts are fontkit's, unchanged.
 *
 * Glyph codes: the hex code of each glyph in the font subset, added to the subset on first use as
 * pdfkit's `encode` adds it.
 */
class FontCache {
  private young: Record<string, WordLayout> = Object.create(null);
  private old: Record<string, WordLayout> = Object.create(null);
  private readonly codes = new Map<number, string>();
  private readonly font: EmbeddedFont;
  private readonly layoutRun: (text: string) => GlyphRun;

  constructor(font: EmbeddedFont) {
    this.font = font;
    this.layoutRun = font.layoutRun.bind(font);
    // Words pdfkit laid out before (the page count's digits) are kept.
    for (const [word, run] of Object.entries(font.layoutCache ?? {})) this.young[word] = compact(run);
    // pdfkit's own layouts (the page count, a text with a newline) are few: laid out afresh each time.
    font.layoutCache = undefined;
    font.layoutCached = (text: string) => this.layoutRun(text);
  }

  /** The layout of one word (as pdfkit splits text: a word keeps its trailing space or tab). */
  layout(word: string): WordLayout {
    let laid = this.young[word];
    if (laid === undefined) {
      laid = this.old[word];
      if (laid === undefined) laid = compact(this.layoutRun(word));
      this.young[word] = laid;
    }
    return laid;
  }

  /** The glyph's code in the font subset, 4 hex digits; records its width and text as pdfkit does. */
  code(glyph: LaidGlyph): string {
    let code = this.codes.get(glyph.id);
    if (code === undefined) {
      const font = this.font;
      const gid = font.subset.includeGlyph(glyph.id);
      code = `0000${gid.toString(16)}`.slice(-4);
      if (font.widths[gid] == null) font.widths[gid] = glyph.advanceWidth * font.scale;
      if (font.unicode[gid] == null) font.unicode[gid] = glyph.codePoints;
      this.codes.set(glyph.id, code);
    }
    return code;
  }

  /** Starts a new generation of word layouts; words of the one before not used since are let go. */
  age(): void {
    this.old = this.young;
    this.young = Object.create(null);
  }
}

/** A number as pdfkit 0.20 writes it into content (`PDFObject.number`): rounded to six decimals. */
function pdfNumber(n: number): string {
  if (!(n > -1e21 && n < 1e21))
    throw new SessiontrailError('INTERNAL', `no PDF number for ${n} (a bug in sessiontrail)`);
  return String(Math.round(n * 1e6) / 1e6);
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Page margins, shared with the footer. */
export const PAGE_MARGIN = MARGIN;
export { A4 as PAGE_SIZE, MUTED, RULE, INK };
