import { inflateSync } from 'node:zlib';

/** One file embedded in a PDF (an `/EmbeddedFile` stream) and the names its file specifications give it. */
export interface PdfEmbeddedFile {
  /** The `/F` names of every `/Filespec` whose `/EF` points at this stream, sorted. */
  readonly names: readonly string[];
  /** The decoded stream content, or null when it could not be decoded (the reason says why). */
  readonly bytes: Uint8Array | null;
  readonly problem?: string;
}

/** What {@link readPdfAttachments} found. */
export interface PdfAttachments {
  readonly files: readonly PdfEmbeddedFile[];
  /** Why the file could not be read as a classic (uncompressed cross-reference) PDF, if so. */
  readonly problem?: string;
}

/**
 * Reads the embedded files of a PDF as pdfkit writes them (ISO 32000-1 §7.11.4): each
 * `/Type /EmbeddedFile` stream object, with `/Length` and an optional `/FlateDecode` filter, and the
 * `/Filespec` dictionaries that name it through `/EF << /F n 0 R >>`. When an object number is
 * defined more than once (an incremental update appends a new definition) the last one counts, as
 * in a PDF reader. Object streams (`/Type /ObjStm`, PDF 1.5) are not read: a PDF that uses them is
 * reported with a problem rather than trusted, since an attachment could hide inside one.
 *
 * Written here, rather than taken from a PDF library, so the check depends on nothing but Node:
 * poppler's `pdfdetach` gives the same answer (see the test).
 */
export function readPdfAttachments(pdf: Uint8Array): PdfAttachments {
  const text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString('latin1');
  if (!text.startsWith('%PDF-')) return { files: [], problem: 'not a PDF (no %PDF- header)' };
  const objects = new Map<number, { dict: string; streamStart: number | null }>();
  const header = /(\d+)\s+(\d+)\s+obj\b/g;
  for (let m = header.exec(text); m !== null; m = header.exec(text)) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endobj', start);
    if (end < 0) break;
    const body = text.slice(start, end);
    const s = body.search(/\bstream(\r\n|\n)/);
    const dict = s < 0 ? body : body.slice(0, s);
    let streamStart: number | null = null;
    if (s >= 0) {
      const eol = body.slice(s + 'stream'.length).startsWith('\r\n') ? 2 : 1;
      streamStart = start + s + 'stream'.length + eol;
    }
    objects.set(Number(m[1]), { dict, streamStart });
    // Skip the stream's bytes: they may contain "obj" by chance.
    header.lastIndex = end;
  }
  if ([...objects.values()].some((o) => /\/Type\s*\/ObjStm\b/.test(o.dict))) {
    return { files: [], problem: 'the PDF uses object streams, whose contents this check does not read' };
  }
  const names = new Map<number, string[]>();
  for (const o of objects.values()) {
    if (!/\/Type\s*\/Filespec\b/.test(o.dict)) continue;
    const ef = /\/EF\s*<<\s*\/F\s+(\d+)\s+\d+\s+R/.exec(o.dict);
    const name = /\/F\s*\(((?:[^()\\]|\\.)*)\)/.exec(o.dict);
    if (!ef) continue;
    const target = Number(ef[1]);
    names.set(target, [...(names.get(target) ?? []), name ? unescapePdfString(name[1] as string) : '']);
  }
  const files: PdfEmbeddedFile[] = [];
  for (const [num, o] of [...objects].sort((a, b) => a[0] - b[0])) {
    if (!/\/Type\s*\/EmbeddedFile\b/.test(o.dict)) continue;
    const fileNames = (names.get(num) ?? []).sort();
    const length = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(o.dict);
    if (o.streamStart === null || !length) {
      files.push({ names: fileNames, bytes: null, problem: `object ${num}: no stream or no direct /Length` });
      continue;
    }
    const raw = pdf.subarray(o.streamStart, o.streamStart + Number(length[1]));
    const filter = /\/Filter\s*\/(\w+)/.exec(o.dict)?.[1];
    if (filter === undefined) {
      files.push({ names: fileNames, bytes: raw });
    } else if (filter === 'FlateDecode') {
      try {
        files.push({ names: fileNames, bytes: new Uint8Array(inflateSync(raw)) });
      } catch {
        files.push({ names: fileNames, bytes: null, problem: `object ${num}: the stream does not inflate` });
      }
    } else {
      files.push({ names: fileNames, bytes: null, problem: `object ${num}: filter /${filter} is not read` });
    }
  }
  return { files };
}

/** PDF literal string escapes (ISO 32000-1 §7.3.4.2) for the characters a file name can hold. */
function unescapePdfString(s: string): string {
  return s.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (_, e: string) => {
    const simple: Record<string, string> = {
      n: '\n',
      r: '\r',
      t: '\t',
      b: '\b',
      f: '\f',
      '(': '(',
      ')': ')',
      '\\': '\\',
    };
    return simple[e] ?? String.fromCharCode(Number.parseInt(e, 8));
  });
}
