import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { freePort } from '../helpers/net';
import { runVigil } from '../helpers/vigil';

/** Recent samples, so that an instant query at "now" finds them within the 5m lookback. */
function backfill(): string {
  const now = Math.floor(Date.now() / 1000);
  const lines = ['# TYPE disk_used_percent gauge'];
  for (let t = now - 600; t <= now - 30; t += 30) {
    lines.push(`disk_used_percent{instance="a"} 42 ${t}`, `disk_used_percent{instance="b"} 93 ${t}`);
  }
  lines.push('# TYPE vigil_anomaly gauge');
  for (let t = now - 600; t <= now - 30; t += 30) {
    lines.push(
      `vigil_anomaly{rule="cpu",instance="a"} 0 ${t}`,
      `vigil_anomaly{rule="net",instance="a"} 1 ${t}`,
    );
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

describe('vigil check against a real Prometheus', () => {
  let prometheus: StartedPrometheus;
  beforeAll(async () => {
    prometheus = await startPrometheus({ backfillOpenMetrics: backfill() });
  });
  afterAll(async () => prometheus?.stop());

  it('is CRITICAL (exit 2) when a series breaches the critical range', () => {
    const result = runVigil([
      'check',
      '--prometheus',
      prometheus.url,
      '--query',
      'disk_used_percent',
      '-w',
      '80',
      '-c',
      '90',
    ]);
    expect(result.stdout).toBe("CRITICAL - instance=b = 93 | 'instance=b'=93;80;90 'instance=a'=42;80;90\n");
    expect(result.status).toBe(2);
  });

  it('is OK (exit 0) when the expression is within range', () => {
    const result = runVigil([
      'check',
      '--prometheus',
      prometheus.url,
      '--query',
      'disk_used_percent{instance="a"}',
      '-c',
      '90',
    ]);
    expect(result.stdout).toMatch(/^OK - instance=a = 42 \| /);
    expect(result.status).toBe(0);
  });

  it('reports raised anomaly flags as CRITICAL and a quiet rule as OK', () => {
    const raised = runVigil(['check', '--prometheus', prometheus.url, '--anomalies']);
    expect(raised.status).toBe(2);
    expect(raised.stdout).toMatch(/^CRITICAL - instance=a,rule=net = 1 \| /);
    const quiet = runVigil(['check', '--prometheus', prometheus.url, '--anomalies', '--rule', 'cpu']);
    expect(quiet.status).toBe(0);
  });

  it('is UNKNOWN (exit 3) with Prometheus own words for invalid PromQL', () => {
    const result = runVigil(['check', '--prometheus', prometheus.url, '--query', 'rate(x[5m]']);
    expect(result.status).toBe(3);
    expect(result.stdout).toMatch(/^UNKNOWN - rate\(x\[5m\]: bad_data: .*parse error.*\n$/);
  });

  it('is UNKNOWN (exit 3) when Prometheus is down, in one line', async () => {
    const port = await freePort();
    const result = runVigil(['check', '--prometheus', `http://127.0.0.1:${port}`, '--query', 'up']);
    expect(result.status).toBe(3);
    expect(result.stdout).toMatch(/^UNKNOWN - up: .*ECONNREFUSED\n$/);
  });

  it('is UNKNOWN (exit 3) for bad usage, never 2 (which would read as CRITICAL)', () => {
    expect(runVigil(['check', '--query', 'up', '-c', '20:10']).status).toBe(3);
    expect(runVigil(['check']).status).toBe(3);
    const unknownFlag = runVigil(['check', '--nope']);
    expect(unknownFlag.status).toBe(3);
    expect(unknownFlag.stderr).toContain("unknown option '--nope'");
  });
});
