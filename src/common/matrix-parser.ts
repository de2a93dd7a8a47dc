/**
 * A reader of Prometheus' query_range answer (`{"status":..,"data":{"resultType":"matrix",
 * "result":[{"metric":{..},"values":[[t,"v"],..]},..]}}`) straight from the response bytes.
 *
 * JSON.parse builds an array and a string for every sample: a detector over 100,000 series
 * receives millions of them a cycle, and collecting that garbage cost more than the detectors
 * themselves. This reader writes the samples of one series into two reused Float64Arrays and
 * hands each series over before reading the next; only the `metric` object becomes a string.
 * Any JSON is read (unknown keys are skipped, whitespace allowed); what does not parse throws.
 */

export interface MatrixSeries {
  /** The series' `metric` object as the server wrote it (labels sorted by Prometheus). */
  metricText: string;
  /** Unix milliseconds, ascending; valid only during the visit (the arrays are reused). */
  timestamps: Float64Array;
  values: Float64Array;
}

/** The envelope around the series: what says whether the query succeeded. */
export interface MatrixEnvelope {
  status?: string;
  errorType?: string;
  error?: string;
  resultType?: string;
  /** Series in `data.result`. */
  series: number;
}

export class MatrixSyntaxError extends Error {
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'MatrixSyntaxError';
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Powers of ten that are exact doubles: mantissa / 10^k is then correctly rounded (Clinger). */
const EXACT_POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** A sample value as Prometheus spells it (Go's formatting: `+Inf`, `-Inf`, `NaN` besides numbers). */
export function parseSampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * Reads `body`, calling `visit` once per series of `data.result` (only when `resultType` came
 * first and says matrix, as every Prometheus-compatible server writes it).
 */
export function parseMatrix(body: Buffer, visit: (series: MatrixSeries) => void): MatrixEnvelope {
  return new MatrixReader(body, visit).read();
}

class MatrixReader {
  private at = 0;
  private timestamps = new Float64Array(256);
  private values = new Float64Array(256);
  private readonly envelope: MatrixEnvelope = { series: 0 };

  constructor(
    private readonly b: Buffer,
    private readonly visit: (series: MatrixSeries) => void,
  ) {}

  read(): MatrixEnvelope {
    this.object((key) => {
      if (this.keyIs(key, 'status')) this.envelope.status = this.stringValue();
      else if (this.keyIs(key, 'errorType')) this.envelope.errorType = this.stringValue();
      else if (this.keyIs(key, 'error')) this.envelope.error = this.stringValue();
      else if (this.keyIs(key, 'data')) this.data();
      else this.skipValue();
    });
    this.space();
    if (this.at !== this.b.length) this.fail('unexpected data after the answer');
    return this.envelope;
  }

  private data(): void {
    this.object((key) => {
      if (this.keyIs(key, 'resultType')) this.envelope.resultType = this.stringValue();
      else if (this.keyIs(key, 'result') && this.envelope.resultType === 'matrix')
        this.array(() => this.series());
      else this.skipValue();
    });
  }

  private series(): void {
    let metricText: string | undefined;
    let length = 0;
    this.object((key) => {
      if (this.keyIs(key, 'metric')) {
        this.space();
        const start = this.at;
        this.skipValue();
        metricText = this.b.toString('utf8', start, this.at);
      } else if (this.keyIs(key, 'values')) {
        length = this.samples();
      } else {
        this.skipValue();
      }
    });
    if (metricText === undefined) this.fail('a series without "metric"');
    this.envelope.series++;
    this.visit({
      metricText,
      timestamps: this.timestamps.subarray(0, length),
      values: this.values.subarray(0, length),
    });
  }

  /** `[[1700000000.5,"1.25"],..]` into the reused arrays; returns the count. */
  private samples(): number {
    let n = 0;
    this.array(() => {
      if (n === this.timestamps.length) this.grow();
      if (!this.plainSample(n)) {
        this.expect(OPEN_ARRAY);
        this.space();
        this.timestamps[n] = Math.round(this.number() * 1000);
        this.space();
        this.expect(COMMA);
        this.space();
        this.values[n] = this.quotedNumber();
        this.space();
        this.expect(CLOSE_ARRAY);
      }
      n++;
    });
    return n;
  }

  /**
   * The common spelling, `[1700000000.5,"1.25"]` with plain decimals and no spaces, read in one
   * tight loop; false (nothing consumed) for anything else.
   */
  private plainSample(n: number): boolean {
    const b = this.b;
    let at = this.at;
    if (b[at++] !== OPEN_ARRAY) return false;
    // Timestamp: digits, optionally a fraction of up to 3 digits (Prometheus' millisecond precision).
    let seconds = 0;
    let c = b[at];
    if (c < ZERO || c > NINE) return false;
    while (c >= ZERO && c <= NINE) {
      seconds = seconds * 10 + (c - ZERO);
      c = b[++at];
    }
    let ms = seconds * 1000;
    if (c === DOT) {
      let scale = 100;
      c = b[++at];
      if (c < ZERO || c > NINE) return false;
      while (c >= ZERO && c <= NINE) {
        if (scale < 1) return false;
        ms += (c - ZERO) * scale;
        scale /= 10;
        c = b[++at];
      }
    }
    if (c !== COMMA || b[at + 1] !== QUOTE) return false;
    const start = this.at;
    this.at = at + 2;
    const value = this.decimal();
    if (value === undefined || b[this.at] !== QUOTE || b[this.at + 1] !== CLOSE_ARRAY) {
      this.at = start;
      return false;
    }
    this.timestamps[n] = ms;
    this.values[n] = value;
    this.at += 2;
    return true;
  }

  private grow(): void {
    const timestamps = new Float64Array(this.timestamps.length * 2);
    timestamps.set(this.timestamps);
    this.timestamps = timestamps;
    const values = new Float64Array(this.values.length * 2);
    values.set(this.values);
    this.values = values;
  }

  /** A bare JSON number (a timestamp in seconds). */
  private number(): number {
    const start = this.at;
    const fast = this.decimal();
    if (fast !== undefined && !this.isNumberByte(this.b[this.at])) return fast;
    this.at = start;
    while (this.isNumberByte(this.b[this.at])) this.at++;
    const value = Number(this.latin1(start, this.at));
    if (this.at === start || Number.isNaN(value)) this.fail('expected a number');
    return value;
  }

  /** A sample value: a string holding a number, `NaN`, `+Inf` or `-Inf`. */
  private quotedNumber(): number {
    this.expect(QUOTE);
    const start = this.at;
    const fast = this.decimal();
    if (fast !== undefined && this.b[this.at] === QUOTE) {
      this.at++;
      return fast;
    }
    const end = this.b.indexOf(QUOTE, start);
    if (end < 0) this.fail('unterminated string');
    this.at = end + 1;
    return parseSampleValue(this.latin1(start, end));
  }

  /**
   * `-?digits(.digits)?` with at most 15 significant digits, exactly as Number() would read it
   * (an integer below 2^53 divided by an exact power of ten is correctly rounded); undefined
   * (position unspecified) for anything else, which the caller reads the slow way.
   */
  private decimal(): number | undefined {
    const b = this.b;
    let negative = false;
    if (b[this.at] === MINUS) {
      negative = true;
      this.at++;
    }
    let mantissa = 0;
    let digits = 0;
    let fraction = -1;
    for (;;) {
      const c = b[this.at];
      if (c >= ZERO && c <= NINE) {
        mantissa = mantissa * 10 + (c - ZERO);
        digits++;
        if (fraction >= 0) fraction++;
      } else if (c === DOT && fraction < 0) {
        fraction = 0;
      } else {
        break;
      }
      this.at++;
    }
    if (digits === 0 || digits > 15 || fraction === 0) return undefined;
    const value = fraction > 0 ? mantissa / EXACT_POWERS[fraction] : mantissa;
    return negative ? -value : value;
  }

  private isNumberByte(c: number | undefined): boolean {
    return (
      c !== undefined &&
      ((c >= ZERO && c <= NINE) || c === MINUS || c === DOT || c === 0x2b || c === 0x65 || c === 0x45)
    );
  }

  private latin1(start: number, end: number): string {
    return this.b.toString('latin1', start, end);
  }

  /**
   * Whether the key that starts at byte `start` (its opening quote) is `word`: keys are compared
   * in place, not decoded (a key with an escape is never one of ours).
   */
  private keyIs(start: number, word: string): boolean {
    const b = this.b;
    for (let i = 0; i < word.length; i++) if (b[start + 1 + i] !== word.charCodeAt(i)) return false;
    return b[start + 1 + word.length] === QUOTE;
  }

  /** `{"key": value, ..}`, calling `member` with the key's position when at its value. */
  private object(member: (keyStart: number) => void): void {
    this.sequence(OPEN_OBJECT, CLOSE_OBJECT, () => {
      const key = this.at;
      this.skipString();
      this.space();
      this.expect(COLON);
      this.space();
      member(key);
    });
  }

  private array(element: () => void): void {
    this.sequence(OPEN_ARRAY, CLOSE_ARRAY, element);
  }

  /** `open element, element.. close`, whitespace allowed around each. */
  private sequence(open: number, close: number, element: () => void): void {
    this.space();
    this.expect(open);
    this.space();
    if (this.b[this.at] === close) {
      this.at++;
      return;
    }
    for (;;) {
      this.space();
      element();
      this.space();
      const c = this.b[this.at++];
      if (c === close) return;
      if (c !== COMMA) this.fail(`expected , or ${String.fromCharCode(close)}`, this.at - 1);
    }
  }

  private stringValue(): string {
    this.space();
    const start = this.at;
    this.skipString();
    return JSON.parse(this.b.toString('utf8', start, this.at)) as string;
  }

  private skipString(): void {
    this.expect(QUOTE);
    for (;;) {
      const c = this.b[this.at++];
      if (c === QUOTE) return;
      if (c === BACKSLASH) this.at++;
      else if (c === undefined) this.fail('unterminated string');
    }
  }

  private skipValue(): void {
    this.space();
    const c = this.b[this.at];
    if (c === QUOTE) this.skipString();
    else if (c === OPEN_OBJECT) this.object(() => this.skipValue());
    else if (c === OPEN_ARRAY) this.array(() => this.skipValue());
    else {
      // A number, true, false or null.
      const start = this.at;
      while (this.at < this.b.length && /[-+.0-9a-zA-Z]/.test(String.fromCharCode(this.b[this.at])))
        this.at++;
      const word = this.latin1(start, this.at);
      if (
        (word !== 'true' && word !== 'false' && word !== 'null' && Number.isNaN(Number(word))) ||
        word === ''
      ) {
        this.fail('unexpected value');
      }
    }
  }

  private space(): void {
    for (;;) {
      const c = this.b[this.at];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.at++;
    }
  }

  private expect(byte: number): void {
    if (this.b[this.at] !== byte) this.fail(`expected ${String.fromCharCode(byte)}`);
    this.at++;
  }

  private fail(message: string, at = this.at): never {
    throw new MatrixSyntaxError(message, at);
  }
}
