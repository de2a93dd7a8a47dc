/** `npm run grafana`: writes the dashboards of grafana/dashboards.ts to grafana/dashboards/. */
import fs from 'node:fs';
import path from 'node:path';
import { buildDashboards, dashboardFileText } from './dashboards';

const dir = path.join(__dirname, 'dashboards');
for (const [file, dashboard] of Object.entries(buildDashboards())) {
  fs.writeFileSync(path.join(dir, file), dashboardFileText(dashboard));
  console.log(`wrote grafana/dashboards/${file}`);
}
