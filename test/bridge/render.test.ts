import { renderChartSvg, type ChartSpec } from '../../src/bridge/render/chart';
import { seriesToCsv } from '../../src/bridge/render/csv';
import { formatValue as promValue } from '../../src/common/exposition';
import zlib from 'node:zlib';
import { encodePng, svgToPng } from '../../src/bridge/render/png';
import { newTextPen } from '../../src/bridge/render/text';
import { timeTicks, zoneOffsetMs } from '../../src/bridge/render/time';
import { formatValue, niceTicks, unitFor } from '../../src/bridge/render/units';
import { explainAnomaly } from '../../src/bridge/explain';

const START = Date.UTC(2026, 10, 23, 12, 30);
/** The plot's left edge in the chart's layout. */
const LEFT_EDGE = 70;
const END = Date.UTC(2026, 10, 23, 15, 30);
const ts = Array.from({ length: 181 }, (_, i) => START + i * 60_000);

function spec(patch: Partial<ChartSpec> = {}): ChartSpec {
  return {
    title: 'HostHighCpu',
    series: [
      { name: 'cpu{instance="web-1"}', timestamps: ts, values: ts.map((_, i) => 0.2 + (i > 90 ? 0.7 : 0)) },
    ],
    startMs: START,
    endMs: END,
    alertStartMs: ts[91],
    unit: 'ratio',
    timeZone: 'UTC',
    ...patch,
  };
}

describe('units', () => {
  it('humanises bytes, ratios, percent, seconds and plain numbers', () => {
    expect(formatValue(1536, 'bytes')).toBe('1.5 KiB');
    expect(formatValue(32 * 1024 ** 3, 'bytes')).toBe('32 GiB');
    expect(formatValue(0.92, 'ratio')).toBe('92%');
    expect(formatValue(45.5, 'percent')).toBe('45.5%');
    expect(formatValue(0.0042, 'seconds')).toBe('4.2ms');
    expect(formatValue(90, 'seconds')).toBe('1.5min');
    expect(formatValue(12_500, 'short')).toBe('12.5k');
    expect(formatValue(0.15, 'short')).toBe('0.15');
    expect(formatValue(Infinity, 'short')).toBe('+Inf');
  });

  it('guesses the unit from metric naming conventions, the annotation winning', () => {
    expect(unitFor('node_memory_MemAvailable_bytes')).toBe('bytes');
    expect(unitFor('rate(node_cpu_seconds_total[5m])')).toBe('short');
    expect(unitFor('histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))')).toBe('short');
    expect(unitFor('probe_duration_seconds')).toBe('seconds');
    expect(unitFor('instance:node_cpu_busy:ratio')).toBe('ratio');
    expect(unitFor('up', 'bytes')).toBe('bytes');
    expect(unitFor('up', 'parsecs')).toBe('short');
  });

  it('places ticks at round values covering the range', () => {
    const ratio = niceTicks(0, 0.92, 5, 'ratio');
    expect(ratio.map((v) => formatValue(v, 'ratio'))).toEqual(['0%', '20%', '40%', '60%', '80%', '100%']);
    const bytes = niceTicks(0, 40 * 1024 ** 3, 4, 'bytes');
    expect(bytes.every((v) => (v / 1024 ** 3) % 10 === 0)).toBe(true);
    expect(niceTicks(5, 5, 4, 'short').length).toBeGreaterThan(1);
  });
});

describe('time axis', () => {
  it('knows zone offsets, DST included', () => {
    expect(zoneOffsetMs(Date.UTC(2026, 0, 15), 'Europe/Berlin')).toBe(3_600_000);
    expect(zoneOffsetMs(Date.UTC(2026, 6, 15), 'Europe/Berlin')).toBe(7_200_000);
    expect(zoneOffsetMs(Date.UTC(2026, 6, 15), 'America/New_York')).toBe(-4 * 3_600_000);
  });

  it('labels ticks at round local times of the configured zone', () => {
    const utc = timeTicks(START, END, 8, 'UTC').map((t) => t.label);
    expect(utc).toEqual(['12:30', '13:00', '13:30', '14:00', '14:30', '15:00', '15:30']);
    const kolkata = timeTicks(START, END, 8, 'Asia/Kolkata');
    expect(kolkata[0].label).toBe('18:00'); // UTC+5:30: 12:30 UTC is 18:00 local
    expect(kolkata[0].day).toBe('Mon 23 Nov');
  });
});

