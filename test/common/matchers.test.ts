import { matchesAll, parseMatcher } from '../../src/common/matchers';

describe('label matchers (Alertmanager syntax)', () => {
  const labels = { alertname: 'DiskFull', severity: 'critical', team: 'db' };

  it.each([
    ['severity="critical"', true],
    ['severity=critical', true],
    ['severity="warning"', false],
    ['team!="db"', false],
    ['team!="web"', true],
    ['alertname=~"Disk.*"', true],
    // Anchored at both ends, as in Alertmanager.
    ['alertname=~"Disk"', false],
    ['alertname!~"Disk.*|Cpu.*"', false],
    // A missing label matches as the empty string.
    ['missing=""', true],
    ['missing!=""', false],
    ['missing=~".*"', true],
    ['  severity = "critical"  ', true],
    ['note="a \\"quoted\\" word"', false],
  ])('%s matches: %s', (text, expected) => {
    expect(parseMatcher(text).matches(labels)).toBe(expected);
  });

  it('reads escapes in quoted values', () => {
    expect(parseMatcher('note="say \\"hi\\"\\n"').value).toBe('say "hi"\n');
  });

  it.each([
    ['severity', 'expected a matcher such as severity="critical"'],
    ['1abc="x"', 'invalid label name "1abc"'],
    ['a=~"(unclosed"', 'invalid regular expression "(unclosed"'],
    ['a="unterminated', 'invalid quoted value "unterminated'],
    ['a=two words', 'put the value "two words" in double quotes'],
  ])('rejects %s', (text, message) => {
    expect(() => parseMatcher(text)).toThrow(message);
  });

  it('needs every matcher to match; none matches everything', () => {
    const both = ['severity="critical"', 'team=~"db|web"'].map(parseMatcher);
    expect(matchesAll(both, labels)).toBe(true);
    expect(matchesAll(both, { ...labels, team: 'ops' })).toBe(false);
    expect(matchesAll([], labels)).toBe(true);
  });
});
