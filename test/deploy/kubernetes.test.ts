import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { tempDir } from '../helpers/tmp';
import { runVigil } from '../helpers/vigil';
import {
  containerCommandLine,
  findObject,
  KUBERNETES_DIR,
  loadManifests,
  validateManifests,
  type KubeObject,
} from './kubernetes';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are free-form YAML trees */

const manifests = loadManifests();
const objects = manifests.map((m) => m.object);
const workloads = objects.filter((o) => ['DaemonSet', 'StatefulSet', 'Deployment'].includes(o.kind));

function clone(object: KubeObject): KubeObject {
  return JSON.parse(JSON.stringify(object)) as KubeObject;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe('deploy/kubernetes', () => {
  // One run of the validator for the shipped objects and the broken copies (it type-checks them all).
  let failures: Array<{ name: string; error: string }>;
  beforeAll(() => {
    const daemonSet = clone(findObject(manifests, 'DaemonSet', 'vigil-exporter'));
    daemonSet.spec.template.spec.containers[0].securityContext.readOnlyRootFilesysten = true;
    const statefulSet = clone(findObject(manifests, 'StatefulSet', 'vigil-detector'));
    statefulSet.spec.replicas = 'three';
    const deployment = clone(findObject(manifests, 'Deployment', 'vigil-bridge'));
    deployment.spec.template.spec.containers[0].resources.limits.memory = '384 megs';
    const serviceMonitor = clone(findObject(manifests, 'ServiceMonitor', 'vigil-detector'));
    serviceMonitor.spec.endpoints[0].honorLabel = true;
    failures = validateManifests([
      ...manifests,
      { name: 'broken:typo', object: daemonSet },
      { name: 'broken:type', object: statefulSet },
      { name: 'broken:quantity', object: deployment },
      { name: 'broken:crd-typo', object: serviceMonitor },
    ]);
  });

  const errorsOf = (name: string) =>
    failures
      .filter((f) => f.name === name)
      .map((f) => f.error)
      .join('\n');

  it('every object is valid against the Kubernetes and Prometheus Operator schemas', () => {
    expect(manifests.map((m) => `${m.object.kind}/${m.object.metadata.name}`)).toEqual(
      expect.arrayContaining([
        'DaemonSet/vigil-exporter',
        'StatefulSet/vigil-detector',
        'Deployment/vigil-bridge',
        'PersistentVolumeClaim/vigil-bridge-spool',
        'PodDisruptionBudget/vigil-bridge',
        'Secret/vigil-bridge',
        'ServiceMonitor/vigil-exporter',
        'ServiceMonitor/vigil-detector',
        'ServiceMonitor/vigil-bridge',
        'PrometheusRule/vigil',
        'AlertmanagerConfig/vigil-bridge',
      ]),
    );
    expect(failures.filter((f) => !f.name.startsWith('broken:'))).toEqual([]);
  });

  it('a misspelt field, a wrong type or a bad quantity fails validation, naming it', () => {
    expect(errorsOf('broken:typo')).toMatch(
      /'"readOnlyRootFilesysten"' does not exist in type 'ISecurityContext'/,
    );
    expect(errorsOf('broken:type')).toMatch(/replicas must be integer/);
    expect(errorsOf('broken:quantity')).toMatch(/limits\/memory must match format "quantity"/);
    expect(errorsOf('broken:crd-typo')).toMatch(/'"honorLabel"' does not exist/);
  });

  it('the kustomization lists every manifest file and only those', () => {
    const kustomization = YAML.parse(
      fs.readFileSync(path.join(KUBERNETES_DIR, 'kustomization.yaml'), 'utf8'),
    ) as {
      resources: string[];
    };
    const files = fs
      .readdirSync(KUBERNETES_DIR)
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it('selectors, Services, ServiceMonitors and volumes refer to what exists', () => {
    for (const workload of workloads) {
      const template = workload.spec.template;
      expect(matches(workload.spec.selector.matchLabels, template.metadata.labels)).toBe(true);
      const volumes = new Set<string>([
        ...(template.spec.volumes ?? []).map((v: any) => v.name),
        ...(workload.spec.volumeClaimTemplates ?? []).map((v: any) => v.metadata.name),
      ]);
      for (const container of template.spec.containers) {
        for (const mount of container.volumeMounts ?? []) expect(volumes).toContain(mount.name);
      }
      for (const volume of template.spec.volumes ?? []) {
        if (volume.configMap) findObject(manifests, 'ConfigMap', volume.configMap.name);
        if (volume.secret) findObject(manifests, 'Secret', volume.secret.secretName);
        if (volume.persistentVolumeClaim)
          findObject(manifests, 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName);
      }
    }
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const pods = workloads.filter((w) => matches(service.spec.selector, w.spec.template.metadata.labels));
      expect(pods).toHaveLength(1);
      const portNames = pods[0].spec.template.spec.containers.flatMap((c: any) =>
        c.ports.map((p: any) => p.name),
      );
      for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    }
    const serviceMonitors = objects.filter((o) => o.kind === 'ServiceMonitor');
    expect(serviceMonitors).toHaveLength(3);
    for (const monitor of serviceMonitors) {
      const services = objects.filter(
        (o) => o.kind === 'Service' && matches(monitor.spec.selector.matchLabels, o.metadata.labels),
      );
      expect(services).toHaveLength(1);
      for (const endpoint of monitor.spec.endpoints) {
        expect(services[0].spec.ports.map((p: any) => p.name)).toContain(endpoint.port);
      }
    }
    const statefulSet = findObject(manifests, 'StatefulSet', 'vigil-detector');
    findObject(manifests, 'Service', statefulSet.spec.serviceName);
  });

  it('the ServiceMonitors give the job names the PrometheusRule selects the services by', () => {
    // The Operator names the job after the Service unless a relabeling sets it.
    const jobs = objects
      .filter((o) => o.kind === 'ServiceMonitor')
      .map((monitor) => {
        const relabel = (monitor.spec.endpoints[0].relabelings ?? []).find(
          (r: any) => r.targetLabel === 'job',
        );
        return relabel
          ? relabel.replacement
          : monitor.spec.selector.matchLabels &&
              objects.find(
                (o) => o.kind === 'Service' && matches(monitor.spec.selector.matchLabels, o.metadata.labels),
              )!.metadata.name;
      });
    const rules = fs.readFileSync(path.join(KUBERNETES_DIR, 'prometheus-rule.yaml'), 'utf8');
    const selected = new Set([...rules.matchAll(/job="([^"]+)"/g)].map((m) => m[1]));
    expect(selected.size).toBeGreaterThan(0);
    for (const job of selected) expect(jobs).toContain(job);
  });

  it('the exporter runs on every node like node_exporter: host namespaces, host filesystems read-only, unprivileged', () => {
    const pod = findObject(manifests, 'DaemonSet', 'vigil-exporter').spec.template.spec;
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBe(true);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const container = pod.containers[0];
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    for (const mount of container.volumeMounts) expect(mount.readOnly).toBe(true);
    const hostPaths = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v.hostPath.path]));
    const mounted = Object.fromEntries(
      container.volumeMounts.map((m: any) => [hostPaths[m.name], m.mountPath]),
    );
    expect(container.args).toEqual(
      expect.arrayContaining([
        `--path.procfs=${mounted['/proc']}`,
        `--path.sysfs=${mounted['/sys']}`,
        `--path.rootfs=${mounted['/']}`,
      ]),
    );
    for (const workload of workloads) {
      for (const c of workload.spec.template.spec.containers) {
        expect(c.resources.requests).toHaveProperty('memory');
        expect(c.resources.limits).toHaveProperty('memory');
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      }
    }
  });

  it('the ConfigMap is a valid vigil configuration with the environment and files the pods give it', () => {
    const configMap = findObject(manifests, 'ConfigMap', 'vigil-config');
    const secret = findObject(manifests, 'Secret', 'vigil-bridge');
    for (const workload of workloads.filter((w) => w.kind !== 'DaemonSet')) {
      const container = workload.spec.template.spec.containers[0];
      const dir = tempDir('vigil-k8s-config-');
      try {
        // Each mount becomes a directory of the temporary tree; paths in the arguments and in the
        // configuration follow it.
        const mounts: Array<[string, string]> = container.volumeMounts.map((m: any) => [
          m.mountPath,
          path.join(dir.path, m.name),
        ]);
        mounts.sort((a, b) => b[0].length - a[0].length);
        const relocate = (text: string) => mounts.reduce((t, [from, to]) => t.split(from).join(to), text);
        for (const mount of container.volumeMounts) {
          const target = path.join(dir.path, mount.name);
          fs.mkdirSync(target, { recursive: true });
          const volume = workload.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
          if (volume?.configMap) {
            for (const [key, value] of Object.entries(configMap.data))
              fs.writeFileSync(path.join(target, key), relocate(String(value)));
          }
          if (volume?.secret)
            for (const [key, value] of Object.entries(secret.stringData))
              fs.writeFileSync(path.join(target, key), String(value));
        }
        const { args, env } = containerCommandLine(container, {
          name: `${workload.metadata.name}-0`,
          labels: { 'apps.kubernetes.io/pod-index': '0' },
        });
        const result = runVigil([...args.map(relocate), '--check-config'], env);
        expect({ workload: workload.metadata.name, stderr: result.stderr, status: result.status }).toEqual({
          workload: workload.metadata.name,
          stderr: '',
          status: 0,
        });
      } finally {
        dir.remove();
      }
    }
  });

  it('the AlertmanagerConfig sends to the bridge Service with the token the bridge expects', () => {
    const amConfig = findObject(manifests, 'AlertmanagerConfig', 'vigil-bridge');
    const webhook = amConfig.spec.receivers[0].webhookConfigs[0];
    const service = findObject(manifests, 'Service', 'vigil-bridge');
    expect(webhook.url).toBe(
      `http://${service.metadata.name}.vigil.svc:${service.spec.ports[0].port}/webhook`,
    );
    expect(webhook.sendResolved).toBe(true);
    const credentials = webhook.httpConfig.authorization.credentials;
    expect(credentials.name).toBe('vigil-bridge');
    expect(findObject(manifests, 'Secret', 'vigil-bridge').stringData).toHaveProperty(credentials.key);
    const config = YAML.parse(findObject(manifests, 'ConfigMap', 'vigil-config').data['bridge.yml']);
    expect(config.bridge.auth.bearer_token_file).toBe(`/etc/vigil/secrets/${credentials.key}`);
  });
});
