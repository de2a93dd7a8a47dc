import { Resvg } from '@resvg/resvg-js';
import { hasOutlineFont } from './text';

/**
 * SVG -> PNG with resvg (Rust, no browser). Charts normally carry their text as glyph outlines
 * (see text.ts) and need no font here; without DejaVu Sans, resvg loads the system fonts.
 */
export function svgToPng(svg: string, scale = 1): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: scale === 1 ? { mode: 'original' } : { mode: 'zoom', value: scale },
    font: { loadSystemFonts: !hasOutlineFont(), defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
