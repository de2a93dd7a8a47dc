import nock from 'nock';
import { DeliveryError } from '../../../src/bridge/channels/channel';
import { channelFrom, outgoing } from './fixtures';

const API = 'https://api.twilio.com';
const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const PATH = `/2010-04-01/Accounts/${SID}/Messages.json`;
const AUTH = `Basic ${Buffer.from(`${SID}:tok`).toString('base64')}`;
const signal = new AbortController().signal;

function twilio(extra: Record<string, unknown> = {}) {
  return channelFrom({
    type: 'twilio',
    account_sid: SID,
    auth_token: 'tok',
    from: '+15005550006',
    to: ['+4915112345678', '+4917612345678'],
    ...extra,
  });
}

describe('twilio channel (SMS)', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => {
    nock.enableNetConnect();
    // nock patches node:http for the whole worker; later test files there need it back.
    nock.restore();
  });

  it('sends one form-encoded message per recipient with basic auth, what matters first', async () => {
    const channel = twilio();
    const bodies: string[] = [];
    const scope = nock(API, {
      reqheaders: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    })
      .post(PATH, (b: Record<string, string>) => (bodies.push(new URLSearchParams(b).toString()), true))
      .times(2)
      .reply(201, (_uri, body) => ({
        sid: `SM${String(body).includes('4915') ? '1' : '2'}`,
        status: 'queued',
      }));
    const receipt = await channel.send(outgoing({ instances: ['web-1', 'web-2'] }), signal);
    scope.done();
    expect(bodies).toEqual([
      'To=%2B4915112345678&Body=FIRING+2x+HostHighCpu+web-1%3A+CPU+busy+on+web-1&From=%2B15005550006',
      'To=%2B4917612345678&Body=FIRING+2x+HostHighCpu+web-1%3A+CPU+busy+on+web-1&From=%2B15005550006',
    ]);
    expect(receipt.detail).toBe('SM1, SM2 (1 GSM-7 segment)');
    await channel.close();
  });

  it('sends through a Messaging Service when one is set, and says RESOLVED', async () => {
    const channel = twilio({
      from: undefined,
      messaging_service_sid: `MG${'a'.repeat(32)}`,
      to: ['+4915112345678'],
    });
    let body = '';
    nock(API)
      .post(PATH, (b: Record<string, string>) => ((body = new URLSearchParams(b).toString()), true))
      .reply(201, { sid: 'SM9' });
    await channel.send(outgoing({ status: 'resolved' }), signal);
    expect(body).toBe(
      `To=%2B4915112345678&Body=RESOLVED+HostHighCpu+web-1%3A+CPU+busy+on+web-1&MessagingServiceSid=MG${'a'.repeat(32)}`,
    );
    await channel.close();
  });

  it('fits one segment by default, cutting the rest', async () => {
    const channel = twilio({ to: ['+4915112345678'] });
    let text = '';
    nock(API)
      .post(PATH, (b: Record<string, string>) => ((text = b.Body), true))
      .reply(201, { sid: 'SM1' });
    const receipt = await channel.send(
      outgoing({ annotations: { summary: `disk full ${'x'.repeat(300)}` } }),
      signal,
    );
    expect(text).toHaveLength(160);
    expect(text.endsWith('...')).toBe(true);
    expect(receipt.detail).toBe('SM1 (1 GSM-7 segment)');
    await channel.close();
  });

  it('a retry after one recipient failed texts only that one', async () => {
    const channel = twilio();
    nock(API)
      .post(PATH, (b: Record<string, string>) => b.To === '+4915112345678')
      .reply(201, { sid: 'SM1' })
      .post(PATH, (b: Record<string, string>) => b.To === '+4917612345678')
      .reply(503, { code: 20500, message: 'Service unavailable' });
    const err = await channel.send(outgoing(), signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).permanent).toBe(false);
    expect((err as DeliveryError).message).toMatch(
      /HTTP 503: .*Service unavailable.* \(1 of 2 recipients reached\)$/,
    );
    const retry = nock(API)
      .post(PATH, (b: Record<string, string>) => b.To === '+4917612345678')
      .reply(201, { sid: 'SM2' });
    expect((await channel.send(outgoing(), signal)).detail).toBe('SM2 (1 GSM-7 segment)');
    retry.done();
    await channel.close();
  });

  it("Twilio's 400 (a bad number) is permanent; 429 waits for Retry-After", async () => {
    const channel = twilio({ to: ['+4915112345678'] });
    nock(API).post(PATH).reply(400, { code: 21211, message: "The 'To' number is not a valid phone number." });
    await expect(channel.send(outgoing(), signal)).rejects.toMatchObject({ permanent: true });
    nock(API).post(PATH).reply(429, { code: 20429, message: 'Too Many Requests' }, { 'Retry-After': '2' });
    await expect(channel.send(outgoing(), signal)).rejects.toMatchObject({
      permanent: false,
      retryAfterMs: 2000,
    });
    await channel.close();
  });

  it('strips control characters from hostile labels', async () => {
    const channel = twilio({ to: ['+4915112345678'] });
    let text = '';
    nock(API)
      .post(PATH, (b: Record<string, string>) => ((text = b.Body), true))
      .reply(201, { sid: 'SM1' });
    await channel.send(outgoing({ instances: ['web\u0000-1\u001b[31m'] }), signal);
    expect(text).toBe('FIRING HostHighCpu web-1[31m: CPU busy on web-1[31m');
    await channel.close();
  });

  it('checks numbers and sender at load', () => {
    expect(() => twilio({ to: ['0151 1234'] })).toThrow(
      'bridge.channels[0].to[0]: expected a number in E.164 form',
    );
    expect(() => twilio({ messaging_service_sid: `MG${'a'.repeat(32)}` })).toThrow(
      'bridge.channels[0].from: set either from or messaging_service_sid',
    );
  });
});
