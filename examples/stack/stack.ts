/**
 * `npm run stack`: the whole pipeline on one machine from the repository's own files: Prometheus
 * (prometheus/prometheus.yml and its rules), Alertmanager (alertmanager/alertmanager.yml), vigil's
 * three services (`vigil all`) and a mail catcher that stores every mail the bridge sends as a
 * file under <data-dir>/mail/ and lists them on a web page. Prints `name: URL` per component and
 * stays in the foreground; SIGINT or SIGTERM stops everything it started and exits 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { SMTPServer } from 'smtp-server';
import YAML from 'yaml';

const REPO = path.resolve(__dirname, '..', '..');

interface Ports {
  prometheus: number;
  alertmanager: number;
  exporter: number;
  detector: number;
  bridge: number;
  smtp: number;
  mail: number;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port 1-65535');
  return n;
}

/** The first of `names` found on PATH, or undefined. */
function onPath(...names: string[]): string | undefined {
  return names.find((name) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0);
}

function writeYaml(file: string, value: unknown): string {
  fs.writeFileSync(file, YAML.stringify(value));
  return file;
}

/** prometheus/prometheus.yml pointed at this stack's ports, with the repository's rules. */
function prometheusConfig(ports: Ports): unknown {
  const dir = path.join(REPO, 'prometheus');
  const config = YAML.parse(fs.readFileSync(path.join(dir, 'prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    alerting: unknown;
    scrape_configs: Array<{
      job_name: string;
      static_configs: Array<{ targets: string[] }>;
      file_sd_configs?: Array<{ files: string[] }>;
    }>;
  };
  const portOf: Record<string, number> = {
    node: ports.exporter,
    'vigil-detector': ports.detector,
    'vigil-bridge': ports.bridge,
  };
  for (const job of config.scrape_configs) {
    job.static_configs = [{ targets: [`localhost:${portOf[job.job_name]}`] }];
    for (const sd of job.file_sd_configs ?? []) sd.files = sd.files.map((f) => path.join(dir, f));
  }
  config.rule_files = config.rule_files.map((f) => path.join(dir, f));
  config.alerting = {
    alertmanagers: [{ static_configs: [{ targets: [`localhost:${ports.alertmanager}`] }] }],
  };
  return config;
}

function vigilConfig(ports: Ports, dataDir: string): unknown {
  return {
    exporter: { listen: `localhost:${ports.exporter}` },
    detector: {
      listen: `localhost:${ports.detector}`,
      prometheus: { url: `http://localhost:${ports.prometheus}` },
      state_file: path.join(dataDir, 'detector-state.json'),
    },
    bridge: {
      listen: `localhost:${ports.bridge}`,
      external_url: `http://localhost:${ports.bridge}`,
      prometheus: { url: `http://localhost:${ports.prometheus}` },
      spool_dir: path.join(dataDir, 'spool'),
      routes: { default: ['mail'], critical: ['mail'], warning: ['mail'] },
      channels: [
        {
          name: 'mail',
          type: 'email',
          from: 'vigil <vigil@localhost>',
          to: ['ops@localhost'],
          smtp: { host: 'localhost', port: ports.smtp },
        },
      ],
      watchdog: { enabled: true },
    },
  };
}

/** A local SMTP server that writes each message to <dir>/<time>-<n>.eml, and a page listing them. */
async function startMailCatcher(dir: string, ports: Ports): Promise<{ close(): Promise<void> }> {
  let count = 0;
  const smtp = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${++count}.eml`);
        // Written aside and renamed: a listed .eml is always a whole message.
        const partial = `${file}.partial`;
        fs.writeFile(partial, Buffer.concat(chunks), (err) => {
          if (err) return callback(err);
          fs.rename(partial, file, (renameErr) => callback(renameErr ?? undefined));
        });
      });
    },
  });
  const web = http.createServer((req, res) => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.eml'));
    const file = decodeURIComponent((req.url ?? '/').slice(1));
    if (files.includes(file)) {
      res.writeHead(200, { 'Content-Type': 'message/rfc822' }).end(fs.readFileSync(path.join(dir, file)));
      return;
    }
    const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const rows = files
      .reverse()
      .map((f) => {
        const subject = /^Subject: (.*)$/m.exec(fs.readFileSync(path.join(dir, f), 'utf8'))?.[1] ?? '';
        return `<li><a href="/${encodeURIComponent(f)}">${escape(f)}</a> ${escape(subject)}</li>`;
      })
      .join('\n');
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><title>vigil stack mail</title><h1>Mail (${files.length})</h1><ul>${rows}</ul>`);
  });
  await Promise.all([
    new Promise<void>((resolve, reject) =>
      smtp.listen(ports.smtp, 'localhost', resolve).once('error', reject),
    ),
    new Promise<void>((resolve, reject) =>
      web.listen(ports.mail, 'localhost', resolve).once('error', reject),
    ),
  ]);
  return {
    close: () =>
      Promise.all([
        new Promise<void>((resolve) => smtp.close(() => resolve())),
        new Promise<void>((resolve) => web.close(() => resolve())),
      ]).then(() => undefined),
  };
}

