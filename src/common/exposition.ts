import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Registry } from 'prom-client';

/**
 * The exposition formats, written here rather than by prom-client because prom-client fixes
 * the format per registry while a scrape chooses it per request (Accept header), and because
 * the exporter renders its host metrics without building prom-client objects on every scrape.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** Full sample name when it differs from the family's (histogram `_bucket`, `_sum`, `_count`). */
  name?: string;
  labels: Record<string, string | number>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** OpenMetrics only when the scraper asks for it, as Prometheus does with scrape_protocols. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  return accept?.includes('application/openmetrics-text') ? 'openmetrics' : 'text';
}

/**
 * Whether an `Accept-Encoding` header accepts gzip (RFC 9110 12.5.3): `gzip` or `x-gzip` with a
 * q-value above zero, or `*` above zero when gzip is not named. Prometheus always sends
 * `Accept-Encoding: gzip`; curl and most scripts send nothing and get identity.
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  let named: boolean | undefined;
  let wildcard = false;
  for (const item of acceptEncoding.split(',')) {
    const [coding, ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((param) => param.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') named = (named ?? false) || accepted;
    else if (coding === '*') wildcard = accepted;
  }
  return named ?? wildcard;
}

/** Prometheus' own spelling of a sample value (NaN, +Inf, -Inf, shortest round-trip decimal). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

// Most label values and help texts have nothing to escape: one test instead of three replaces.
const LABEL_VALUE_SPECIAL = /[\\\n"]/;
const HELP_SPECIAL = /[\\\n]/;

function escapeLabelValue(value: string): string {
  if (!LABEL_VALUE_SPECIAL.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  if (!HELP_SPECIAL.test(help)) return help;
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatLabels(labels: Record<string, string | number>): string {
  let out = '';
  for (const key in labels) {
    out += `${out === '' ? '{' : ','}${key}="${escapeLabelValue(String(labels[key]))}"`;
  }
  return out === '' ? '' : `${out}}`;
}

/** A family's `# HELP` and `# TYPE` lines and its samples' name, in one format. */
interface FamilyHeader {
  readonly help: string;
  readonly type: MetricType;
  readonly lines: string;
  readonly sampleName: string;
}

/**
 * Headers by family name, per format: the same families come back on every scrape. Names read
 * from text files may come and go, so a map is emptied when it grows past MAX_HEADERS.
 */
const familyHeaders: Record<ExpositionFormat, Map<string, FamilyHeader>> = {
  text: new Map(),
  openmetrics: new Map(),
};
const MAX_HEADERS = 10_000;

function formatHeader(family: MetricFamily, format: ExpositionFormat): FamilyHeader {
  const headers = familyHeaders[format];
  const known = headers.get(family.name);
  if (known && known.help === family.help && known.type === family.type) return known;
  const isCounter = family.type === 'counter';
  // OpenMetrics names the counter family without `_total` and requires it on the sample.
  const familyName = format === 'openmetrics' && isCounter ? family.name.replace(/_total$/, '') : family.name;
  const type = format === 'openmetrics' && family.type === 'untyped' ? 'unknown' : family.type;
  const header: FamilyHeader = {
    help: family.help,
    type: family.type,
    lines: `# HELP ${familyName} ${escapeHelp(family.help)}\n# TYPE ${familyName} ${type}\n`,
    sampleName: format === 'openmetrics' && isCounter ? `${familyName}_total` : family.name,
  };
  if (headers.size >= MAX_HEADERS) headers.clear();
  headers.set(family.name, header);
  return header;
}

/**
 * The exposition of `families` (those with samples) in `format`. One string grows by pieces,
 * with no string per line or label to join: at a few hundred lines per scrape, a third less
 * garbage for the young generation to sweep than a template literal per line.
 */
export function formatFamilies(families: Iterable<MetricFamily>, format: ExpositionFormat): string {
  let out = '';
  for (const family of families) {
    if (family.samples.length === 0) continue;
    const header = formatHeader(family, format);
    out += header.lines;
    for (const sample of family.samples) {
      out += sample.name ?? header.sampleName;
      let first = true;
      for (const key in sample.labels) {
        out += (first ? '{' : '",') + key + '="' + escapeLabelValue(String(sample.labels[key]));
        first = false;
      }
      out += (first ? ' ' : '"} ') + formatValue(sample.value) + '\n';
    }
  }
  return format === 'openmetrics' ? `${out}# EOF\n` : out;
}

