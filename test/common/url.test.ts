import { redactUrl, splitUserinfo } from '../../src/common/url';

describe('redactUrl', () => {
  it.each([
    ['http://user:pass@prometheus:9090/', 'http://***@prometheus:9090/'],
    ['https://token@example.com/api?x=1', 'https://***@example.com/api?x=1'],
    ['http://prometheus:9090', 'http://prometheus:9090'],
    ['not a url', 'not a url'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('splitUserinfo', () => {
  it('takes percent-encoded credentials out of the URL', () => {
    expect(splitUserinfo('http://us%20er:p%40ss@host:9090/prefix')).toEqual({
      url: 'http://host:9090/prefix',
      auth: { username: 'us er', password: 'p@ss' },
    });
    expect(splitUserinfo('http://host:9090')).toEqual({ url: 'http://host:9090' });
  });
});
