/**
 * Exposition lines written straight into one growing buffer, for outputs of a million lines and
 * more (the detector's): no string per line, pre-encoded pieces copied as bytes, and sample values
 * written digit by digit. `String(x)` of a double with 17 significant digits costs about 0.5 µs
 * here, more than all the rest of a line.
 */

/** Smallest and largest magnitudes kept in single precision (see singlePrecision). */
const SINGLE_MIN = 1e-13;
const SINGLE_MAX = 1e15;
/** Exact powers of ten: 10^22 is the largest a double holds exactly. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
const MAX_SIGNIFICANT_DIGITS = 9;
/**
 * A single-precision value lies within 2^-24 (6e-8) of the shortest decimal that gives it back,
 * so its nearest 6-digit decimal is that one padded with zeros: shorter ones need not be tried.
 */
const MIN_SIGNIFICANT_DIGITS = 6;

/**
 * `x` rounded to single precision (float32, about 7 significant digits) when its magnitude is
 * within [1e-13, 1e15); other values (0, NaN, ±Inf, tiny or huge ones) as they are. Such a value
 * is written with at most 9 significant digits, and every reader that rounds the number it parses
 * the same way gets `x` back exactly.
 */
export function singlePrecision(x: number): number {
  const single = Math.fround(x);
  const magnitude = Math.abs(single);
  return magnitude >= SINGLE_MIN && magnitude < SINGLE_MAX ? single : x;
}

const encoder = new TextEncoder();

/** A constant piece of exposition text (a metric name, a label pair) as bytes, encoded once. */
export function encodePiece(text: string): Uint8Array {
  return encoder.encode(text);
}

const NAN = encodePiece('NaN');
const PLUS_INF = encodePiece('+Inf');
const MINUS_INF = encodePiece('-Inf');
const DASH = 0x2d;
const PLUS = 0x2b;
const LETTER_E = 0x65;
const DOT = 0x2e;
const ZERO = 0x30;
const NEWLINE = 0x0a;
/** The longest value this writer spells (a double's String() form is at most 25 characters). */
const MAX_VALUE_BYTES = 32;

/** A metric family's constant pieces: its `# HELP`/`# TYPE` lines, and `name{` that opens a sample. */
export interface FamilyPieces {
  header: Uint8Array;
  opening: Uint8Array;
}

export class ExpositionWriter {
  private buffer: Buffer;
  private length = 0;
  /** The family of the last sample written: a family's header goes before its first sample. */
  private family: FamilyPieces | undefined;
  /** Decimal digits of the value being written, least significant first. */
  private readonly digits = new Uint8Array(24);

  /**
   * `expectedBytes`: the size the output will probably have (the last one's), to allocate once;
   * `reusable`: bytes that may be written over (with the rest of their memory), used if they fit.
   */
  constructor(expectedBytes: number, reusable?: Buffer) {
    const wanted = Math.max(1 << 18, Math.ceil(expectedBytes * 1.05));
    const whole =
      reusable &&
      Buffer.from(reusable.buffer, reusable.byteOffset, reusable.buffer.byteLength - reusable.byteOffset);
    this.buffer = whole && whole.length >= expectedBytes ? whole : Buffer.allocUnsafe(wanted);
  }

