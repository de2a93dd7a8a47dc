import nock from 'nock';
import { DeliveryError } from '../../../src/bridge/channels/channel';
import { BRIDGE_URL, channelFrom, outgoing, PNG } from './fixtures';

const HOOK = 'https://hooks.slack.com';
const HOOK_PATH = '/services/T000/B000/secret';
const API = 'https://slack.com';
const signal = new AbortController().signal;

const SOURCE =
  'http://prometheus.example:9090/graph?g0.expr=instance%3Anode_cpu_busy%3Aratio+%3E+0.9&amp;g0.tab=1';
const SILENCE =
  'http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22HostHighCpu%22%2C%20instance%3D%22web-1%22%2C%20job%3D%22node%22%2C%20severity%3D%22critical%22%7D';
const TITLE = '[FIRING:1] HostHighCpu (instance=web-1 job=node severity=critical)';
const SECTION = {
  type: 'section',
  text: {
    type: 'mrkdwn',
    text: `*FIRING: HostHighCpu* - CPU busy on web-1\nAbove 90% for 5 minutes.\nStarted 23 Nov 2026, 14:02:00 UTC (18m)\n\`instance=web-1\` \`job=node\` \`severity=critical\`\n<${SOURCE}|Source> <${SILENCE}|Silence>`,
  },
};
const HEADER = { type: 'header', text: { type: 'plain_text', text: TITLE, emoji: true } };
const CONTEXT = {
  type: 'context',
  elements: [
    { type: 'mrkdwn', text: `vigil bridge · route default · times in UTC · <${BRIDGE_URL}/|status>` },
  ],
};

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(err)}`);
  return err;
}

describe('slack channel', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => {
    nock.enableNetConnect();
    // nock patches node:http for the whole worker; later test files there need it back.
    nock.restore();
  });

  describe('incoming webhook', () => {
    const channel = channelFrom({ type: 'slack', webhook_url: `${HOOK}${HOOK_PATH}` });
    afterAll(() => channel.close());

    it('posts Block Kit with the status colour and the graph as an image from external_url', async () => {
      let body: unknown;
      const scope = nock(HOOK)
        .post(HOOK_PATH, (b: unknown) => ((body = b), true))
        .matchHeader('content-type', 'application/json; charset=utf-8')
        .reply(200, 'ok');
      expect(await channel.send(outgoing(), signal)).toEqual({ detail: 'HTTP 200 ok' });
      scope.done();
      expect(body).toEqual({
        text: TITLE,
        attachments: [
          {
            color: '#c53a32',
            blocks: [
              HEADER,
              SECTION,
              { type: 'image', image_url: `${BRIDGE_URL}/graph/g1.png`, alt_text: 'graph of HostHighCpu' },
              CONTEXT,
            ],
          },
        ],
      });
    });

    it('resolved messages are green', async () => {
      let body: { attachments: Array<{ color: string }> } | undefined;
      nock(HOOK)
        .post(HOOK_PATH, (b: typeof body) => ((body = b), true))
        .reply(200, 'ok');
      await channel.send(outgoing({ status: 'resolved' }), signal);
      expect(body?.attachments[0].color).toBe('#2e8b3e');
    });

    it("retries Slack's 429 no sooner than its Retry-After, and 5xx; gives up on 4xx", async () => {
      nock(HOOK).post(HOOK_PATH).reply(429, 'rate_limited', { 'Retry-After': '30' });
      const limited = await failure(channel.send(outgoing(), signal));
      expect(limited).toMatchObject({ permanent: false, retryAfterMs: 30_000 });
      expect(limited.message).toBe('Slack (hooks.slack.com): HTTP 429: rate_limited');
      nock(HOOK).post(HOOK_PATH).reply(500, 'rollup_error');
      expect(await failure(channel.send(outgoing(), signal))).toMatchObject({ permanent: false });
      nock(HOOK).post(HOOK_PATH).reply(404, 'channel_not_found');
      const gone = await failure(channel.send(outgoing(), signal));
      expect(gone.permanent).toBe(true);
      // The webhook URL is a secret: errors name the host only.
      expect(gone.message).not.toContain('secret');
    });

    it('keeps within 50 blocks and 3,000 characters a section, saying what was cut', async () => {
      let body:
        { attachments: Array<{ blocks: Array<{ type: string; text?: { text: string } }> }> } | undefined;
      nock(HOOK)
        .post(HOOK_PATH, (b: typeof body) => ((body = b), true))
        .reply(200, 'ok');
      const instances = Array.from({ length: 60 }, (_, i) => `web-${i}`);
      await channel.send(outgoing({ instances, annotations: { description: 'x'.repeat(5000) } }), signal);
      const blocks = body!.attachments[0].blocks;
      expect(blocks).toHaveLength(50);
      const sections = blocks.filter((b) => b.type === 'section');
      // Header and context take two; each alert a section and an image: 24 alerts.
      expect(sections).toHaveLength(24);
      for (const s of sections) expect(s.text!.text.length).toBeLessThanOrEqual(3000);
      expect(sections[0].text!.text).toMatch(/_… cut: Slack shows 3,000 characters of a section_$/);
      expect(JSON.stringify(blocks[49])).toContain(
        '36 more alerts not shown: Slack takes 50 blocks per message',
      );
    });

    it('escapes hostile label values for mrkdwn: no mentions, no links', async () => {
      let text = '';
      nock(HOOK)
        .post(HOOK_PATH, (b: { attachments: Array<{ blocks: Array<{ text?: { text: string } }> }> }) => {
          text = b.attachments[0].blocks[1].text!.text;
          return true;
        })
        .reply(200, 'ok');
      await channel.send(outgoing({ instances: ['<!channel> <http://evil.example|click> & co'] }), signal);
      expect(text).toContain('`instance=&lt;!channel&gt; &lt;http://evil.example|click&gt; &amp; co`');
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<http://evil.example');
    });
  });

  describe('bot token', () => {
    const token = 'xoxb-test-token';
    const channel = channelFrom({ type: 'slack', bot_token: token, channel: 'C0123456789' });
    afterAll(() => channel.close());

    it('posts with chat.postMessage, then uploads each graph into its thread by the external upload flow', async () => {
      const calls: Array<{ path: string; body: unknown }> = [];
      const record = (path: string) => (b: unknown) => (calls.push({ path, body: b }), true);
      const scope = nock(API, { reqheaders: { authorization: `Bearer ${token}` } })
        .post('/api/chat.postMessage', record('post'))
        .reply(200, { ok: true, channel: 'C0123456789', ts: '1700000000.000100' })
        .post('/api/files.getUploadURLExternal', record('url'))
        .reply(200, { ok: true, upload_url: 'https://files.slack.com/upload/v1/abc', file_id: 'F0001' })
        .post('/api/files.completeUploadExternal', record('complete'))
        .reply(200, { ok: true, files: [{ id: 'F0001' }] });
      let uploaded: Buffer | undefined;
      const upload = nock('https://files.slack.com')
        .post('/upload/v1/abc')
        .reply(200, function (_uri, body) {
          uploaded = Buffer.from(body as string, 'hex');
          return 'OK - 11';
        });
      const receipt = await channel.send(outgoing(), signal);
      scope.done();
      upload.done();
      expect(receipt.detail).toBe('posted 1700000000.000100 with 1 graph');
      expect(calls).toEqual([
        {
          path: 'post',
          body: {
            channel: 'C0123456789',
            text: TITLE,
            attachments: [{ color: '#c53a32', blocks: [HEADER, SECTION, CONTEXT] }],
          },
        },
        { path: 'url', body: { filename: 'HostHighCpu.png', length: String(PNG.length) } },
        {
          path: 'complete',
          body: {
            files: [{ id: 'F0001', title: 'graph of HostHighCpu' }],
            channel_id: 'C0123456789',
            thread_ts: '1700000000.000100',
          },
        },
      ]);
      expect(uploaded).toEqual(PNG);
    });

    it('a retry after a failed upload does not post the message again', async () => {
      nock(API)
        .post('/api/chat.postMessage')
        .reply(200, { ok: true, ts: '1.2' })
        .post('/api/files.getUploadURLExternal')
        .reply(200, { ok: false, error: 'internal_error' });
      const first = await failure(channel.send(outgoing(), signal));
      expect(first).toMatchObject({
        permanent: false,
        message: 'Slack files.getUploadURLExternal: internal_error',
      });
      const retry = nock(API)
        .post('/api/files.getUploadURLExternal')
        .reply(200, { ok: true, upload_url: 'https://files.slack.com/u/2', file_id: 'F2' })
        .post('/api/files.completeUploadExternal', (b: { thread_ts: string }) => b.thread_ts === '1.2')
        .reply(200, { ok: true });
      nock('https://files.slack.com').post('/u/2').reply(200, 'OK');
      expect((await channel.send(outgoing(), signal)).detail).toBe('posted 1.2 with 1 graph');
      retry.done();
    });

    it("Slack's own errors (HTTP 200, ok: false) are permanent unless worth another try", async () => {
      nock(API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'channel_not_found' });
      expect(await failure(channel.send(outgoing(), signal))).toMatchObject({
        permanent: true,
        message: 'Slack chat.postMessage: channel_not_found',
      });
      nock(API)
        .post('/api/chat.postMessage')
        .reply(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': '3' });
      expect(await failure(channel.send(outgoing(), signal))).toMatchObject({
        permanent: false,
        retryAfterMs: 3000,
      });
    });
  });

  it('needs exactly one of webhook_url and bot_token, and a channel with the token', () => {
    expect(() => channelFrom({ type: 'slack' })).toThrow(
      'bridge.channels[0].webhook_url: set either webhook_url or bot_token',
    );
    expect(() => channelFrom({ type: 'slack', bot_token: 'x' })).toThrow(
      'bridge.channels[0].channel: the channel ID to post to is needed with bot_token',
    );
  });
});
