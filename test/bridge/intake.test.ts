import type { AddressInfo } from 'node:net';
import express from 'express';
import type { AcceptResult } from '../../src/bridge/dispatcher';
import { registerIntake } from '../../src/bridge/intake';
import { BridgeMetrics } from '../../src/bridge/metrics';
import type { Notification } from '../../src/bridge/payload';
import { rootLogger } from '../../src/common/logger';
import { alertmanagerPayload } from './fixtures';

describe('webhook intake', () => {
  const log = rootLogger.child({ component: 'test' });
  log.level = 'silent';
  const accepted: Array<{ route: string; channels: string[] }> = [];
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  let url: string;

  beforeAll(async () => {
    const app = express();
    registerIntake(app, {
      maxBodyBytes: 1 << 20,
      auth: {},
      routes: { default: [], ops: ['pager'] },
      allChannels: ['mail', 'pager'],
      accept: async (route: string, _n: Notification, channels: string[]): Promise<AcceptResult> => {
        accepted.push({ route, channels });
        return { status: 'accepted', id: 'x' };
      },
      metrics: new BridgeMetrics(),
      log,
    });
    await new Promise<void>((resolve) => (server = app.listen(0, '127.0.0.1', () => resolve())));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (accepted.length = 0));

  const post = (route: string) =>
    fetch(`${url}/webhook/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alertmanagerPayload()),
    });

  it.each(['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'])(
    'answers 404 for /webhook/%s, a name on the object prototype, and delivers nothing',
    async (route) => {
      const response = await post(route);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe(`unknown route "${route}"\n`);
      expect(accepted).toEqual([]);
    },
  );

  it('routes a configured name to its channels', async () => {
    expect((await post('ops')).status).toBe(200);
    expect(accepted).toEqual([{ route: 'ops', channels: ['pager'] }]);
  });
});
