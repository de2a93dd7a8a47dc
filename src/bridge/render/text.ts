import { existsSync } from 'node:fs';
import * as opentype from 'opentype.js';
import { xml } from './xml';

/**
 * Chart text. resvg re-reads and re-parses the font file for every <text> element (about 0.6 ms each
 * for DejaVu Sans, 20 ms for a chart), so when DejaVu Sans is installed the text is drawn from its
 * glyph outlines instead: each glyph is converted once, defined once per SVG and placed with <use>.
 * Without the font, plain <text> lets resvg fall back to the system fonts.
 */

export interface TextStyle {
  size: number;
  color: string;
  anchor?: 'start' | 'middle' | 'end';
  bold?: boolean;
}

export interface TextPen {
  /** SVG for one line of text with its baseline at (x, y). */
  text(x: number, y: number, content: string, style: TextStyle): string;
  /** The <defs> the drawn text refers to; call after the last text(). */
  defs(): string;
}

const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/TTF', '/usr/share/fonts/dejavu'];

interface LoadedFont {
  font: opentype.Font;
  glyphs: Map<number, string>;
}

let fonts: { regular: LoadedFont; bold: LoadedFont } | null | undefined;

function loadFonts(): typeof fonts {
  if (fonts !== undefined) return fonts;
  fonts = null;
  for (const dir of FONT_DIRS) {
    const regular = `${dir}/DejaVuSans.ttf`;
    const bold = `${dir}/DejaVuSans-Bold.ttf`;
    if (existsSync(regular) && existsSync(bold)) {
      try {
        fonts = {
          regular: { font: opentype.loadSync(regular), glyphs: new Map() },
          bold: { font: opentype.loadSync(bold), glyphs: new Map() },
        };
      } catch {
        fonts = null;
      }
      break;
    }
  }
  return fonts;
}

/** True when charts carry their own glyph outlines (no font needed at render time). */
export function hasOutlineFont(): boolean {
  return loadFonts() !== null;
}

export function newTextPen(kind: 'outline' | 'text' = 'outline'): TextPen {
  const loaded = kind === 'outline' ? loadFonts() : null;
  return loaded ? new OutlinePen(loaded.regular, loaded.bold) : new SvgTextPen();
}

class OutlinePen implements TextPen {
  private readonly used = new Map<string, string>();

  constructor(
    private readonly regular: LoadedFont,
    private readonly bold: LoadedFont,
  ) {}

  text(x: number, y: number, content: string, style: TextStyle): string {
    const face = style.bold ? this.bold : this.regular;
    const prefix = style.bold ? 'b' : 'r';
    const font = face.font;
    const glyphs = font.stringToGlyphs(content);
    const uses: string[] = [];
    let advance = 0;
    for (let i = 0; i < glyphs.length; i++) {
      const glyph = glyphs[i];
      const index = glyph.index ?? 0;
      const id = `${prefix}${index}`;
      const d = glyphPath(face, glyph, index);
      if (i > 0) advance += font.getKerningValue(glyphs[i - 1], glyph);
      if (d !== '') {
        this.used.set(id, d);
        uses.push(`<use xlink:href='#${id}' x='${advance}'/>`);
      }
      advance += glyph.advanceWidth ?? 0;
    }
    const scale = style.size / font.unitsPerEm;
    const width = advance * scale;
    const left = style.anchor === 'middle' ? x - width / 2 : style.anchor === 'end' ? x - width : x;
    return `<g fill='${style.color}' transform='translate(${round(left)} ${round(y)}) scale(${scale.toFixed(6)})'>${uses.join('')}</g>`;
  }

  defs(): string {
    const paths = [...this.used].map(([id, d]) => `<path id='${id}' d='${d}'/>`);
    return `<defs>${paths.join('')}</defs>`;
  }
}

function glyphPath(face: LoadedFont, glyph: opentype.Glyph, index: number): string {
  let d = face.glyphs.get(index);
  if (d === undefined) {
    // At fontSize = unitsPerEm the path is in font units, already flipped to SVG's downward y.
    d = glyph.getPath(0, 0, face.font.unitsPerEm).toPathData(0);
    face.glyphs.set(index, d);
  }
  return d;
}

class SvgTextPen implements TextPen {
  text(x: number, y: number, content: string, style: TextStyle): string {
    return `<text x='${round(x)}' y='${round(y)}' font-family='DejaVu Sans, Verdana, sans-serif' font-size='${style.size}' fill='${style.color}' text-anchor='${style.anchor ?? 'start'}'${style.bold ? " font-weight='bold'" : ''}>${xml(content)}</text>`;
  }

  defs(): string {
    return '';
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
