import zlib from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import { renderChartSvg, type ChartSpec } from './chart';
import { hasOutlineFont } from './text';

export interface RenderedChart {
  png: Buffer;
  /** Drawing, rasterising and compressing it took this long. */
  seconds: number;
}

/** A chart as a PNG: what an evidence worker does for each graph (render-task.ts). */
export function drawChart(chart: ChartSpec): RenderedChart {
  const started = performance.now();
  const png = svgToPng(renderChartSvg(chart));
  return { png, seconds: (performance.now() - started) / 1000 };
}

/**
 * SVG -> PNG with resvg (Rust, no browser), synchronously: it runs in an evidence worker thread
 * (evidence-pool.ts), which is there to be busy. Not on libuv's thread pool: that is shared by every
 * thread of the process, and the fsyncs that acknowledge webhooks would queue behind graphs. Charts
 * normally carry their text as glyph outlines (see text.ts); without DejaVu Sans, resvg loads the
 * system fonts.
 */
export function svgToPng(svg: string): Buffer {
  const image = new Resvg(svg, {
    font: { loadSystemFonts: !hasOutlineFont(), defaultFontFamily: 'DejaVu Sans' },
  }).render();
  return encodePng(image.width, image.height, image.pixels);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The filtered image handed to deflate, kept between charts: a fresh megabyte per chart costs more
 * in page faults than deflating it (charts share their size, so it is made once per worker).
 */
let scanlines = Buffer.alloc(0);

/** A PNG (8-bit RGBA, no filtering: charts are long flat runs that deflate handles well). */
export function encodePng(width: number, height: number, rgba: Buffer): Buffer {
  const stride = width * 4;
  const size = (stride + 1) * height;
  if (scanlines.length < size) scanlines = Buffer.allocUnsafeSlow(size);
  for (let y = 0; y < height; y++) {
    scanlines[y * (stride + 1)] = 0; // filter type 0, then the row's pixels
    rgba.copy(scanlines, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(scanlines.subarray(0, size))),
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
