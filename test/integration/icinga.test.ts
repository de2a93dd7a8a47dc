import { IcingaChannel, icingaSchema } from '../../src/bridge/channels/icinga';
import { enrichedNotification } from '../bridge/fixtures';
import { startIcinga, type StartedIcinga } from '../helpers/icinga';

const CONTEXT = { timeZone: 'UTC', where: 'bridge.channels[0]' };

const message = (id: string, status: 'firing' | 'resolved', instance = 'web-1:9100') => ({
  id,
  route: 'default',
  receivedAt: Date.now(),
  notification: enrichedNotification({
    status,
    alertname: 'DiskFull',
    instances: [instance],
    annotations: { summary: 'disk / is 95% full', value: '95.2' },
  }),
});

interface CheckResult {
  state: number;
  output: string;
  performance_data: string[];
}

describe('icinga channel against a real Icinga 2 API', () => {
  let icinga: StartedIcinga;
  let channel: IcingaChannel;

  beforeAll(async () => {
    icinga = await startIcinga([{ host: 'web-1', service: 'DiskFull' }]);
    channel = new IcingaChannel(
      icingaSchema.parse({
        name: 'icinga',
        type: 'icinga',
        url: icinga.url,
        username: icinga.user,
        password: icinga.password,
        // The API's certificate is for its node name, signed by the CA `icinga2 api setup` makes.
        tls: { ca_file: icinga.caFile, server_name: 'vigil-test' },
      }),
      CONTEXT,
    );
  });

  afterAll(async () => {
    await channel?.close();
    await icinga?.stop();
  });

  it('results land in the service state: CRITICAL with the value as perfdata, then OK', async () => {
    expect((await channel.send(message('i1', 'firing'))).detail).toBe('Icinga: 1 check results processed');
    let service = await icinga.service('web-1', 'DiskFull');
    expect(service.state).toBe(2);
    expect(service.last_check_result).toMatchObject<Partial<CheckResult>>({
      output: 'CRITICAL - disk / is 95% full',
      performance_data: ['value=95.2'],
    });

    await channel.send(message('i2', 'resolved'));
    service = await icinga.service('web-1', 'DiskFull');
    expect(service.state).toBe(0);
    expect((service.last_check_result as CheckResult).output).toBe('OK - disk / is 95% full');
  });

  it('a service Icinga does not know is its 404, a permanent failure', async () => {
    await expect(channel.send(message('i3', 'firing', 'db-9:9100'))).rejects.toMatchObject({
      permanent: true,
      message: expect.stringMatching(/Icinga \(127\.0\.0\.1:\d+\): HTTP 404: .*No objects found/),
    });
  });

  it('wrong credentials are refused (401), permanently', async () => {
    const wrong = new IcingaChannel(
      icingaSchema.parse({
        name: 'icinga',
        type: 'icinga',
        url: icinga.url,
        username: icinga.user,
        password: 'wrong',
        tls: { ca_file: icinga.caFile, server_name: 'vigil-test' },
      }),
      CONTEXT,
    );
    await expect(wrong.send(message('i4', 'firing'))).rejects.toMatchObject({
      permanent: true,
      message: expect.stringMatching(/HTTP 401/),
    });
    await wrong.close();
  });
});
