import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ZabbixChannel, zabbixSchema } from '../../../src/bridge/channels/zabbix';
import { enrichedNotification } from '../fixtures';

const CONTEXT = { timeZone: 'UTC', where: 'bridge.channels[0]' };
const TOKEN = 'b0b1c2d3';

/**
 * A Zabbix 7.0 API doing what its manual documents for history.push: the API token as a Bearer
 * header, values by host and key, one result per value in result.data (itemid, or error for a value
 * it did not take), a JSON-RPC error for a call it refuses as a whole. Zabbix 7 is not in Debian.
 */
async function startZabbixApi(items: Map<string, string>) {
  const calls: Array<Array<{ host: string; key: string; value: string; clock: number; ns: number }>> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as { method: string; params: (typeof calls)[number]; id: number };
      const reply = (payload: object): void => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', ...payload, id: request.id }));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return reply({ error: { code: -32602, message: 'Invalid params.', data: 'Not authorized.' } });
      }
      calls.push(request.params);
      reply({
        result: {
          response: 'success',
          data: request.params.map((v) => {
            const itemid = items.get(`${v.host}/${v.key}`);
            return itemid ? { itemid } : { error: 'No permissions to referred object or it does not exist.' };
          }),
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api_jsonrpc.php`;
  return { url, calls, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('zabbix channel by history.push (Zabbix 7.0+)', () => {
  it('pushes one value per alert; a refused one is retried alone until taken', async () => {
    const items = new Map([['web-1/vigil.alert[critical]', '10600']]);
    const api = await startZabbixApi(items);
    const channel = new ZabbixChannel(
      zabbixSchema.parse({ name: 'z', type: 'zabbix', api: { url: api.url, token: TOKEN } }),
      CONTEXT,
    );
    try {
      const notification = enrichedNotification({
        alertname: 'DiskFull',
        instances: ['web-1:9100', 'web-2:9100'],
        annotations: { summary: 'disk full', value: '95.2' },
        startsAt: '2026-11-23T14:02:00.250Z',
      });
      const message = { id: 'm1', route: 'default', receivedAt: 0, notification };
      await expect(channel.send(message)).rejects.toMatchObject({
        permanent: false,
        message:
          'Zabbix API refused 1 of 2 values (host "web-2" key "vigil.alert[critical]": No permissions to referred object or it does not exist.): is there an enabled trapper item with that key on that host, allowing this bridge?',
      });
      expect(api.calls[0]).toEqual([
        {
          host: 'web-1',
          key: 'vigil.alert[critical]',
          value: 'FIRING fp-DiskFull-web-1:9100 DiskFull: disk full (value 95.2)',
          clock: Date.parse('2026-11-23T14:02:00Z') / 1000,
          ns: 250_000_000,
        },
        expect.objectContaining({ host: 'web-2' }),
      ]);

      items.set('web-2/vigil.alert[critical]', '10601');
      expect((await channel.send(message)).detail).toBe(
        'Zabbix API: 2 values taken (1 on an earlier attempt)',
      );
      expect(api.calls[1]).toEqual([expect.objectContaining({ host: 'web-2' })]);
    } finally {
      await channel.close();
      await api.stop();
    }
  });

  it('a repeat of a firing alert is not sent again (it would open a second problem); its resolution is', async () => {
    const items = new Map([
      ['web-1/vigil.alert[critical]', '10600'],
      ['web-2/vigil.alert[critical]', '10601'],
    ]);
    const api = await startZabbixApi(items);
    const channel = new ZabbixChannel(
      zabbixSchema.parse({ name: 'z', type: 'zabbix', api: { url: api.url, token: TOKEN } }),
      CONTEXT,
    );
    const send = (id: string, o: Parameters<typeof enrichedNotification>[0]) =>
      channel.send({ id, route: 'default', receivedAt: 0, notification: enrichedNotification(o) });
    const sentValues = (call: number) => api.calls[call]!.map((v) => `${v.host} ${v.value.split(' ')[0]}`);
    try {
      await send('first', { instances: ['web-1:9100'] });
      expect(sentValues(0)).toEqual(['web-1 FIRING']);

      // Alertmanager's repeat_interval, then the group sent again because web-2 joined it.
      expect((await send('repeat', { instances: ['web-1:9100'] })).detail).toBe(
        'Zabbix API: 0 values taken (1 already open there, not repeated)',
      );
      expect((await send('grown', { instances: ['web-1:9100', 'web-2:9100'] })).detail).toBe(
        'Zabbix API: 1 values taken (1 already open there, not repeated)',
      );
      expect(api.calls).toHaveLength(2);
      expect(sentValues(1)).toEqual(['web-2 FIRING']);

      await send('resolved', { status: 'resolved', instances: ['web-1:9100'] });
      expect(sentValues(2)).toEqual(['web-1 RESOLVED']);
      // The same alert firing again later is a new problem.
      await send('again', { instances: ['web-1:9100'], startsAt: '2026-11-23T18:00:00.000Z' });
      expect(sentValues(3)).toEqual(['web-1 FIRING']);
    } finally {
      await channel.close();
      await api.stop();
    }
  });

  it("a refused token fails the delivery for good, in the API's words", async () => {
    const api = await startZabbixApi(new Map());
    const channel = new ZabbixChannel(
      zabbixSchema.parse({ name: 'z', type: 'zabbix', api: { url: api.url, token: 'wrong' } }),
      CONTEXT,
    );
    try {
      const notification = enrichedNotification({ instances: ['web-1:9100'] });
      await expect(
        channel.send({ id: 'm2', route: 'default', receivedAt: 0, notification }),
      ).rejects.toMatchObject({
        permanent: true,
        message: 'Zabbix API: Invalid params. Not authorized.',
      });
    } finally {
      await channel.close();
      await api.stop();
    }
  });
});

describe('zabbix channel configuration', () => {
  it('takes either a sender server or the API, not both or neither', () => {
    expect(() => zabbixSchema.parse({ name: 'z', type: 'zabbix' })).toThrow(/set either server/);
    expect(() =>
      zabbixSchema.parse({
        name: 'z',
        type: 'zabbix',
        server: 'zbx:10051',
        api: { url: 'http://z/', token: 't' },
      }),
    ).toThrow(/set either server/);
    expect(zabbixSchema.parse({ name: 'z', type: 'zabbix', server: 'zbx.example.com' }).server).toBe(
      'zbx.example.com',
    );
  });

  it('an alert without an instance label cannot name a host: permanent, saying which alert', async () => {
    const channel = new ZabbixChannel(
      zabbixSchema.parse({ name: 'z', type: 'zabbix', server: '127.0.0.1:1' }),
      CONTEXT,
    );
    const notification = enrichedNotification({ instances: [''] });
    await expect(
      channel.send({ id: 'm3', route: 'default', receivedAt: 0, notification }),
    ).rejects.toMatchObject({
      permanent: true,
      message: 'alert HostHighCpu renders an empty host (no instance label? set templates.host)',
    });
  });
});
