import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';

describe('vigil exporter with collectors that cannot read their files', () => {
  const empty = tempDir('vigil-empty-procfs-');
  let vigil: StartedVigil;

  beforeAll(async () => {
    vigil = await startVigil('exporter', [`--path.procfs=${empty.path}`, '--no-collector.hostinfo']);
  });

  afterAll(async () => {
    await vigil?.stop();
    empty.remove();
  });

  it('still answers the scrape, with success 0 for the failing collectors and 1 for the others', async () => {
    const response = await fetch(`${vigil.url}/metrics`);
    expect(response.status).toBe(200);
    const body = await response.text();
    const success = Object.fromEntries(
      [...body.matchAll(/^node_scrape_collector_success\{collector="(\w+)"\} (\d)$/gm)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    );
    expect(success).toMatchObject({
      cpu: 0,
      meminfo: 0,
      stat: 0,
      loadavg: 0,
      diskstats: 0,
      filesystem: 0,
      time: 1,
      uname: 1,
    });
    expect(body).not.toMatch(/^node_cpu_seconds_total/m);
    expect(body).toMatch(/^node_time_seconds \d/m);
    expect(vigil.output()).toMatch(/"msg":"collector failed"/);
  });
});
