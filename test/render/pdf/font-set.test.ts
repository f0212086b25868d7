import { describe, expect, it } from 'vitest';
import { loadFontSet, splitRuns } from '../../../lib/render/pdf/font-set.ts';

describe('splitRuns', () => {
  it('keeps Latin, Polish and German in DejaVu and sends kanji to the CJK font', () => {
    const fonts = loadFontSet();
    expect(splitRuns(fonts, 'regular', 'Jürgen Łukasz')).toEqual([
      { text: 'Jürgen Łukasz', fallback: false },
    ]);
    expect(splitRuns(fonts, 'regular', 'CORP\\山田太郎 (x)')).toEqual([
      { text: 'CORP\\', fallback: false },
      { text: '山田太郎', fallback: true },
      { text: ' (x)', fallback: false },
    ]);
  });

  it('uses a CJK font that really has the glyphs for 山田', () => {
    const { cjk, regular } = loadFontSet().fonts;
    expect(cjk.hasGlyphForCodePoint(0x5c71)).toBe(true);
    expect(cjk.hasGlyphForCodePoint(0x7530)).toBe(true);
    expect(regular.hasGlyphForCodePoint(0x5c71)).toBe(false);
  });
});
