import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ZabbixChannel, zabbixSchema } from '../../src/bridge/channels/zabbix';
import { encodeSenderRequest } from '../../src/bridge/protocols/zabbix';
import YAML from 'yaml';
import { alertmanagerPayload, enrichedNotification } from '../bridge/fixtures';
import { startVigil } from '../helpers/vigil';
import { freePort, unlistenedPort } from '../helpers/net';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';
import { startZabbix, type StartedZabbix } from '../helpers/zabbix';

// Zabbix under a loaded CI machine: its history syncer and trigger evaluation can lag far behind.
jest.setTimeout(420_000);

const CONTEXT = { timeZone: 'UTC', where: 'bridge.channels[0]' };
/**
 * Waits on Zabbix's own state through its API: a deadline for a loaded machine, and a poll every
 * half second, as each call runs the PHP frontend under php -S (one request at a time) on the same
 * two cores as zabbix_server's history syncer it waits for.
 */
const ZABBIX_WAIT = { timeoutMs: 150_000, intervalMs: 500 };
const TEMPLATE = path.resolve(__dirname, '../../examples/zabbix/vigil_alerts_template.yaml');

interface Trigger {
  triggerid: string;
  value: string;
}
interface Problem {
  eventid: string;
  r_eventid: string;
  name: string;
  tags: Array<{ tag: string; value: string }>;
}

