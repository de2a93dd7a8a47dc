import { PatternNovelty } from '../../src/detector/algorithms/novelty';

const options = { levels: 8, order: 4, bits: 4096, rotatePoints: 500 };

describe('pattern novelty', () => {
  test('a repeating pattern becomes familiar; a new rhythm inside the same range is new', () => {
    const novelty = new PatternNovelty(options);
    const wave = [0, 2, 4, 6, 8, 6, 4, 2];
    let last = NaN;
    for (let i = 0; i < 200; i++) last = novelty.update(wave[i % 8], 0, 8);
    expect(last).toBe(0);
    // The same levels, flat at the middle after a fall: 4 alone and 2,4 were seen, 4,2,4 never;
    // then 4,4 is new, and the flat line grows familiar as it goes on (only its longest run is new).
    const flat = [4, 4, 4, 4].map((v) => novelty.update(v, 0, 8));
    expect(flat).toEqual([0.5, 0.75, 0.5, 0.25]);
  });

  test('a level never seen is wholly new; no opinion without a range', () => {
    const novelty = new PatternNovelty(options);
    for (let i = 0; i < 100; i++) novelty.update(i % 2, 0, 8);
    expect(novelty.update(7.5, 0, 8)).toBe(1);
    expect(novelty.update(1, Infinity, -Infinity)).toBeNaN();
  });

  test('patterns are forgotten after two rotations, so the sets never fill up', () => {
    const novelty = new PatternNovelty({ ...options, rotatePoints: 50 });
    for (let i = 0; i < 60; i++) novelty.update(i % 2 ? 8 : 0, 0, 8);
    for (let i = 0; i < 120; i++) novelty.update(4, 0, 8);
    // The 0/8 alternation has not been seen for more than two rotations.
    novelty.update(0, 0, 8);
    expect(novelty.update(8, 0, 8)).toBeGreaterThan(0);
  });

  test('save and restore give the same scores; bits must be a power of two', () => {
    const a = new PatternNovelty(options);
    for (let i = 0; i < 300; i++) a.update((i * 7) % 11, 0, 11);
    const b = new PatternNovelty(options);
    b.restore(a.save());
    for (let i = 0; i < 50; i++) expect(b.update((i * 5) % 11, 0, 11)).toBe(a.update((i * 5) % 11, 0, 11));
    expect(() => new PatternNovelty({ ...options, bits: 1000 })).toThrow(/power of two/);
  });
});
