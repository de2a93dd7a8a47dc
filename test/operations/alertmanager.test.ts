import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseDuration } from '../../src/common/duration';
import { parseConfig } from '../../src/config/load';
import { AMTOOL_BIN, startAlertmanager, type StartedAlertmanager } from '../helpers/alertmanager';
import { waitFor } from '../helpers/wait';
import { ALERTMANAGER_CONFIG, readYaml, REPO } from './files';

interface Route {
  receiver?: string;
  matchers?: string[];
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}
interface AlertmanagerConfig {
  route: Route;
  receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; send_resolved?: boolean }> }>;
}

const config = readYaml<AlertmanagerConfig>(ALERTMANAGER_CONFIG);

/** `amtool config routes test`: the receivers labelled alerts reach. */
function routeOf(labels: Record<string, string>): string {
  const result = spawnSync(
    AMTOOL_BIN,
    [
      'config',
      'routes',
      'test',
      `--config.file=${ALERTMANAGER_CONFIG}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`amtool: ${result.stderr}`);
  return result.stdout.trim();
}

describe('alertmanager/alertmanager.yml', () => {
  it('passes amtool check-config', () => {
    const out = execFileSync(AMTOOL_BIN, ['check-config', ALERTMANAGER_CONFIG], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it.each([
    [{ alertname: 'NodeDown', severity: 'critical', instance: 'web-1:9110' }, 'vigil-critical'],
    [
      { alertname: 'NodeFilesystemAlmostOutOfSpace', severity: 'critical', mountpoint: '/' },
      'vigil-critical',
    ],
    [{ alertname: 'NodeCPUHighUsage', severity: 'warning', instance: 'web-1:9110' }, 'vigil-warning'],
    [
      { alertname: 'VigilAnomaly', severity: 'warning', rule: 'cpu_busy', instance: 'web-1:9110' },
      'vigil-warning',
    ],
    [{ alertname: 'Watchdog', severity: 'none' }, 'vigil-watchdog'],
    [{ alertname: 'SomethingElse', severity: 'info' }, 'vigil-default'],
    [{ alertname: 'NoSeverity' }, 'vigil-default'],
  ])('routes %j to %s (amtool config routes test)', (labels, receiver) => {
    expect(routeOf(labels)).toBe(receiver);
  });

  it('sends every receiver to a route the example bridge configuration has, with resolved notifications', () => {
    const bridge = parseConfig(readYaml(path.join(REPO, 'examples', 'vigil.yml')), {}).bridge;
    for (const receiver of config.receivers) {
      for (const webhook of receiver.webhook_configs ?? []) {
        const route = /\/webhook(?:\/([^/?]+))?$/.exec(new URL(webhook.url).pathname)?.[1] ?? 'default';
        expect([receiver.name, Object.keys(bridge.routes)]).toEqual([
          receiver.name,
          expect.arrayContaining([route]),
        ]);
        if (receiver.name !== 'vigil-watchdog')
          expect([receiver.name, webhook.send_resolved]).toEqual([receiver.name, true]);
      }
    }
  });

  it('repeats the Watchdog well within the bridge watchdog timeout, so it never sees a false silence', () => {
    const watchdog = config.route.routes!.find((route) => route.receiver === 'vigil-watchdog')!;
    const timeout = parseConfig({}, {}).bridge.watchdog.timeout;
    // Alertmanager re-sends an unchanged group at the first group_interval tick after repeat_interval.
    const worstGap = parseDuration(watchdog.repeat_interval!) + parseDuration(watchdog.group_interval!);
    expect(worstGap).toBeLessThanOrEqual(timeout / 2);
  });

  describe('inhibitions, in a real Alertmanager', () => {
    let alertmanager: StartedAlertmanager;
    beforeAll(async () => {
      alertmanager = await startAlertmanager(config);
    });
    afterAll(async () => {
      await alertmanager?.stop();
    });

    it('silences the other alerts of a host that is down, and warnings that have a critical twin', async () => {
      await alertmanager.postAlerts([
        { labels: { alertname: 'NodeDown', severity: 'critical', instance: 'a:9110', job: 'node' } },
        { labels: { alertname: 'NodeCPUHighUsage', severity: 'warning', instance: 'a:9110', job: 'node' } },
        { labels: { alertname: 'NodeCPUHighUsage', severity: 'warning', instance: 'b:9110', job: 'node' } },
        ...['warning', 'critical'].map((severity) => ({
          labels: {
            alertname: 'NodeFilesystemAlmostOutOfSpace',
            severity,
            instance: 'b:9110',
            mountpoint: '/',
          },
        })),
        {
          labels: {
            alertname: 'NodeFilesystemAlmostOutOfSpace',
            severity: 'warning',
            instance: 'b:9110',
            mountpoint: '/data',
          },
        },
      ]);
      const key = (labels: Record<string, string>) =>
        `${labels.alertname} ${labels.instance} ${labels.mountpoint ?? ''} ${labels.severity}`;
      const states = await waitFor(
        async () => {
          const alerts = await alertmanager.alerts();
          return alerts.length === 6 && alerts.every((a) => a.status.state !== 'unprocessed')
            ? Object.fromEntries(alerts.map((a) => [key(a.labels), a.status.state]))
            : undefined;
        },
        { what: 'six processed alerts' },
      );
      expect(states).toEqual({
        'NodeDown a:9110  critical': 'active',
        'NodeCPUHighUsage a:9110  warning': 'suppressed',
        'NodeCPUHighUsage b:9110  warning': 'active',
        'NodeFilesystemAlmostOutOfSpace b:9110 / critical': 'active',
        'NodeFilesystemAlmostOutOfSpace b:9110 / warning': 'suppressed',
        'NodeFilesystemAlmostOutOfSpace b:9110 /data warning': 'active',
      });
    });
  });
});