describe('zabbix channel against a real Zabbix 6.0', () => {
  let zabbix: StartedZabbix;
  let itemId: string;

  beforeAll(async () => {
    zabbix = await startZabbix();
    // The shipped template, imported as a user would, then a host that links it.
    await zabbix.api('configuration.import', {
      format: 'yaml',
      source: fs.readFileSync(TEMPLATE, 'utf8'),
      rules: {
        groups: { createMissing: true },
        templates: { createMissing: true, updateExisting: true },
        items: { createMissing: true, updateExisting: true },
        triggers: { createMissing: true, updateExisting: true },
      },
    });
    const [template] = await zabbix.api<Array<{ templateid: string }>>('template.get', {
      filter: { host: 'Vigil alerts' },
    });
    const [group] = await zabbix.api<Array<{ groupid: string }>>('hostgroup.get', {
      filter: { name: 'Linux servers' },
    });
    await zabbix.api('host.create', {
      host: 'web-1',
      groups: [{ groupid: group!.groupid }],
      templates: [{ templateid: template!.templateid }],
    });
    const [item] = await zabbix.api<Array<{ itemid: string }>>('item.get', {
      host: 'web-1',
      filter: { key_: 'vigil.alert[critical]' },
    });
    itemId = item!.itemid;
  });

  afterAll(async () => {
    await zabbix?.stop();
  });

  const trigger = async (): Promise<Trigger> =>
    (await zabbix.api<Trigger[]>('trigger.get', { itemids: [itemId], output: ['value'] }))[0]!;
  const problems = (): Promise<Problem[]> =>
    zabbix.api<Problem[]>('problem.get', {
      output: 'extend',
      selectTags: 'extend',
      recent: true,
    });
  const history = (): Promise<Array<{ value: string; clock: string }>> =>
    zabbix.api('history.get', { history: 4, itemids: [itemId], output: 'extend', sortfield: 'clock' });

  it('sends a firing then a resolved alert: both values in history, the trigger goes PROBLEM then OK', async () => {
    const channel = new ZabbixChannel(
      zabbixSchema.parse({ name: 'zabbix', type: 'zabbix', server: `127.0.0.1:${zabbix.serverPort}` }),
      CONTEXT,
    );
    const payload = {
      alertname: 'DiskFull',
      instances: ['web-1:9100'],
      annotations: { summary: 'disk / is 95% full', value: '95.2' },
      startsAt: new Date(Date.now() - 60_000).toISOString(),
    };
    const firing = enrichedNotification(payload);
    const fingerprint = firing.notification.alerts[0]!.fingerprint;
    // A host made a moment ago reaches the trapper's cache within CacheUpdateFrequency (1 s here):
    // until then Zabbix counts the value as failed and the channel says so, as the dispatcher's retry.
    const receipt = await waitFor(
      () =>
        channel
          .send({ id: 'n1', route: 'default', receivedAt: Date.now(), notification: firing })
          .catch(() => undefined),
      { what: 'Zabbix to take the firing value' },
    );
    expect(receipt.detail).toMatch(/1 values taken/);

    await waitFor(async () => (await trigger()).value === '1', { ...ZABBIX_WAIT, what: 'trigger PROBLEM' });
    const open = await problems();
    expect(open).toHaveLength(1);
    expect(open[0]!.name).toBe('DiskFull: disk / is 95% full (value 95.2)');
    expect(open[0]!.tags).toContainEqual({ tag: 'alert', value: fingerprint });

    // Alertmanager's repeat of the same firing alert is not sent: it would open a second problem.
    const repeat = await channel.send({
      id: 'n1-repeat',
      route: 'default',
      receivedAt: Date.now(),
      notification: firing,
    });
    expect(repeat.detail).toMatch(/1 already open there, not repeated/);

    const resolved = enrichedNotification({
      ...payload,
      status: 'resolved',
      endsAt: new Date().toISOString(),
    });
    await channel.send({ id: 'n2', route: 'default', receivedAt: Date.now(), notification: resolved });
    await waitFor(async () => (await trigger()).value === '0', { ...ZABBIX_WAIT, what: 'trigger OK' });
    const values = (await history()).map((h) => h.value);
    expect(values).toEqual([
      `FIRING ${fingerprint} DiskFull: disk / is 95% full (value 95.2)`,
      `RESOLVED ${fingerprint} DiskFull: disk / is 95% full (value 95.2)`,
    ]);
    const [closed] = await zabbix.api<Array<{ r_eventid: string }>>('event.get', {
      eventids: [open[0]!.eventid],
      output: ['r_eventid'],
    });
    expect(closed!.r_eventid).not.toBe('0');
  });

  it('through vigil bridge: Alertmanager webhooks for a firing then a resolved alert reach the trigger', async () => {
    const [template] = await zabbix.api<Array<{ templateid: string }>>('template.get', {
      filter: { host: 'Vigil alerts' },
    });
    const [group] = await zabbix.api<Array<{ groupid: string }>>('hostgroup.get', {
      filter: { name: 'Linux servers' },
    });
    await zabbix.api('host.create', {
      host: 'db-1',
      groups: [{ groupid: group!.groupid }],
      templates: [{ templateid: template!.templateid }],
    });
    const [item] = await zabbix.api<Array<{ itemid: string }>>('item.get', {
      host: 'db-1',
      filter: { key_: 'vigil.alert[warning]' },
    });
    const dir = tempDir('vigil-zabbix-bridge-');
    const config = {
      bridge: {
        // No Prometheus: the alerts go without graphs, which must not hold them back.
        prometheus: { url: `http://127.0.0.1:${await unlistenedPort()}`, retries: 0 },
        spool_dir: path.join(dir.path, 'spool'),
        retry: { initial_backoff: '200ms', max_backoff: '1s' },
        channels: [{ name: 'zabbix', type: 'zabbix', server: `127.0.0.1:${zabbix.serverPort}` }],
      },
    };
    fs.writeFileSync(path.join(dir.path, 'vigil.yml'), YAML.stringify(config));
    const bridge = await startVigil('bridge', ['--config', path.join(dir.path, 'vigil.yml')]);
    try {
      const post = async (payload: unknown): Promise<void> => {
        const response = await fetch(`${bridge.url}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        });
        expect(response.status).toBe(200);
      };
      const alert = {
        alertname: 'NodeFilesystemSpaceFillingUp',
        instances: ['db-1:9100'],
        labels: { severity: 'warning' },
        annotations: { summary: 'filesystem / fills within 24h', value: '12.5' },
        startsAt: new Date(Date.now() - 120_000).toISOString(),
      };
      const triggerValue = async (): Promise<string> =>
        (await zabbix.api<Trigger[]>('trigger.get', { itemids: [item!.itemid], output: ['value'] }))[0]!
          .value;
      // On a timeout, say what the bridge logged (delivered, or retried and why) and what Zabbix holds
      // (the item's last value and state, the trigger's state and error): a slow machine, a value
      // never sent and a value taken but not evaluated look alike from here.
      const explain = async (err: unknown): Promise<never> => {
        const held = (method: string, output: string[]) =>
          zabbix
            .api(method, { itemids: [item!.itemid], output })
            .then(JSON.stringify, (apiErr: unknown) => String(apiErr));
        const logs = [
          `bridge:\n${bridge.output().slice(-3000)}`,
          `zabbix item: ${await held('item.get', ['lastclock', 'lastvalue', 'state', 'error', 'status'])}`,
          `zabbix trigger: ${await held('trigger.get', ['value', 'state', 'error', 'status', 'lastchange'])}`,
          `zabbix_server:\n${zabbix.serverOutput().slice(-3000)}`,
        ].join('\n');
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs}`);
      };
      await post(alertmanagerPayload(alert));
      await waitFor(async () => (await triggerValue()) === '1', {
        ...ZABBIX_WAIT,
        what: 'trigger PROBLEM',
      }).catch(explain);
      await post(alertmanagerPayload({ ...alert, status: 'resolved', endsAt: new Date().toISOString() }));
      await waitFor(async () => (await triggerValue()) === '0', { ...ZABBIX_WAIT, what: 'trigger OK' }).catch(
        explain,
      );
      const values = await zabbix.api<Array<{ value: string }>>('history.get', {
        history: 4,
        itemids: [item!.itemid],
        output: 'extend',
        sortfield: 'clock',
      });
      const fingerprint = 'fp-NodeFilesystemSpaceFillingUp-db-1:9100';
      expect(values.map((v) => v.value)).toEqual([
        `FIRING ${fingerprint} NodeFilesystemSpaceFillingUp: filesystem / fills within 24h (value 12.5)`,
        `RESOLVED ${fingerprint} NodeFilesystemSpaceFillingUp: filesystem / fills within 24h (value 12.5)`,
      ]);
    } finally {
      await bridge.stop();
      dir.remove();
    }
  });

  it('a value for an item that does not exist is an error, though Zabbix says "success"', async () => {
    const channel = new ZabbixChannel(
      zabbixSchema.parse({
        name: 'zabbix',
        type: 'zabbix',
        server: `127.0.0.1:${zabbix.serverPort}`,
        templates: { key: 'vigil.alert[no-such-item]' },
      }),
      CONTEXT,
    );
    const notification = enrichedNotification({ instances: ['web-1:9100'] });
    await expect(channel.send({ id: 'n3', route: 'default', receivedAt: 0, notification })).rejects.toThrow(
      /refused 1 of 1 values \(host "web-1" key "vigil.alert\[no-such-item\]"\)/,
    );
  });
});

