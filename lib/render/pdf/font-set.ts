/**
 * The fonts the evidence PDF embeds, and the choice of font per text run. DejaVu Sans covers Latin,
 * Greek and Cyrillic (Jürgen, Łukasz) but has no CJK glyphs; Noto Sans JP covers kana and the common
 * kanji (山田). Each run of text goes to the first font that has a glyph for its characters, so a
 * name is never printed as empty boxes when some embedded font can show it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { create, type Font } from 'fontkit';

/** Font roles used by the renderer. `cjk` is the fallback for characters DejaVu lacks. */
export type FontRole = 'regular' | 'bold' | 'mono' | 'cjk';

/** The parsed fonts, shared between renders (parsing the 4.5 MB CJK font costs ~0.1 s). */
export interface FontSet {
  readonly fonts: Readonly<Record<FontRole, Font>>;
}

/** A run of text that one font can show. */
export interface TextRun {
  readonly text: string;
  /** `cjk` when the primary font lacks the glyphs; otherwise the primary role asked for. */
  readonly fallback: boolean;
}

let cached: FontSet | undefined;

/**
 * Loads DejaVu Sans (regular, bold, mono) from `dejavu-fonts-ttf` and Noto Sans JP from
 * `@embedpdf/fonts-jp`. Parsed once per process: fonts are immutable data, not clients.
 */
export function loadFontSet(): FontSet {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const dejavu = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  // The package exports only its JS entry, so locate the font files relative to it.
  const noto = join(dirname(require.resolve('@embedpdf/fonts-jp')), '..', 'fonts', 'NotoSansJP-Regular.otf');
  const open = (path: string) => create(readFileSync(path)) as Font;
  cached = {
    fonts: {
      regular: open(join(dejavu, 'DejaVuSans.ttf')),
      bold: open(join(dejavu, 'DejaVuSans-Bold.ttf')),
      mono: open(join(dejavu, 'DejaVuSansMono.ttf')),
      cjk: open(noto),
    },
  };
  return cached;
}

// Printable ASCII and Latin-1: DejaVu has all of it, so most strings skip the per-character check.
const COMMON = /^[\u0020-\u00ff\u2014\u2013\u2026]*$/;

/**
 * Splits `text` into runs that the primary font (`primary`) can show and runs for the CJK fallback.
 * Characters neither font has stay with the primary font (they print as its missing glyph).
 */
export function splitRuns(set: FontSet, primary: Exclude<FontRole, 'cjk'>, text: string): TextRun[] {
  if (COMMON.test(text)) return [{ text, fallback: false }];
  const main = set.fonts[primary];
  const cjk = set.fonts.cjk;
  const runs: TextRun[] = [];
  let current = '';
  let currentFallback = false;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const fallback = !main.hasGlyphForCodePoint(cp) && cjk.hasGlyphForCodePoint(cp);
    if (current !== '' && fallback !== currentFallback) {
      runs.push({ text: current, fallback: currentFallback });
      current = '';
    }
    current += ch;
    currentFallback = fallback;
  }
  if (current !== '') runs.push({ text: current, fallback: currentFallback });
  return runs;
}