describe('chart', () => {
  it('draws one line per series with a legend, escaping what labels carry', () => {
    const svg = renderChartSvg(
      spec({
        title: 'Alert <script>&',
        series: [{ name: 'x{a="<b>\'"}', timestamps: ts, values: ts.map(() => 1) }],
      }),
      newTextPen('text'),
    );
    expect(svg).toContain('Alert &#60;script&#62;&#38;');
    expect(svg).toContain('x{a=&#34;&#60;b&#62;&#39;&#34;}');
    expect(svg).not.toContain('<script>');
  });

  it('caps the series, keeping the highest, and says how many were left out', () => {
    const series = Array.from({ length: 12 }, (_, k) => ({
      name: `s${k}`,
      timestamps: ts,
      values: ts.map(() => k),
    }));
    const svg = renderChartSvg(spec({ series, maxSeries: 5, unit: 'short' }), newTextPen('text'));
    expect(svg).toContain('7 more series not shown');
    expect(svg).toContain('>s11<');
    expect(svg).toContain('>s7<');
    expect(svg).not.toContain('>s6<');
    expect((svg.match(/stroke-width='1.8'/g) ?? []).length).toBe(5);
  });

  it('marks the alert start and end and shades the normal band', () => {
    const band = {
      timestamps: ts,
      lower: ts.map(() => 0.1),
      upper: ts.map(() => 0.3),
      expected: ts.map(() => 0.2),
    };
    const svg = renderChartSvg(
      spec({ band, alertEndMs: ts[150], timeZone: 'Europe/Berlin' }),
      newTextPen('text'),
    );
    expect(svg).toContain('firing 15:01'); // 14:01 UTC in Berlin (CET)
    expect(svg).toContain('resolved 16:00'); // 15:00 UTC
    expect(svg).toContain('normal band');
    expect(svg).toMatch(/fill='#6b9bd1' fill-opacity='0.22'/);
  });

  it('breaks lines at gaps instead of drawing through missing data', () => {
    const gappy = ts.filter((_, i) => i < 50 || i > 80);
    const svg = renderChartSvg(
      spec({
        series: [{ name: 's', timestamps: gappy, values: gappy.map(() => 0.5) }],
        alertStartMs: undefined,
      }),
      newTextPen('text'),
    );
    const line = /<path d='([^']+)' fill='none' stroke='#3b75af'/.exec(svg)![1];
    expect(line.match(/M/g)).toHaveLength(2);
  });

  /** The value-axis labels, as drawn with plain <text>. */
  const axisLabels = (svg: string): string[] =>
    [...svg.matchAll(/<text[^>]*text-anchor='end'[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

  it('gives axis ticks of a narrow range as many digits as it takes to differ', () => {
    const values = ts.map((_, i) => 0.697 + (i % 10) * 0.0001);
    const svg = renderChartSvg(spec({ series: [{ name: 's', timestamps: ts, values }] }), newTextPen('text'));
    const labels = axisLabels(svg).filter((t) => t.endsWith('%'));
    expect(labels.length).toBeGreaterThan(2);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('extends the axis to a threshold near the data, and marks one far off the scale', () => {
    const near = renderChartSvg(spec({ threshold: 0.95 }), newTextPen('text'));
    expect(near).toMatch(/stroke='#c53a32' stroke-width='1.2' stroke-dasharray='6 4'/);
    const far = renderChartSvg(spec({ threshold: 500 }), newTextPen('text'));
    expect(far).not.toMatch(/stroke-dasharray='6 4'/);
    expect(far).toContain('▲ threshold 50000% off scale');
  });

  it('starts the time axis at the data when Prometheus has none for the start of the lookback', () => {
    const late = ts.slice(150);
    const svg = renderChartSvg(
      spec({ series: [{ name: 's', timestamps: late, values: late.map(() => 0.5) }], alertStartMs: late[5] }),
      newTextPen('text'),
    );
    const line = /<path d='M([\d.]+) [^']*' fill='none' stroke='#3b75af'/.exec(svg)!;
    // The first point sits at the left edge, not three quarters of the way along.
    expect(Number(line[1])).toBeLessThan(LEFT_EDGE + 5);
  });

  it('draws +Inf and -Inf as marks on the plot edges, never as numbers on the axis', () => {
    const values = ts.map((_, i) => (i === 100 ? Infinity : i === 120 ? -Infinity : 0.5));
    const svg = renderChartSvg(spec({ series: [{ name: 's', timestamps: ts, values }] }), newTextPen('text'));
    expect(svg).toContain('+Inf / -Inf: off the scale');
    expect(svg.match(/fill='#3b75af' stroke='none'/g)).toHaveLength(2);
    expect(axisLabels(svg).join(' ')).not.toMatch(/e\+|Inf|NaN/);
  });

  it('says so when there is no data', () => {
    expect(renderChartSvg(spec({ series: [] }), newTextPen('text'))).toContain('no data in this range');
  });

  it('draws text from glyph outlines when DejaVu Sans is installed, and renders a PNG of the right size', async () => {
    const svg = renderChartSvg(spec());
    expect(svg).not.toContain('<text');
    expect(svg).toContain('<use xlink:href=');
    const png = svgToPng(svg);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(800); // IHDR width
    expect(png.length).toBeGreaterThan(5000);
  });
});

describe('png', () => {
  it('encodes RGBA pixels as a valid PNG: signature, IHDR, checksummed chunks, the pixels back on inflate', async () => {
    const rgba = Buffer.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 40]); // 2 x 2
    const png = encodePng(2, 2, rgba);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const chunks: Array<{ type: string; data: Buffer }> = [];
    for (let at = 8; at < png.length;) {
      const length = png.readUInt32BE(at);
      const type = png.toString('latin1', at + 4, at + 8);
      const data = png.subarray(at + 8, at + 8 + length);
      expect(png.readUInt32BE(at + 8 + length)).toBe(zlib.crc32(png.subarray(at + 4, at + 8 + length)));
      chunks.push({ type, data });
      at += 12 + length;
    }
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([...chunks[0].data]).toEqual([0, 0, 0, 2, 0, 0, 0, 2, 8, 6, 0, 0, 0]);
    const scanlines = zlib.inflateSync(chunks[1].data);
    expect(scanlines).toEqual(
      Buffer.concat([Buffer.from([0]), rgba.subarray(0, 8), Buffer.from([0]), rgba.subarray(8)]),
    );
  });

  it('gives each image only its own rows when the scanline buffer is reused across sizes', () => {
    const idat = (png: Buffer): Buffer => zlib.inflateSync(png.subarray(41, 41 + png.readUInt32BE(33)));
    const large = Buffer.alloc(3 * 3 * 4, 0xaa);
    expect(idat(encodePng(3, 3, large))).toEqual(
      Buffer.concat(
        [0, 1, 2].map((y) => Buffer.concat([Buffer.from([0]), large.subarray(y * 12, y * 12 + 12)])),
      ),
    );
    const small = Buffer.from([1, 2, 3, 4]); // 1 x 1, encoded after the larger one
    expect(idat(encodePng(1, 1, small))).toEqual(Buffer.from([0, 1, 2, 3, 4]));
    expect(idat(encodePng(3, 3, large))).toHaveLength(3 * 13);
  });
});

