import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { DeliveryError } from '../../../src/bridge/channels/channel';
import { tempDir } from '../../helpers/tmp';
import { BRIDGE_URL, channelFrom, outgoing } from './fixtures';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('webhook channel (templated JSON to any URL)', () => {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(req.url === '/reject' ? 422 : 200).end(req.url === '/reject' ? 'unknown field' : '{}');
    });
  });
  let base = '';
  const dir = tempDir('vigil-webhook-');
  const signal = new AbortController().signal;

  beforeAll(
    () =>
      new Promise<void>((resolve) =>
        server.listen(0, '127.0.0.1', () => {
          base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          resolve();
        }),
      ),
  );
  beforeEach(() => (received.length = 0));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    dir.remove();
  });

  it('posts the default JSON body with headers, auth and an idempotency key', async () => {
    const channel = channelFrom({
      type: 'webhook',
      url: `${base}/hook`,
      headers: { 'X-Api-Key': 'k1' },
      bearer_token: 'b1',
    });
    expect(await channel.send(outgoing(), signal)).toEqual({ detail: 'HTTP 200' });
    await channel.close();
    const [request] = received;
    expect(request).toMatchObject({ method: 'POST', url: '/hook' });
    expect(request.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-api-key': 'k1',
      authorization: 'Bearer b1',
      'idempotency-key': '0001-abc',
    });
    expect(JSON.parse(request.body)).toEqual({
      version: '1',
      status: 'firing',
      subject: '[FIRING:1] HostHighCpu (instance=web-1 job=node severity=critical)',
      receiver: 'vigil.ops',
      route: 'default',
      externalURL: 'http://alertmanager.example:9093/',
      groupLabels: { alertname: 'HostHighCpu' },
      commonLabels: { alertname: 'HostHighCpu', instance: 'web-1', job: 'node', severity: 'critical' },
      alerts: [
        {
          status: 'firing',
          name: 'HostHighCpu',
          labels: { instance: 'web-1', job: 'node', severity: 'critical' },
          summary: 'CPU busy on web-1',
          description: 'Above 90% for 5 minutes.',
          startsAt: '23 Nov 2026, 14:02:00 UTC',
          endsAt: '',
          graphURL: `${BRIDGE_URL}/graph/g1.png`,
          sourceURL:
            'http://prometheus.example:9090/graph?g0.expr=instance%3Anode_cpu_busy%3Aratio+%3E+0.9&g0.tab=1',
          silenceURL:
            'http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22HostHighCpu%22%2C%20instance%3D%22web-1%22%2C%20job%3D%22node%22%2C%20severity%3D%22critical%22%7D',
          runbookURL: '',
        },
      ],
    });
  });

  it('keeps hostile label values inside their JSON strings', async () => {
    const channel = channelFrom({
      type: 'webhook',
      url: `${base}/hook`,
      basic_auth: { username: 'u', password: 'p' },
    });
    const hostile = 'x", "status": "resolved", "y": "\n\\';
    await channel.send(outgoing({ instances: [hostile] }), signal);
    await channel.close();
    const body = JSON.parse(received[0].body) as {
      status: string;
      alerts: Array<{ labels: { instance: string } }>;
    };
    expect(body.status).toBe('firing');
    expect(body.alerts[0].labels.instance).toBe(hostile);
    expect(received[0].headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('renders a user body template from a file, with PUT', async () => {
    const file = path.join(dir.path, 'body.json');
    fs.writeFileSync(
      file,
      '{"host": "{{#each commonLabels}}{{#if (eq name "instance")}}{{value}}{{/if}}{{/each}}", "up": {{#if firing}}0{{else}}1{{/if}} }',
    );
    const channel = channelFrom({
      type: 'webhook',
      url: `${base}/zabbix`,
      method: 'PUT',
      templates: { body_file: file },
    });
    await channel.send(outgoing({ status: 'resolved' }), signal);
    await channel.close();
    expect(received[0].method).toBe('PUT');
    expect(JSON.parse(received[0].body)).toEqual({ host: 'web-1', up: 1 });
  });

  it('a broken template fails when the channel is built, saying where and why', () => {
    expect(() =>
      channelFrom({ type: 'webhook', url: `${base}/hook`, templates: { body: '{"a": {{status}}}' } }),
    ).toThrow(
      /^bridge\.channels\[0\]\.templates\.body: invalid template: Parse error on line 1: Expecting .*got 'CLOSE_UNESCAPED'$/,
    );
  });

  it('a template that makes invalid JSON fails for good, before anything is sent', async () => {
    const channel = channelFrom({
      type: 'webhook',
      url: `${base}/hook`,
      templates: { body: '{"a": {{status}} }' },
    });
    const err = await channel.send(outgoing(), signal).catch((e: unknown) => e);
    await channel.close();
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).permanent).toBe(true);
    expect((err as DeliveryError).message).toMatch(/^webhook: the body template made invalid JSON: /);
    expect(received).toHaveLength(0);
  });

  it('a 4xx answer is permanent and quoted', async () => {
    const channel = channelFrom({ type: 'webhook', url: `${base}/reject` });
    await expect(channel.send(outgoing(), signal)).rejects.toMatchObject({
      permanent: true,
      message: expect.stringMatching(/^webhook \(127\.0\.0\.1:\d+\): HTTP 422: unknown field$/),
    });
    await channel.close();
  });
});