describe('sender frames', () => {
  it("are byte for byte what Debian's zabbix_sender sends for the same values", async () => {
    const frames: Buffer[] = [];
    const server = net.createServer((socket) => {
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 13 && received.length >= 13 + received.readUInt32LE(5)) {
          frames.push(received);
          const answer = Buffer.from(
            '{"response":"success","info":"processed: 1; failed: 0; total: 1; seconds spent: 0.0001"}',
          );
          const header = Buffer.alloc(13);
          header.write('ZBXD');
          header[4] = 1;
          header.writeUInt32LE(answer.length, 5);
          socket.end(Buffer.concat([header, answer]));
        }
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const dir = tempDir('vigil-zabbix-sender-');
    try {
      const value = {
        host: 'web-1',
        key: 'vigil.alert[critical]',
        value: 'FIRING 4f2a DiskFull: disk / is 95% "full"',
        clock: 1700000000,
        ns: 250000000,
      };
      const input = path.join(dir.path, 'values.txt');
      fs.writeFileSync(
        input,
        `${value.host} ${value.key} ${value.clock} ${value.ns} "${value.value.replace(/"/g, '\\"')}"\n`,
      );
      // Asynchronously: the capturing server runs in this process.
      await promisify(execFile)('zabbix_sender', [
        '-z',
        '127.0.0.1',
        '-p',
        String(port),
        '-T',
        '-N',
        '-i',
        input,
      ]);
      expect(frames).toHaveLength(1);
      const sent = frames[0]!;
      // zabbix_sender stamps the request with its own clock; the same stamp makes the frames comparable.
      const stamp = JSON.parse(sent.subarray(13).toString('utf8')) as { clock: number; ns: number };
      const ours = encodeSenderRequest([value], { clock: stamp.clock, ns: stamp.ns });
      expect(ours.toString('hex')).toBe(sent.toString('hex'));
    } finally {
      server.close();
      dir.remove();
    }
  });
});