describe('csv', () => {
  it('writes timestamp, series, value rows with Prometheus value spelling and safe quoting', () => {
    const csv = seriesToCsv([
      { name: 'up{job="a,b"}', timestamps: [Date.UTC(2026, 0, 1)], values: [1] },
      { name: '=cmd()', timestamps: [Date.UTC(2026, 0, 1, 0, 1)], values: [NaN] },
    ]);
    expect(csv.split('\r\n')).toEqual([
      'timestamp,series,value',
      '2026-01-01T00:00:00.000Z,"up{job=""a,b""}",1',
      "2026-01-01T00:01:00.000Z,'=cmd(),NaN",
      '',
    ]);
    expect(promValue(-Infinity)).toBe('-Inf');
    expect(promValue(0.1 + 0.2)).toBe('0.30000000000000004');
  });
});

describe('anomaly explanation', () => {
  it('says what is unusual in words', () => {
    expect(
      explainAnomaly(
        { value: 0.92, expected: 0.15, lower: 0.1, upper: 0.2, score: 15.2, detector: 'seasonal' },
        'short',
      ),
    ).toBe('0.92 where 0.15 ± 0.05 is normal at this hour; 15 deviations, seasonal detector');
    expect(
      explainAnomaly(
        { value: 0.5, expected: 0.2, lower: 0.1, upper: 0.3, score: -4.25, detector: 'zscore' },
        'ratio',
      ),
    ).toBe('50% where 20% ± 10% is normal lately; 4.3 deviations, z-score detector');
    expect(
      explainAnomaly({ expected: 100, lower: 50, upper: 150, score: 6, detector: 'seasonal' }, 'short'),
    ).toBe('100 ± 50 is normal at this hour; 6 deviations, seasonal detector');
  });

  it('says how far outside the seen range for the range detector: by the value, else in widths of it', () => {
    const range = { expected: 4e9, lower: 3e9, upper: 5e9, score: -27.4, detector: 'range' };
    expect(explainAnomaly({ ...range, value: 1e9 }, 'bytes')).toBe(
      '954 MiB where 2.79 GiB to 4.66 GiB is the range seen over the past weeks; 1.86 GiB below it, range detector',
    );
    expect(explainAnomaly(range, 'bytes')).toBe(
      '2.79 GiB to 4.66 GiB is the range seen over the past weeks; 27× its width below it, range detector',
    );
  });

  it('novelty and shift speak of patterns and levels, on the band they are given', () => {
    const seasonal = { expected: 10, lower: 8, upper: 12, score: 3, band: 'seasonal' };
    expect(explainAnomaly({ ...seasonal, detector: 'shift' }, 'short')).toBe(
      '10 ± 2 is normal at this hour; a sustained rise above its usual level, shift detector',
    );
    expect(explainAnomaly({ ...seasonal, value: 11, detector: 'novelty' }, 'short')).toBe(
      '11 where 10 ± 2 is normal at this hour; a pattern not seen before, novelty detector',
    );
  });
});
