/**
 * Layout primitives over pdfkit: text runs with font fallback, wrapping, tables with repeated headers,
 * page breaks and the structure tags of a tagged PDF. Everything is drawn at explicit positions with
 * `lineBreak: false`: pdfkit's own line wrapper is the slowest part of pdfkit, and owning the
 * wrapping keeps row heights exact, so pagination never depends on pdfkit moving the cursor.
 */
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

const INK = '#1a1a1a';
const MUTED = '#5a5a5a';
const RULE = '#b8b8b8';
const HEAD_FILL = '#e8ecf1';
const LINE_GAP = 1.25;
/** pdfkit's per-word glyph layout cache is emptied every this many pages (see `endPage`). */
const LAYOUT_CACHE_PAGES = 40;
/** Most text widths memoised at once (a few MB). */
const WIDTH_CACHE_ENTRIES = 50_000;

/** Writes flowing content onto the pages of one pdfkit document. */
export class PdfWriter {
  readonly doc: Doc;
  private readonly fonts: FontSet;
  private readonly root: StructElement;
  private section: StructElement | null = null;
  private orientation: Orientation = 'portrait';
  /** Widths by role, size and text: tables measure the same tokens (paths, codes) thousands of times. */
  private readonly widths = new Map<string, number>();
  private state = { font: '', size: 0 };
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
    let pending: string[] = [];
    let size = 0;
    const flush = () => {
      if (pending.length === 0) return;
      // pdfkit appends a newline to each write: join with newlines, the last one added by it.
      write(pending.join('\n'));
      pending = [];
      size = 0;
    };
    content.write = (chunk: string | Uint8Array) => {
      if (typeof chunk !== 'string') {
        flush();
        write(chunk);
        return;
      }
      pending.push(chunk);
      size += chunk.length + 1;
      if (size >= 65_536) flush();
    };
    content.end = (chunk?: string | Uint8Array) => {
      flush();
      end(chunk);
    };
  }

  private endPage(): void {
    this.onPageEnd?.(this.pageNumber);
    // pdfkit keeps the glyph layout of every distinct word it has drawn for the whole document
    // (EmbeddedFont.layoutCache): on a 3,000-page pack that is most of the memory a render holds.
    // Emptied every few pages, it still serves the words pages repeat (headers, labels, codes):
    // emptied on every page, the render took three times as long.
    if (this.pageNumber % LAYOUT_CACHE_PAGES !== 0) return;
    const families = (this.doc as unknown as { _fontFamilies?: Record<string, { layoutCache?: unknown }> })
      ._fontFamilies;
    for (const font of Object.values(families ?? {}))
      if (font.layoutCache !== undefined) font.layoutCache = Object.create(null);
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
      this.drawLine(text, this.left, this.y, { role: 'bold', size, color: INK });
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
          this.drawLine(line, this.left, at + i * lineHeight, { ...style, size });
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
          this.drawLine(line, x + pad, top + pad + k * lineHeight, { role: 'bold', size, color: INK });
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
          this.drawLine(line, x + pad, top + pad + k * lineHeight, {
            role: cell.role as TextStyle['role'],
            size,
            color: options.labelColumn && i === 0 ? MUTED : INK,
          });
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
    const doc = this.doc;
    const role = style.role ?? 'regular';
    const size = style.size ?? 9;
    const color = style.color ?? INK;
    // The fill colour is page state (a new page starts black, and fills change it): set it every time.
    // The font is document state in pdfkit, written into each text object: set it only when it changes.
    doc.fillColor(color);
    if (this.state.size !== size) {
      doc.fontSize(size);
      this.state.size = size;
    }
    let at = x;
    for (const run of splitRuns(this.fonts, role, text)) {
      const font = run.fallback ? 'cjk' : role;
      if (this.state.font !== font) {
        doc.font(font);
        this.state.font = font;
      }
      doc.text(run.text, at, y, { lineBreak: false });
      at += this.runWidth(run.text, font, size);
    }
    return at - x;
  }

  /** Width of `text` at `size`, with the same font fallback as {@link drawLine}. */
  measure(text: string, role: Exclude<FontRole, 'cjk'>, size: number): number {
    let width = 0;
    for (const run of splitRuns(this.fonts, role, text))
      width += this.runWidth(run.text, run.fallback ? 'cjk' : role, size);
    return width;
  }

  /** Width of a run in one font; memoised. Sets the font and size it measured with. */
  private runWidth(text: string, font: FontRole, size: number): number {
    const key = `${font}|${size}|${text}`;
    let width = this.widths.get(key);
    if (width === undefined) {
      if (this.state.font !== font) {
        this.doc.font(font);
        this.state.font = font;
      }
      if (this.state.size !== size) {
        this.doc.fontSize(size);
        this.state.size = size;
      }
      width = this.doc.widthOfString(text);
      // Bounded: a document repeats a small vocabulary (labels, codes, paths), but every timestamp and
      // command line is new; start over when full rather than hold them all.
      if (this.widths.size >= WIDTH_CACHE_ENTRIES) this.widths.clear();
      this.widths.set(key, width);
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
      if (this.measure(paragraph, role, size) <= width) {
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

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Page margins, shared with the footer. */
export const PAGE_MARGIN = MARGIN;
export { A4 as PAGE_SIZE, MUTED, RULE, INK };