  /** Makes room for a line of `labelChars` characters of label text and pieces of at most 256 bytes. */
  reserveLine(labelChars: number): void {
    const room = this.length + 3 * labelChars + 256 + MAX_VALUE_BYTES;
    if (room <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(room, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /**
   * One sample line, `name{<labelText><closing><value>`, after its family's header if it is the
   * family's first (a family's samples are written together; one without any has no header).
   */
  sample(family: FamilyPieces, labelText: string, closing: Uint8Array, value: number): void {
    this.reserveLine(labelText.length);
    if (this.family !== family) this.piece(family.header);
    this.family = family;
    this.piece(family.opening);
    this.text(labelText);
    this.piece(closing);
    this.value(value);
    this.newline();
  }

  /** A pre-encoded piece (encodePiece). */
  piece(bytes: Uint8Array): void {
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < bytes.length; i++) buffer[at++] = bytes[i];
    this.length = at;
  }

  /** Text as UTF-8 (label text, already escaped). */
  text(text: string): void {
    this.length += this.buffer.write(text, this.length);
  }

  /** Ends the line. */
  newline(): void {
    this.buffer[this.length++] = NEWLINE;
  }

  /**
   * A sample value as Prometheus reads it: NaN, +Inf, -Inf, or a decimal that parses back to
   * `value` exactly. A singlePrecision value gets the fewest digits that give it back once the
   * parsed number is rounded to single precision (as `Number.prototype.toString` would spell
   * that decimal); any other double its shortest round-trip form.
   */
  value(value: number): void {
    if (value !== value) return this.piece(NAN);
    if (value === Infinity) return this.piece(PLUS_INF);
    if (value === -Infinity) return this.piece(MINUS_INF);
    let magnitude = value;
    if (value < 0) {
      this.buffer[this.length++] = DASH;
      magnitude = -value;
    }
    if (Number.isInteger(magnitude) && magnitude < SINGLE_MAX) return this.integer(magnitude);
    if (magnitude >= SINGLE_MIN && magnitude < SINGLE_MAX && Math.fround(magnitude) === magnitude) {
      if (this.single(magnitude)) return;
    }
    this.length += this.buffer.write(String(magnitude), this.length, 'latin1');
  }

  /** A non-negative integer below 1e15 (exact in a double). */
  private integer(magnitude: number): void {
    const digits = this.digits;
    let count = 0;
    let rest = magnitude;
    do {
      const next = Math.floor(rest / 10);
      digits[count++] = rest - next * 10;
      rest = next;
    } while (rest > 0);
    const buffer = this.buffer;
    let at = this.length;
    while (count > 0) buffer[at++] = ZERO + digits[--count];
    this.length = at;
  }

  /**
   * A positive single-precision value within [1e-13, 1e15): n × 10^-k with the fewest digits of n
   * that round back to it. Every product and quotient below has exact operands (n < 10^9,
   * 10^k with k ≤ 22), so it is the correctly rounded double a parser makes of that decimal.
   * Returns false if no 9 digits do (never, for such a value; the caller then uses String()).
   */
  private single(magnitude: number): boolean {
    const exponent = Math.floor(Math.log10(magnitude));
    for (let precision = MIN_SIGNIFICANT_DIGITS; precision <= MAX_SIGNIFICANT_DIGITS; precision++) {
      const k = precision - 1 - exponent;
      if (k > 22 || k < -22) return false;
      const n = k >= 0 ? Math.round(magnitude * POW10[k]) : Math.round(magnitude / POW10[-k]);
      const parsed = k >= 0 ? n / POW10[k] : n * POW10[-k];
      if (Math.fround(parsed) === magnitude) {
        this.decimal(n, k);
        return true;
      }
    }
    return false;
  }

  /** n × 10^-k (0 < n < 10^9) spelled as Number.prototype.toString spells numbers. */
  private decimal(n: number, k: number): void {
    const digits = this.digits;
    let count = 0;
    // Int32 arithmetic: n < 10^9 < 2^31.
    let rest = n | 0;
    // Trailing zeros of n are dropped into the exponent.
    while (rest % 10 === 0) {
      rest = (rest / 10) | 0;
      k--;
    }
    for (; rest > 0; rest = (rest / 10) | 0) digits[count++] = rest % 10;
    // The value is 0.d1d2…dcount × 10^point.
    const point = count - k;
    const buffer = this.buffer;
    let at = this.length;
    if (point >= count && point <= 21) {
      while (count > 0) buffer[at++] = ZERO + digits[--count];
      for (let i = k; i < 0; i++) buffer[at++] = ZERO;
    } else if (point > 0 && point <= 21) {
      for (let i = 0; i < point; i++) buffer[at++] = ZERO + digits[--count];
      buffer[at++] = DOT;
      while (count > 0) buffer[at++] = ZERO + digits[--count];
    } else if (point > -6 && point <= 0) {
      buffer[at++] = ZERO;
      buffer[at++] = DOT;
      for (let i = point; i < 0; i++) buffer[at++] = ZERO;
      while (count > 0) buffer[at++] = ZERO + digits[--count];
    } else {
      buffer[at++] = ZERO + digits[--count];
      if (count > 0) {
        buffer[at++] = DOT;
        while (count > 0) buffer[at++] = ZERO + digits[--count];
      }
      const power = point - 1;
      buffer[at++] = LETTER_E;
      buffer[at++] = power < 0 ? DASH : PLUS;
      this.length = at;
      return this.integer(Math.abs(power));
    }
    this.length = at;
  }

  /** The text written, a view of the buffer. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
