import { renderAsync } from '@resvg/resvg-js';
import { hasOutlineFont } from './text';

/**
 * SVG -> PNG with resvg (Rust, no browser). Parsing and rasterising run on libuv's thread pool, so
 * a graph being drawn does not hold up webhook acknowledgements; only the PNG encoding stays on the
 * event loop. Charts normally carry their text as glyph outlines (see text.ts) and need no font
 * here; without DejaVu Sans, resvg loads the system fonts.
 */
export async function svgToPng(svg: string): Promise<Buffer> {
  const image = await renderAsync(svg, {
    font: { loadSystemFonts: !hasOutlineFont(), defaultFontFamily: 'DejaVu Sans' },
  });
  return image.asPng();
}
