import { formatListen, parseListen } from '../../src/common/listen';

describe('parseListen', () => {
  it('reads :PORT as every interface', () => {
    expect(parseListen(':9110')).toEqual({ host: '', port: 9110 });
  });

  it('reads host, IPv4 and bracketed IPv6 addresses', () => {
    expect(parseListen('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]:9111')).toEqual({ host: '::1', port: 9111 });
  });

  it.each(['9110', 'host:', 'host:70000', 'a:b', '::1:80'])('rejects %j with a one-line reason', (text) => {
    expect(() => parseListen(text)).toThrow(/^invalid listen address ".*": expected HOST:PORT or :PORT$/);
  });

  it('formats IPv6 back in brackets', () => {
    expect(formatListen({ host: '::1', port: 1 })).toBe('[::1]:1');
    expect(formatListen({ host: '', port: 9 })).toBe(':9');
  });
});
