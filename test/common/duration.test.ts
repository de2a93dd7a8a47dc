import { formatDuration, parseDuration } from '../../src/common/duration';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1.5h', 5_400_000],
    ['15', 15_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('takes a bare number as seconds', () => {
    expect(parseDuration(2)).toBe(2000);
  });

  it.each(['', '5x', 'm5', '1h 30m', '-1s', '1hh', '1s5'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
});

describe('formatDuration', () => {
  it('writes the shortest Prometheus form', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(604_800_000 + 1000)).toBe('1w1s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(0)).toBe('0s');
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 61_000, 90_061_001]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
