import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError } from '../../../src/bridge/channels/channel';
import { freePort } from '../../helpers/net';
import { channelFrom, outgoing } from './fixtures';

/** Every HTTP channel pointed at the same misbehaving peers: the one helper decides for all. */
const CHANNELS: Record<string, (base: string) => Record<string, unknown>> = {
  slack: (base) => ({ type: 'slack', webhook_url: `${base}/hook` }),
  'slack (bot)': (base) => ({ type: 'slack', bot_token: 'xoxb-1', channel: 'C1', api_url: `${base}/api` }),
  teams: (base) => ({ type: 'teams', webhook_url: `${base}/hook` }),
  twilio: (base) => ({
    type: 'twilio',
    account_sid: `AC${'0'.repeat(32)}`,
    auth_token: 't',
    from: '+15005550006',
    to: ['+4915112345678'],
    api_url: base,
  }),
  webhook: (base) => ({ type: 'webhook', url: `${base}/hook` }),
};

const MODES = ['busy', 'limited', 'silent'] as const;
type Mode = (typeof MODES)[number];

describe.each(Object.keys(CHANNELS))('%s through the HTTP delivery helper', (type) => {
  const servers = new Map<Mode, { server: http.Server; base: string }>();
  const signal = new AbortController().signal;

  beforeAll(async () => {
    for (const mode of MODES) {
      const server = http.createServer((req, res) => {
        req.resume();
        if (mode === 'busy') res.writeHead(502).end('<html>Bad Gateway</html>');
        if (mode === 'limited') res.writeHead(429, { 'Retry-After': '12' }).end('slow down');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.set(mode, { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    }
  });
  afterAll(async () => {
    for (const { server } of servers.values()) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function attempt(base: string, extra: Record<string, unknown> = {}): Promise<DeliveryError> {
    const channel = channelFrom({ ...CHANNELS[type](base), ...extra });
    try {
      const err = await channel.send(outgoing({ graphs: false }), signal).catch((e: unknown) => e);
      if (!(err instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(err)}`);
      return err;
    } finally {
      await channel.close();
    }
  }

  it('retries a 5xx, quoting the answer', async () => {
    const err = await attempt(servers.get('busy')!.base);
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/HTTP 502: <html>Bad Gateway<\/html>/);
  });

  it('retries a 429 no sooner than Retry-After', async () => {
    const err = await attempt(servers.get('limited')!.base);
    expect(err).toMatchObject({ permanent: false, retryAfterMs: 12_000 });
  });

  it('retries a peer that does not answer in time', async () => {
    const err = await attempt(servers.get('silent')!.base, { http: { timeout: '200ms' } });
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/no answer within 200 ms/);
  });

  it('retries a refused connection', async () => {
    const err = await attempt(`http://127.0.0.1:${await freePort()}`);
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});
