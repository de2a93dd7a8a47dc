import fs from 'node:fs';
import path from 'node:path';
import { buildDashboards, dashboardFileText } from '../../grafana/dashboards';
import { readYaml, REPO } from './files';

const DIR = path.join(REPO, 'grafana', 'dashboards');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource: { uid: string } }>;
}
interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Array<{ name: string; type: string }> };
  panels: Panel[];
}

const committed = Object.fromEntries(
  fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as DashboardJson]),
);

describe('grafana/', () => {
  it('commits exactly the dashboards grafana/dashboards.ts builds (npm run grafana)', () => {
    const built = buildDashboards();
    expect(Object.keys(committed).sort()).toEqual(Object.keys(built).sort());
    for (const [file, dashboard] of Object.entries(built)) {
      expect([file, fs.readFileSync(path.join(DIR, file), 'utf8')]).toEqual([
        file,
        dashboardFileText(dashboard),
      ]);
    }
  });

  it.each(Object.keys(committed))('%s is a dashboard Grafana can open', (file) => {
    const dashboard = committed[file];
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const variables = new Set(dashboard.templating.list.map((v) => v.name));
    expect(variables.has('datasource')).toBe(true);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    // A 24-column grid without overlaps.
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect([panel.title, x >= 0 && w >= 1 && x + w <= 24 && h >= 1]).toEqual([panel.title, true]);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect([panel.title, cells.has(`${i},${j}`)]).toEqual([panel.title, false]);
          cells.add(`${i},${j}`);
        }
      }
      if (panel.type === 'row') continue;
      expect([panel.title, panel.datasource?.uid]).toEqual([panel.title, '${datasource}']);
      const targets = panel.targets ?? [];
      expect([panel.title, targets.length > 0]).toEqual([panel.title, true]);
      expect(new Set(targets.map((t) => t.refId)).size).toBe(targets.length);
      for (const target of targets) {
        expect(target.datasource.uid).toBe('${datasource}');
        // Every variable a query uses is defined (or one of Grafana's own).
        for (const [, name] of target.expr.matchAll(/\$(\w+)/g)) {
          expect([panel.title, name, variables.has(name) || name.startsWith('__')]).toEqual([
            panel.title,
            name,
            true,
          ]);
        }
      }
    }
  });

  it('provisions a Prometheus data source and the dashboards folder', () => {
    const datasources = readYaml<{ datasources: Array<{ type: string; isDefault: boolean }> }>(
      path.join(REPO, 'grafana', 'provisioning', 'datasources', 'vigil.yml'),
    );
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', isDefault: true }),
    ]);
    const providers = readYaml<{ providers: Array<{ type: string; options: { path: string } }> }>(
      path.join(REPO, 'grafana', 'provisioning', 'dashboards', 'vigil.yml'),
    );
    expect(providers.providers).toEqual([
      expect.objectContaining({ type: 'file', options: expect.any(Object) }),
    ]);
  });
});