/** The families of a prom-client registry (self-metrics), ready for formatFamilies. */
export async function registryFamilies(registry: Registry): Promise<MetricFamily[]> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((metric) => ({
    name: metric.name,
    help: metric.help,
    type: String(metric.type) as MetricType,
    samples: metric.values.map((value: { metricName?: string; labels: object; value: number }) => ({
      name: value.metricName && value.metricName !== metric.name ? value.metricName : undefined,
      labels: value.labels as Record<string, string | number>,
      value: value.value,
    })),
  }));
}

/**
 * The UTF-8 bytes of an exposition. Nearly all are ASCII, whose UTF-8 is its latin1, and Node
 * encodes latin1 several times faster (in a micro-benchmark, 6 us with the length check against
 * 40 us for 12 KB): a string is ASCII exactly when its UTF-8 length equals its length.
 */
export function expositionBytes(text: string): Buffer {
  return Buffer.byteLength(text) === text.length ? Buffer.from(text, 'latin1') : Buffer.from(text);
}

const deflateRawAsync = promisify(zlib.deflateRaw);

/**
 * Bodies up to this size are compressed on the event loop: the exporter's (27 KB, a fraction of a
 * millisecond at the fastest level) would wait longer for zlib's thread pool to hand it over and
 * back, and node_exporter too compresses in the goroutine that answers. Larger ones (a detector's
 * outputs over many series) go to the thread pool, so scrapes and probes are not held up.
 */
const SYNC_DEFLATE_MAX_BYTES = 256 * 1024;

/** Raw deflate of exposition bytes, on the event loop or zlib's thread pool by their size (above). */
export function deflateRaw(bytes: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  if (bytes.length > SYNC_DEFLATE_MAX_BYTES) return deflateRawAsync(bytes, options);
  return new Promise((resolve) => resolve(zlib.deflateRawSync(bytes, options)));
}

/** Raw deflate of some text that ends in a sync flush (more blocks may follow), and its CRC-32. */
export interface DeflatedPart {
  bytes: Buffer;
  crc: number;
}

/**
 * Exposition text (without `# EOF`) that many scrapes may share, as bytes, and its compressed
 * form once a scrape asks for gzip: a gzip of this text followed by more (each scrape's
 * self-metrics) then costs only the compression of the rest.
 */
export class ExpositionBody {
  private deflatedPart: Promise<DeflatedPart> | undefined;
  /** Responses (and a compression) reading the bytes: while any is, they are not written over. */
  private readers = 0;

  constructor(readonly bytes: Buffer) {}

  /** Marks the bytes as being read until the returned function is called. */
  read(): () => void {
    this.readers++;
    let done = false;
    return () => {
      if (!done) this.readers--;
      done = true;
    };
  }

  /** Nothing reads the bytes: the next rendering may write over them. */
  get unread(): boolean {
    return this.readers === 0;
  }

  deflated(level: number): Promise<DeflatedPart> {
    if (!this.deflatedPart) {
      const done = this.read();
      this.deflatedPart = deflateRaw(this.bytes, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH })
        .then((bytes) => ({ bytes, crc: zlib.crc32(this.bytes) }))
        .finally(done);
    }
    return this.deflatedPart;
  }
}

/**
 * The body `render` makes, rendered again only when `version()` has changed since the last
 * rendering: scrapes between two changes (an HA pair of Prometheus servers, a curl) share it.
 * `render` gets the previous body's bytes to write over when nothing reads them any more: at
 * 150 MB, fresh memory costs more in page faults than writing the text.
 */
export function cachedExposition(
  version: () => number,
  render: (reusable: Buffer | undefined) => Buffer,
): () => ExpositionBody {
  let cached: { version: number; body: ExpositionBody } | undefined;
  return () => {
    const current = version();
    if (cached?.version !== current) {
      const reusable = cached?.body.unread ? cached.body.bytes : undefined;
      cached = { version: current, body: new ExpositionBody(render(reusable)) };
    }
    return cached.body;
  };
}
