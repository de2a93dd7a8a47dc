import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { renderAsync } from '@resvg/resvg-js';
import { renderChartSvg, type ChartSpec } from './chart';
import { hasOutlineFont } from './text';

export interface RenderedChart {
  png: Buffer;
  /** Drawing, rasterising and compressing it took this long. */
  seconds: number;
}

/** A chart as a PNG: what a render worker does for each task (render-worker.ts). */
export async function drawChart(chart: ChartSpec): Promise<RenderedChart> {
  const started = performance.now();
  const png = await svgToPng(renderChartSvg(chart));
  return { png, seconds: (performance.now() - started) / 1000 };
}

/**
 * SVG -> PNG with resvg (Rust, no browser). Rasterising runs on libuv's thread pool and so does the
 * compression (zlib below, rather than resvg's encoder, which runs on the event loop): a graph being
 * drawn costs the event loop about 2 ms, and webhook acknowledgements are not held up. Charts normally
 * carry their text as glyph outlines (see text.ts); without DejaVu Sans, resvg loads the system fonts.
 */
export async function svgToPng(svg: string): Promise<Buffer> {
  const image = await renderAsync(svg, {
    font: { loadSystemFonts: !hasOutlineFont(), defaultFontFamily: 'DejaVu Sans' },
  });
  return encodePng(image.width, image.height, image.pixels);
}

const deflate = promisify(zlib.deflate);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG (8-bit RGBA, no filtering: charts are long flat runs that deflate handles well). */
export async function encodePng(width: number, height: number, rgba: Buffer): Promise<Buffer> {
  const stride = width * 4;
  const scanlines = Buffer.alloc((stride + 1) * height); // each row: filter type 0, then its pixels
  for (let y = 0; y < height; y++) rgba.copy(scanlines, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', await deflate(scanlines)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
