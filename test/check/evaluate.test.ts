import { evaluate } from '../../src/check/evaluate';
import { parseRange } from '../../src/check/thresholds';

const options = {
  warning: parseRange('80'),
  critical: parseRange('90'),
  subject: 'disk_used_percent',
  emptyStatus: 3 as const,
};

describe('evaluate', () => {
  it('is OK with perfdata when every series is within the thresholds', () => {
    const result = evaluate(
      [
        { labels: { __name__: 'x', instance: 'a' }, value: 12.5 },
        { labels: { instance: 'b' }, value: 50 },
      ],
      options,
    );
    expect(result.status).toBe(0);
    expect(result.line).toBe("OK - 2 series OK | 'instance=a'=12.5;80;90 'instance=b'=50;80;90");
  });

  it('lets the worst series decide and names it', () => {
    const result = evaluate(
      [
        { labels: { instance: 'a' }, value: 85 },
        { labels: { instance: 'b' }, value: 95 },
        { labels: { instance: 'c' }, value: 10 },
      ],
      options,
    );
    expect(result.status).toBe(2);
    expect(result.line.startsWith('CRITICAL - instance=b = 95 | ')).toBe(true);
  });

  it('ranks WARNING above a NaN (UNKNOWN) series and UNKNOWN above OK', () => {
    expect(
      evaluate(
        [
          { labels: { a: '1' }, value: NaN },
          { labels: { a: '2' }, value: 85 },
        ],
        options,
      ).status,
    ).toBe(1);
    expect(
      evaluate(
        [
          { labels: { a: '1' }, value: NaN },
          { labels: { a: '2' }, value: 1 },
        ],
        options,
      ).status,
    ).toBe(3);
  });

  it('uses the subject for a series without labels', () => {
    expect(evaluate([{ labels: {}, value: 3 }], options).line).toBe(
      "OK - disk_used_percent = 3 | 'disk_used_percent'=3;80;90",
    );
  });

  it('reports no data with the chosen status', () => {
    expect(evaluate([], options)).toEqual({ status: 3, line: 'UNKNOWN - disk_used_percent: no data' });
    expect(evaluate([], { ...options, emptyStatus: 0 }).status).toBe(0);
  });

  it('keeps perfdata labels from breaking the line', () => {
    const line = evaluate([{ labels: { path: "it's|x\ny" }, value: 1 }], options).line;
    expect(line).toContain("'path=it''s_x_y'=1;80;90");
    expect(line.split('|')).toHaveLength(2);
  });

  it('caps the names in the text and counts the rest', () => {
    const samples = Array.from({ length: 8 }, (_, i) => ({ labels: { instance: `h${i}` }, value: 99 }));
    expect(evaluate(samples, options).line).toMatch(
      /^CRITICAL - instance=h0 = 99, .*instance=h4 = 99 \(\+3 more\) \| /,
    );
  });
});
