import http from 'node:http';
import { rawRequest } from '../helpers/net';
import { startVigil, type StartedVigil } from '../helpers/vigil';

const MiB = 1024 * 1024;

/** One sample's value from a text exposition, e.g. `nodejs_heap_space_size_total_bytes{space="new"}`. */
function sampleValue(exposition: string, series: string): number {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`${series} is not in the exposition`);
  return Number(line.slice(series.length + 1));
}

/** The V8 settings `vigil exporter` applies to itself, seen from outside in its own self-metrics. */
describe('vigil exporter memory settings', () => {
  let vigil: StartedVigil;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    vigil = await startVigil('exporter', [
      '--collector.disable-defaults',
      '--collector.cpu',
      '--collector.stat',
    ]);
  });

  afterAll(async () => {
    agent.destroy();
    await vigil?.stop();
  });

  it('keeps the young generation at its initial 1 MiB semi-spaces through back-to-back scrapes', async () => {
    // Without the setting, loading the modules alone grows it to 16 MiB semi-spaces (32 MiB).
    let body = '';
    for (let i = 0; i < 100; i++) {
      const response = await rawRequest(`${vigil.url}/metrics`, { agent });
      expect(response.status).toBe(200);
      body = response.body.toString();
    }
    expect(sampleValue(body, 'nodejs_heap_space_size_total_bytes{space="new"}')).toBeLessThanOrEqual(2 * MiB);
  });
});
