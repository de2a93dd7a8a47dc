import { breaches, parseRange } from '../../src/check/thresholds';

describe('Nagios threshold ranges', () => {
  it.each([
    // range, value, breaches
    ['10', 11, true],
    ['10', 10, false],
    ['10', -1, true],
    ['10:', 9, true],
    ['10:', 1e9, false],
    ['~:10', -1e9, false],
    ['~:10', 10.5, true],
    ['10:20', 15, false],
    ['10:20', 21, true],
    ['@10:20', 15, true],
    ['@10:20', 9, false],
    ['@1:', 1, true],
    ['@1:', 0, false],
  ])('%s with %d breaches: %s', (range, value, expected) => {
    expect(breaches(parseRange(range), value)).toBe(expected);
  });

  it.each(['', 'abc', '20:10', '1:2:3', '@', '10:x'])('rejects %j naming the syntax', (text) => {
    expect(() => parseRange(text)).toThrow(
      /^invalid threshold ".*": expected N, N:, ~:N, N:M or @N:M \(Nagios range\)$/,
    );
  });
});
