import { encodePiece, ExpositionWriter, singlePrecision } from '../../src/common/exposition-writer';
import { formatLabels, formatValue } from '../../src/common/exposition';
import { parseSampleValue } from '../../src/common/matrix-parser';

/** The spelling the writer must give, found the slow way. */
function reference(value: number): string {
  const magnitude = Math.abs(value);
  const single = Math.fround(magnitude) === magnitude && magnitude >= 1e-13 && magnitude < 1e15;
  if (!single || Number.isInteger(magnitude)) return formatValue(value);
  // The fewest significant digits whose decimal, rounded to single precision, is the value.
  for (let digits = 1; digits <= 9; digits++) {
    const decimal = Number(magnitude.toPrecision(digits));
    if (Math.fround(decimal) === magnitude) return `${value < 0 ? '-' : ''}${decimal}`;
  }
  throw new Error(`no 9 digits give ${value} back`);
}

/** Each value as written, one line each (one writer for all: a writer allocates 256 KiB). */
function writtenAll(values: number[]): string[] {
  const writer = new ExpositionWriter(0);
  for (const value of values) {
    writer.reserveLine(0);
    writer.value(value);
    writer.newline();
  }
  return writer.bytes().toString().split('\n').slice(0, -1);
}

const written = (value: number) => writtenAll([value])[0];

/** A fixed pseudo-random sequence (mulberry32): the same numbers on every run. */
function randoms(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  42,
  -1234567,
  16_777_217,
  2 ** 31,
  999_999_999_999_999,
  1e15,
  1e20,
  1.7976931348623157e308,
  0.1,
  -0.1,
  0.5,
  1 / 3,
  -2 / 3,
  123.456,
  1234567.5,
  8_388_607.5,
  1e-6,
  1.5e-7,
  1e-7,
  9.87654e-10,
  1e-13,
  9.99e-14,
  1e-300,
  5e-324,
  -5e-324,
  3.4028234663852886e38,
  NaN,
  Infinity,
  -Infinity,
];

describe('ExpositionWriter values', () => {
  const random = randoms(12);
  const spread = Array.from({ length: 50_000 }, () => {
    const value = (random() - 0.5) * 10 ** Math.floor(random() * 44 - 22);
    return random() < 0.5 ? value : Math.round(value);
  });

  test.each(SPECIAL)('%p is spelled as the reference spells it', (raw) => {
    for (const value of [raw, singlePrecision(raw)]) expect(written(value)).toBe(reference(value));
  });

  test('50,000 values of every magnitude, as they are and in single precision', () => {
    const wrong: string[] = [];
    const values = spread.flatMap((raw) => [raw, singlePrecision(raw)]);
    const texts = writtenAll(values);
    expect(texts).toHaveLength(values.length);
    for (const [i, value] of values.entries()) {
      const text = texts[i];
      // Exact: what a parser reads, rounded as the value was, is the value.
      const parsed = parseSampleValue(text);
      const back = value === singlePrecision(value) ? singlePrecision(parsed) : parsed;
      if (text !== reference(value) || !Object.is(back, value === 0 ? 0 : value)) {
        wrong.push(`${value}: ${text}, want ${reference(value)}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  test('single precision: about 7 digits kept, zero, tiny, huge and non-finite values untouched', () => {
    expect(singlePrecision(0.1)).toBe(Math.fround(0.1));
    expect(written(singlePrecision(0.1))).toBe('0.1');
    expect(written(singlePrecision(123456789.123))).toBe('123456792');
    expect(written(singlePrecision(-2.5e-9))).toBe('-2.5e-9');
    for (const untouched of [0, 1e-14, 1e16, 1e300, NaN, Infinity, -Infinity]) {
      expect(singlePrecision(untouched)).toBe(untouched);
    }
    expect(written(singlePrecision(Math.PI * 1e-20))).toBe(String(Math.PI * 1e-20));
  });
});

describe('ExpositionWriter lines', () => {
  test('pieces, UTF-8 label text and values, through many regrowths of the buffer', () => {
    const opening = encodePiece('vigil_anomaly_score{');
    const closing = encodePiece(',detector="zscore"} ');
    const notes = ['plain', 'quote " inside', 'back\\slash', 'new\nline', 'Zürich ☃ 𝄞', ''];
    const random = randoms(7);
    const writer = new ExpositionWriter(0);
    let want = '';
    for (let i = 0; i < 30_000; i++) {
      const labelText = formatLabels({
        instance: `host-${i}:9100`,
        note: notes[i % 6].repeat(1 + (i % 40)),
      }).slice(1, -1);
      const value = singlePrecision((random() - 0.5) * 10 ** ((i % 30) - 15));
      writer.reserveLine(labelText.length);
      writer.piece(opening);
      writer.text(labelText);
      writer.piece(closing);
      writer.value(value);
      writer.newline();
      want += `vigil_anomaly_score{${labelText},detector="zscore"} ${reference(value)}\n`;
    }
    const got = writer.bytes();
    expect(got.length).toBeGreaterThan(4 << 20);
    expect(got.toString()).toBe(want);
  });
});

describe('ExpositionWriter over the last rendering', () => {
  test('writes over reusable bytes in place, and only what it wrote is the output', () => {
    const first = new ExpositionWriter(0);
    for (let i = 0; i < 1_000; i++) {
      first.reserveLine(20);
      first.text(`long line number ${i}`);
      first.value(i / 7);
      first.newline();
    }
    const last = first.bytes();
    const writer = new ExpositionWriter(last.length, last);
    writer.reserveLine(5);
    writer.text('short ');
    writer.value(singlePrecision(0.25));
    writer.newline();
    expect(writer.bytes().toString()).toBe('short 0.25\n');
    expect(writer.bytes().buffer).toBe(last.buffer);
    // Too small for what the last rendering took: fresh memory.
    expect(new ExpositionWriter(1 << 20, last.subarray(0, 10)).bytes().buffer).not.toBe(last.buffer);
  });
});
