import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { seriesKey, seriesLabels, stableHash } from '../../src/detector/sharding';
import { freePort } from '../helpers/net';
import { startProcess, waitForHttp, type StartedProcess } from '../helpers/process';
import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { VIGIL_CLI } from '../helpers/vigil';
import { containerCommandLine, findObject, loadManifests, statefulSetPodLabels } from './kubernetes';

const MINUTE = 60_000;
const HOSTS = Array.from({ length: 12 }, (_, i) => `host-${i}`);

/** An hour of one series per host, ending 5-10 minutes ago. */
function history(end: number): string {
  const lines = ['# TYPE vigil_shard_demo gauge'];
  for (const host of HOSTS) {
    for (let k = 60; k >= 0; k--)
      lines.push(`vigil_shard_demo{instance="${host}"} ${k % 7} ${(end - k * MINUTE) / 1000}`);
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

/** The hosts of the anomaly series a detector exports. */
async function exportedHosts(url: string): Promise<string[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const hosts = [...text.matchAll(/^vigil_anomaly\{[^}]*instance="([^"]+)"/gm)].map((m) => m[1]);
  return [...new Set(hosts)].sort();
}

describe('the detector StatefulSet: each pod runs the shard of its ordinal', () => {
  const statefulSet = findObject(loadManifests(), 'StatefulSet', 'vigil-detector');
  const container = statefulSet.spec.template.spec.containers[0];
  const replicas: number = statefulSet.spec.replicas;
  let prometheus: StartedPrometheus;
  let dir: ReturnType<typeof tempDir>;
  const pods: Array<{ name: string; args: string[]; process: StartedProcess; url: string }> = [];

  beforeAll(async () => {
    dir = tempDir('vigil-shards-');
    const end = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE - 5 * MINUTE;
    prometheus = await startPrometheus({ backfillOpenMetrics: history(end) });
    // The ConfigMap's detector.yml, with one rule over the demo series instead of the shipped ones.
    const configMap = findObject(loadManifests(), 'ConfigMap', 'vigil-config');
    const config = YAML.parse(configMap.data['detector.yml']) as { detector: Record<string, unknown> };
    config.detector.rules = [{ name: 'demo', query: 'vigil_shard_demo', zscore: { min_points: 3 } }];
    config.detector.lag = '10m';
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const name = `${statefulSet.metadata.name}-${ordinal}`;
      const podDir = path.join(dir.path, name);
      fs.mkdirSync(podDir);
      const configFile = path.join(podDir, 'detector.yml');
      fs.writeFileSync(
        configFile,
        YAML.stringify({ detector: { ...config.detector, state_file: path.join(podDir, 'state.json') } }),
      );
      const { args, env } = containerCommandLine(container, {
        name,
        labels: statefulSetPodLabels(statefulSet, ordinal),
      });
      const port = await freePort();
      const local = args.map((arg) =>
        arg.startsWith('--config=')
          ? `--config=${configFile}`
          : arg.startsWith('--listen=')
            ? `--listen=127.0.0.1:${port}`
            : arg,
      );
      const proc = startProcess(process.execPath, [VIGIL_CLI, ...local], {
        ...env,
        PROMETHEUS_URL: prometheus.url,
      });
      pods.push({ name, args, process: proc, url: `http://127.0.0.1:${port}` });
    }
    for (const pod of pods) await waitForHttp(`${pod.url}/-/ready`, pod.process);
  });

  afterAll(async () => {
    await Promise.all(pods.map((pod) => pod.process.stop()));
    await prometheus?.stop();
    dir?.remove();
  });

  it(`pod vigil-detector-2 of a 3-replica set runs --shard 2/3`, () => {
    expect(replicas).toBe(3);
    const pod = pods.find((p) => p.name === 'vigil-detector-2')!;
    expect(pod.args).toContain('--shard=2/3');
    expect(pods.map((p) => p.args.find((a) => a.startsWith('--shard=')))).toEqual([
      '--shard=0/3',
      '--shard=1/3',
      '--shard=2/3',
    ]);
  });

  it('each pod scores exactly the series whose label hash modulo 3 is its ordinal, and together they score all', async () => {
    const expected = (ordinal: number) =>
      HOSTS.filter(
        (host) =>
          stableHash(seriesKey(seriesLabels({ __name__: 'vigil_shard_demo', instance: host }))) % 3 ===
          ordinal,
      );
    const seen: string[] = [];
    for (const [ordinal, pod] of pods.entries()) {
      const hosts = await exportedHosts(pod.url);
      expect({ pod: pod.name, hosts }).toEqual({ pod: pod.name, hosts: expected(ordinal).sort() });
      seen.push(...hosts);
    }
    expect(seen.sort()).toEqual([...HOSTS].sort());
  });

  it('the shard count the pods run with is the StatefulSet replica count', () => {
    const shards = container.env.find((e: { name: string }) => e.name === 'VIGIL_SHARDS');
    expect(Number(shards.value)).toBe(replicas);
  });
});
