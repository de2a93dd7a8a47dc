import nock from 'nock';
import { TEAMS_MAX_BYTES } from '../../../src/bridge/channels/teams';
import { BRIDGE_URL, channelFrom, outgoing } from './fixtures';

const FLOW = 'https://prod-01.westeurope.logic.azure.com';
const FLOW_PATH = '/workflows/abc/triggers/manual/paths/invoke';
const signal = new AbortController().signal;

describe('teams channel (Workflows webhook, Adaptive Card)', () => {
  const channel = channelFrom({ type: 'teams', webhook_url: `${FLOW}${FLOW_PATH}?sig=secret` });
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    // nock patches node:http for the whole worker; later test files there need it back.
    nock.restore();
    await channel.close();
  });

  function capture(): { body?: string } {
    const seen: { body?: string } = {};
    nock(FLOW)
      .post(FLOW_PATH, (b: unknown) => ((seen.body = JSON.stringify(b)), true))
      .query({ sig: 'secret' })
      .reply(202);
    return seen;
  }

  it('sends the card in attachments with the graph as an image from external_url', async () => {
    const seen = capture();
    expect(await channel.send(outgoing(), signal)).toEqual({ detail: 'HTTP 202' });
    expect(JSON.parse(seen.body!)).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            msteams: { width: 'Full' },
            body: [
              {
                type: 'TextBlock',
                text: '\\[FIRING:1\\] HostHighCpu (instance=web-1 job=node severity=critical)',
                size: 'Large',
                weight: 'Bolder',
                wrap: true,
                color: 'Attention',
              },
              {
                type: 'Container',
                separator: true,
                items: [
                  {
                    type: 'TextBlock',
                    text: '**FIRING: HostHighCpu** - CPU busy on web-1\n\nAbove 90% for 5 minutes.\n\nStarted 23 Nov 2026, 14:02:00 UTC (18m)\n\ninstance=web-1, job=node, severity=critical',
                    wrap: true,
                    color: 'Attention',
                  },
                  {
                    type: 'Image',
                    url: `${BRIDGE_URL}/graph/g1.png`,
                    altText: 'graph of HostHighCpu',
                    size: 'Stretch',
                  },
                  {
                    type: 'ActionSet',
                    actions: [
                      {
                        type: 'Action.OpenUrl',
                        title: 'Source',
                        url: 'http://prometheus.example:9090/graph?g0.expr=instance%3Anode_cpu_busy%3Aratio+%3E+0.9&g0.tab=1',
                      },
                      {
                        type: 'Action.OpenUrl',
                        title: 'Silence',
                        url: 'http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22HostHighCpu%22%2C%20instance%3D%22web-1%22%2C%20job%3D%22node%22%2C%20severity%3D%22critical%22%7D',
                      },
                    ],
                  },
                ],
              },
              {
                type: 'TextBlock',
                text: 'vigil bridge, route default, times in UTC.',
                isSubtle: true,
                size: 'Small',
                wrap: true,
              },
            ],
            actions: [{ type: 'Action.OpenUrl', title: 'Status', url: `${BRIDGE_URL}/` }],
          },
        },
      ],
    });
  });

  it('stays within 28 KB, measured on the body sent, and says how many alerts it left out', async () => {
    const seen = capture();
    const instances = Array.from({ length: 100 }, (_, i) => `web-${i}`);
    await channel.send(outgoing({ instances, annotations: { description: 'é'.repeat(600) } }), signal);
    const bytes = Buffer.byteLength(seen.body!);
    expect(bytes).toBeLessThanOrEqual(TEAMS_MAX_BYTES);
    // Close to the limit: alerts are dropped one at a time, not by halves.
    expect(bytes).toBeGreaterThan(TEAMS_MAX_BYTES - 3000);
    const shown = (seen.body!.match(/"type":"Container"/g) ?? []).length;
    expect(shown).toBeGreaterThan(5);
    expect(seen.body).toContain(`${100 - shown} more alerts not shown: Teams takes 28 KB per message.`);
  });

  it('escapes hostile label values for Adaptive Card Markdown: no links, no emphasis', async () => {
    const seen = capture();
    await channel.send(
      outgoing({ instances: ['[reset your password](http://evil.example) **now**'] }),
      signal,
    );
    const card = JSON.parse(seen.body!) as {
      attachments: Array<{ content: { body: Array<{ items?: Array<{ text?: string }> }> } }>;
    };
    const text = card.attachments[0].content.body[1].items![0].text!;
    expect(text).toContain('instance=\\[reset your password\\](http://evil.example) \\*\\*now\\*\\*');
    expect(text).not.toContain('[reset your password](');
  });
});