async function waitReady(url: string, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} (see its log)`);
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} not ready at ${url} after 60 s`);
}

async function main(): Promise<void> {
  const options = new Command('stack')
    .description("the whole pipeline from the repository's files; Ctrl-C stops it")
    .option('--data-dir <dir>', 'where data, logs and mail go', 'data/stack')
    .option('--prometheus-port <port>', 'Prometheus', port, 9090)
    .option('--alertmanager-port <port>', 'Alertmanager', port, 9093)
    .option('--exporter-port <port>', 'vigil exporter', port, 9110)
    .option('--detector-port <port>', 'vigil detector', port, 9111)
    .option('--bridge-port <port>', 'vigil bridge', port, 9112)
    .option('--smtp-port <port>', 'mail catcher (SMTP)', port, 2525)
    .option('--mail-port <port>', 'mail catcher (web page)', port, 8025)
    .parse()
    .opts<{ dataDir: string } & { [K in keyof Ports as `${K}Port`]: number }>();
  const ports: Ports = {
    prometheus: options.prometheusPort,
    alertmanager: options.alertmanagerPort,
    exporter: options.exporterPort,
    detector: options.detectorPort,
    bridge: options.bridgePort,
    smtp: options.smtpPort,
    mail: options.mailPort,
  };
  const prometheusBin = onPath('prometheus');
  const alertmanagerBin = onPath('prometheus-alertmanager', 'alertmanager');
  if (prometheusBin === undefined || alertmanagerBin === undefined) {
    console.error(
      'stack: Prometheus and Alertmanager must be on PATH: apt-get install prometheus prometheus-alertmanager',
    );
    process.exit(2);
  }
  const cli = path.join(REPO, 'dist', 'cli.js');
  if (!fs.existsSync(cli)) {
    console.error('stack: dist/cli.js is missing: run `npm run build` (npm run stack does it first)');
    process.exit(2);
  }

  const dataDir = path.resolve(options.dataDir);
  for (const sub of ['prometheus', 'alertmanager', 'mail', 'logs'])
    fs.mkdirSync(path.join(dataDir, sub), { recursive: true });
  const prometheusYml = writeYaml(path.join(dataDir, 'prometheus.yml'), prometheusConfig(ports));
  const alertmanagerYml = path.join(dataDir, 'alertmanager.yml');
  fs.writeFileSync(
    alertmanagerYml,
    fs
      .readFileSync(path.join(REPO, 'alertmanager', 'alertmanager.yml'), 'utf8')
      .replaceAll('http://localhost:9112', `http://localhost:${ports.bridge}`),
  );
  const vigilYml = writeYaml(path.join(dataDir, 'vigil.yml'), vigilConfig(ports, dataDir));

  const children: Array<{ name: string; child: ChildProcess }> = [];
  let stopping = false;
  const start = (name: string, command: string, args: string[]): ChildProcess => {
    const log = fs.openSync(path.join(dataDir, 'logs', `${name}.log`), 'a');
    // A process group of its own: Ctrl-C reaches the stack alone, which stops the children in turn.
    const child = spawn(command, args, { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    children.push({ name, child });
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(
        `stack: ${name} exited (${signal ?? `code ${code}`}); see ${path.join(dataDir, 'logs', `${name}.log`)}`,
      );
      void stop(1);
    });
    return child;
  };
  let mail: { close(): Promise<void> } | undefined;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await mail?.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    mail = await startMailCatcher(path.join(dataDir, 'mail'), ports);
    const prometheus = start('prometheus', prometheusBin, [
      `--config.file=${prometheusYml}`,
      `--storage.tsdb.path=${path.join(dataDir, 'prometheus')}`,
      `--web.listen-address=localhost:${ports.prometheus}`,
      '--web.enable-lifecycle',
    ]);
    const alertmanager = start('alertmanager', alertmanagerBin, [
      `--config.file=${alertmanagerYml}`,
      `--storage.path=${path.join(dataDir, 'alertmanager')}`,
      `--web.listen-address=localhost:${ports.alertmanager}`,
      '--cluster.listen-address=',
    ]);
    const vigil = start('vigil', process.execPath, [cli, 'all', '--config', vigilYml]);
    await waitReady(`http://localhost:${ports.prometheus}/-/ready`, prometheus, 'prometheus');
    await waitReady(`http://localhost:${ports.alertmanager}/-/ready`, alertmanager, 'alertmanager');
    for (const service of ['exporter', 'bridge'] as const) {
      await waitReady(`http://localhost:${ports[service]}/-/healthy`, vigil, `vigil ${service}`);
    }
  } catch (err) {
    console.error(`stack: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
    return;
  }
  console.log(
    [
      `prometheus: http://localhost:${ports.prometheus}`,
      `alertmanager: http://localhost:${ports.alertmanager}`,
      `exporter: http://localhost:${ports.exporter}/metrics`,
      `detector: http://localhost:${ports.detector}/metrics`,
      `bridge: http://localhost:${ports.bridge}/`,
      `mail: http://localhost:${ports.mail}/`,
      `smtp: smtp://localhost:${ports.smtp}`,
      `mail-files: file://${path.join(dataDir, 'mail')}/`,
    ].join('\n'),
  );
}

void main();
