import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { tempDir } from '../helpers/tmp';
import { runVigil } from '../helpers/vigil';

/* eslint-disable @typescript-eslint/no-explicit-any -- compose files are free-form YAML trees */

const REPO = path.resolve(__dirname, '..', '..');
const DEPLOY = path.join(REPO, 'deploy');

describe('deploy/docker-compose.yml', () => {
  const composeText = fs.readFileSync(path.join(DEPLOY, 'docker-compose.yml'), 'utf8');
  const compose = YAML.parse(composeText, { merge: true }) as any;
  // dclint ships the Compose Specification's JSON schema (draft-07, named by an https $schema URL
  // ajv does not know; its keywords are draft-07's).
  const schema = JSON.parse(
    fs.readFileSync(path.join(REPO, 'node_modules', 'dclint', 'schemas', 'compose.schema.json'), 'utf8'),
  );
  delete schema.$schema;
  const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);

  it('is valid against the Compose Specification schema; a misspelt key is not', () => {
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
    const broken = YAML.parse(composeText.replace('    pid: host', '    pidd: host'), { merge: true });
    expect(validate(broken)).toBe(false);
    expect(validate.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          instancePath: '/services/exporter',
          params: { additionalProperty: 'pidd' },
        }),
      ]),
    );
  });

  it('has the stack: Prometheus, Alertmanager, Grafana, the three services and a mail catcher', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['alertmanager', 'bridge', 'detector', 'exporter', 'grafana', 'mailcatcher', 'prometheus'].sort(),
    );
  });

  it('mounts prometheus/, alertmanager/ and grafana/ from the repository (not copies)', () => {
    const binds = (service: string) =>
      (compose.services[service].volumes as string[])
        .filter((v) => v.startsWith('.'))
        .map((v) => v.split(':'));
    const mounted = Object.fromEntries(
      ['prometheus', 'alertmanager', 'grafana', 'detector', 'bridge'].flatMap((s) =>
        binds(s).map(([from, to]) => [to, from]),
      ),
    );
    expect(mounted['/etc/prometheus']).toBe('../prometheus');
    expect(mounted['/etc/alertmanager']).toBe('../alertmanager');
    expect(mounted['/etc/grafana/provisioning']).toBe('../grafana/provisioning');
    // The dashboards go where the shipped dashboard provider reads them.
    const providers = fs
      .readdirSync(path.join(REPO, 'grafana', 'provisioning', 'dashboards'))
      .flatMap(
        (file) =>
          YAML.parse(fs.readFileSync(path.join(REPO, 'grafana', 'provisioning', 'dashboards', file), 'utf8'))
            .providers,
      );
    expect(providers.length).toBeGreaterThan(0);
    for (const provider of providers) expect(mounted[provider.options.path]).toBe('../grafana/dashboards');
    for (const from of Object.values(mounted))
      expect({ from, exists: fs.existsSync(path.join(DEPLOY, from)) }).toEqual({ from, exists: true });
    const command = (service: string) => compose.services[service].command.join(' ');
    expect(
      fs.existsSync(
        path.join(
          REPO,
          'prometheus',
          command('prometheus').match(/--config.file=\/etc\/prometheus\/(\S+)/)![1],
        ),
      ),
    ).toBe(true);
    expect(
      fs.existsSync(
        path.join(
          REPO,
          'alertmanager',
          command('alertmanager').match(/--config.file=\/etc\/alertmanager\/(\S+)/)![1],
        ),
      ),
    ).toBe(true);
  });

  it("runs the exporter as node_exporter's docs advise: host network and PID namespace, host filesystems read-only", () => {
    const exporter = compose.services.exporter;
    expect(exporter.network_mode).toBe('host');
    expect(exporter.pid).toBe('host');
    const mounts = Object.fromEntries(
      (exporter.volumes as string[]).map((v) => v.split(':')).map(([from, to, mode]) => [from, { to, mode }]),
    );
    for (const from of ['/proc', '/sys', '/']) expect(mounts[from].mode).toMatch(/^ro\b/);
    expect(exporter.command).toEqual(
      expect.arrayContaining([
        `--path.procfs=${mounts['/proc'].to}`,
        `--path.sysfs=${mounts['/sys'].to}`,
        `--path.rootfs=${mounts['/'].to}`,
      ]),
    );
  });

  it("the shipped prometheus.yml and alertmanager.yml reach the stack's services where they listen", () => {
    const prometheus = YAML.parse(fs.readFileSync(path.join(REPO, 'prometheus', 'prometheus.yml'), 'utf8'));
    const targets = Object.fromEntries(
      prometheus.scrape_configs.map((job: any) => [job.job_name, job.static_configs?.[0]?.targets ?? []]),
    );
    const listenPort = (service: string) =>
      compose.services[service].command.join(' ').match(/--listen=\S*:(\d+)/)[1];
    expect(targets.node).toContain(`localhost:${listenPort('exporter')}`);
    expect(targets['vigil-detector']).toContain(`localhost:${listenPort('detector')}`);
    expect(targets['vigil-bridge']).toContain(`localhost:${listenPort('bridge')}`);
    const vigil = YAML.parse(fs.readFileSync(path.join(DEPLOY, 'compose', 'vigil.yml'), 'utf8'));
    const alertmanager = YAML.parse(
      fs.readFileSync(path.join(REPO, 'alertmanager', 'alertmanager.yml'), 'utf8'),
    );
    for (const receiver of alertmanager.receivers) {
      for (const webhook of receiver.webhook_configs ?? []) {
        const url = new URL(webhook.url);
        expect(url.port).toBe(listenPort('bridge'));
        const route = url.pathname.replace(/^\/webhook\/?/, '') || 'default';
        expect(Object.keys(vigil.bridge.routes)).toContain(route);
      }
    }
  });

  it("deploy/compose/vigil.yml is valid with the stack's secrets and volumes in place", () => {
    const dir = tempDir('vigil-compose-');
    try {
      const secret = compose.secrets.smtp_password.file as string;
      fs.copyFileSync(path.join(DEPLOY, secret), path.join(dir.path, 'smtp_password'));
      const config = fs
        .readFileSync(path.join(DEPLOY, 'compose', 'vigil.yml'), 'utf8')
        .replaceAll('/run/secrets/', `${dir.path}/`)
        .replaceAll('/var/lib/vigil/', `${dir.path}/`);
      fs.writeFileSync(path.join(dir.path, 'vigil.yml'), config);
      const result = runVigil(['all', '--config', path.join(dir.path, 'vigil.yml'), '--check-config']);
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      dir.remove();
    }
  });
});
