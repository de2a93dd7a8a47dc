import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { NagiosChannel, nagiosSchema } from '../../src/bridge/channels/nagios';
import { DeliveryError } from '../../src/bridge/channels/channel';
import { enrichedNotification } from '../bridge/fixtures';
import { startNagios, type StartedNagios } from '../helpers/nagios';
import { startNrdp, type StartedNrdp } from '../helpers/nrdp';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

const CONTEXT = { timeZone: 'UTC', where: 'bridge.channels[0]' };

const message = (id: string, status: 'firing' | 'resolved', severity = 'critical') => ({
  id,
  route: 'default',
  receivedAt: Date.now(),
  notification: enrichedNotification({
    status,
    alertname: status === 'firing' && severity === 'warning' ? 'CpuBusy' : 'DiskFull',
    instances: ['web-1:9100'],
    labels: { severity },
    annotations: { summary: 'disk / is 95% full', value: '95.2' },
  }),
});

describe('nagios channel against a real Nagios 4', () => {
  let nagios: StartedNagios;
  let nrdp: StartedNrdp;

  beforeAll(async () => {
    nagios = await startNagios([
      { host: 'web-1', service: 'DiskFull' },
      { host: 'web-1', service: 'CpuBusy' },
    ]);
    nrdp = await startNrdp('nrdp-token', nagios.checkResultDir);
  });

  afterAll(async () => {
    await nrdp?.stop();
    await nagios?.stop();
  });

  const status = (service: string) => nagios.serviceStatus('web-1', service);

  it('passive results through the command file land in status.dat: CRITICAL with perfdata, then OK', async () => {
    const channel = new NagiosChannel(
      nagiosSchema.parse({ name: 'nagios', type: 'nagios', command_file: nagios.commandFile }),
      CONTEXT,
    );
    const receipt = await channel.send(message('n1', 'firing'));
    expect(receipt.detail).toBe(`Nagios: 1 check results written to ${nagios.commandFile}`);
    const firing = await waitFor(
      () => (status('DiskFull')?.current_state === '2' ? status('DiskFull') : undefined),
      {
        what: 'DiskFull CRITICAL in status.dat',
      },
    );
    expect(firing.plugin_output).toBe('CRITICAL - disk / is 95% full');
    expect(firing.performance_data).toBe('value=95.2');

    await channel.send(message('n2', 'resolved'));
    const ok = await waitFor(
      () => (status('DiskFull')?.current_state === '0' ? status('DiskFull') : undefined),
      {
        what: 'DiskFull OK in status.dat',
      },
    );
    expect(ok.plugin_output).toBe('OK - disk / is 95% full');
  });

  it('passive results through NRDP reach Nagios; BAD TOKEN (HTTP 200) is a permanent failure', async () => {
    const config = (token: string) =>
      nagiosSchema.parse({ name: 'nrdp', type: 'nagios', nrdp: { url: nrdp.url, token } });
    const channel = new NagiosChannel(config('nrdp-token'), CONTEXT);
    expect((await channel.send(message('n3', 'firing', 'warning'))).detail).toBe(
      'NRDP: OK: 1 checks processed',
    );
    const request = nrdp.requests.at(-1)!;
    expect(request.get('cmd')).toBe('submitcheck');
    expect(JSON.parse(request.get('JSONDATA')!).checkresults[0]).toMatchObject({
      hostname: 'web-1',
      servicename: 'CpuBusy',
      state: '1',
      output: 'WARNING - disk / is 95% full|value=95.2',
    });
    const warning = await waitFor(
      () => (status('CpuBusy')?.current_state === '1' ? status('CpuBusy') : undefined),
      {
        what: 'CpuBusy WARNING in status.dat',
      },
    );
    expect(warning.performance_data).toBe('value=95.2');

    const wrong = new NagiosChannel(config('wrong'), CONTEXT);
    const failure = await wrong.send(message('n4', 'firing')).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(DeliveryError);
    expect(failure).toMatchObject({ message: 'NRDP refused the results: BAD TOKEN', permanent: true });
  });
});

describe('nagios command file faults', () => {
  it('a command file nobody reads is a retryable error, not a hang', async () => {
    const dir = tempDir('vigil-nagios-fifo-');
    try {
      const fifo = `${dir.path}/nagios.cmd`;
      execFileSync('mkfifo', [fifo]);
      const channel = new NagiosChannel(
        nagiosSchema.parse({ name: 'n', type: 'nagios', command_file: fifo }),
        CONTEXT,
      );
      await expect(channel.send(message('n5', 'firing'))).rejects.toMatchObject({
        message: `Nagios command file ${fifo}: nobody reads it (is Nagios running?)`,
        permanent: false,
      });
      expect(fs.existsSync(fifo)).toBe(true);
    } finally {
      dir.remove();
    }
  });
});
