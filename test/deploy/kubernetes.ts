import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export const KUBERNETES_DIR = path.resolve(__dirname, '..', '..', 'deploy', 'kubernetes');

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are free-form YAML trees */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: any };
  [key: string]: any;
};

export interface Manifest {
  /** file#index, for messages */
  name: string;
  object: KubeObject;
}

/** Every object of every manifest in deploy/kubernetes (the kustomization aside). */
export function loadManifests(dir = KUBERNETES_DIR): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of fs.readdirSync(dir).sort()) {
    if (!file.endsWith('.yaml') || file === 'kustomization.yaml') continue;
    YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8')).forEach((doc, i) => {
      if (doc.errors.length > 0) throw new Error(`${file}#${i}: ${doc.errors[0].message}`);
      const object = doc.toJS() as KubeObject | null;
      if (object) manifests.push({ name: `${file}#${i}`, object });
    });
  }
  return manifests;
}

export function findObject(manifests: Manifest[], kind: string, name: string): KubeObject {
  const found = manifests.find((m) => m.object.kind === kind && m.object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found.object;
}

/** Failures of the objects against the Kubernetes and Prometheus Operator schemas (validate-models.mjs). */
export function validateManifests(manifests: Manifest[]): Array<{ name: string; error: string }> {
  const result = spawnSync(process.execPath, [path.join(__dirname, 'validate-models.mjs')], {
    input: JSON.stringify(manifests),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`validate-models.mjs: ${result.stderr}`);
  return JSON.parse(result.stdout) as Array<{ name: string; error: string }>;
}

/** What the kubelet gives a container: its env (downward API resolved) and its expanded args. */
export function containerCommandLine(
  container: any,
  pod: { name: string; labels: Record<string, string> },
): { args: string[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = expandReferences(String(entry.value), env);
    else if (entry.valueFrom?.fieldRef) env[entry.name] = podField(entry.valueFrom.fieldRef.fieldPath, pod);
    else throw new Error(`env ${entry.name}: only value and fieldRef are simulated`);
  }
  return { args: (container.args ?? []).map((arg: string) => expandReferences(arg, env)), env };
}

/** Kubernetes' $(VAR) expansion: defined variables are replaced, $$ escapes, others stay as written. */
function expandReferences(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) =>
    match === '$$' ? '$' : name !== undefined && name in env ? env[name] : match,
  );
}

function podField(fieldPath: string, pod: { name: string; labels: Record<string, string> }): string {
  if (fieldPath === 'metadata.name') return pod.name;
  const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
  if (label) return pod.labels[label[1]] ?? '';
  throw new Error(`fieldRef ${fieldPath} is not simulated`);
}

/** The labels the StatefulSet controller puts on its pod of the given ordinal. */
export function statefulSetPodLabels(statefulSet: KubeObject, ordinal: number): Record<string, string> {
  return {
    ...statefulSet.spec.template.metadata.labels,
    'statefulset.kubernetes.io/pod-name': `${statefulSet.metadata.name}-${ordinal}`,
    'apps.kubernetes.io/pod-index': String(ordinal),
  };
}
