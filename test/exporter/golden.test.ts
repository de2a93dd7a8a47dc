import fs from 'node:fs';
import path from 'node:path';
import { exporterSchema } from '../../src/config/exporter';
import { createHostMetrics } from '../../src/exporter/exporter';
import { FIXTURES, FIXTURE_INVENTORY, FIXTURE_PATHS, fixtureHost } from './fixture-host';

const GOLDEN = path.join(FIXTURES, 'golden.prom');

/**
 * The whole host-metrics exposition over the recorded /proc and /sys tree, with the clock, statfs,
 * uname and inventory fixed. Run with UPDATE_GOLDEN=1 to rewrite the file after a deliberate change,
 * and review the diff: every line is part of the node_exporter-compatible contract.
 */
describe('golden /metrics over the fixture tree', () => {
  it('matches test/fixtures/exporter/golden.prom', async () => {
    const config = exporterSchema.parse({
      paths: FIXTURE_PATHS,
      collectors: { textfile: { directory: path.join(FIXTURES, 'textfile') } },
    });
    const metrics = createHostMetrics(config, {
      host: fixtureHost(),
      inventory: async () => FIXTURE_INVENTORY,
      platform: 'linux',
    });
    // Durations, and the checkout's path and file times, differ from run to run.
    const text = (await metrics.render('text'))
      .replace(/^(node_scrape_collector_duration_seconds\{[^}]*\}) .*$/gm, '$1 0')
      .replaceAll(FIXTURES, '<fixtures>')
      .replace(/^(node_textfile_mtime_seconds\{[^}]*\}) .*$/gm, '$1 0');
    if (process.env.UPDATE_GOLDEN) fs.writeFileSync(GOLDEN, text);
    expect(text).toBe(fs.readFileSync(GOLDEN, 'utf8'));
  });
});
