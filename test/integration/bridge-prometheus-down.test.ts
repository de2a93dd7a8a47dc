import { alertmanagerPayload } from '../bridge/fixtures';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';
import { writeMailingBridgeConfig } from '../helpers/bridge-config';
import { freePort } from '../helpers/net';
import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120_000);

/**
 * Prometheus is a closed port: after two failed graph queries the circuit opens and the mails go out
 * without asking, each saying why; once a real Prometheus listens there, the probe after the
 * cool-down closes the circuit and graphs come back.
 */
describe('bridge with Prometheus down', () => {
  const dir = tempDir('vigil-bridge-prom-down-');
  let smtp: SmtpSink;
  let bridge: StartedVigil;
  let prometheus: StartedPrometheus | undefined;
  let prometheusPort: number;

  beforeAll(async () => {
    smtp = await startSmtpSink(await freePort(), { starttls: false });
    prometheusPort = await freePort(); // nothing listens here yet
    const config = writeMailingBridgeConfig(dir.path, {
      smtpPort: smtp.port,
      prometheusUrl: `http://127.0.0.1:${prometheusPort}`,
      bridge: {
        retry: { concurrency: 1 },
        graph: { circuit_breaker: { failures: 2, cool_down: '1s' } },
      },
    });
    bridge = await startVigil('bridge', ['--config', config]);
  });

  afterAll(async () => {
    await bridge?.stop();
    await prometheus?.stop();
    await smtp?.stop();
    dir.remove();
  });

  const post = async (i: number): Promise<void> => {
    const response = await fetch(`${bridge.url}/webhook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(
        alertmanagerPayload({
          instances: [`web-${i}`],
          groupKey: `{}:{instance="web-${i}"}`,
          annotations: { query: 'vector(1)' },
        }),
      ),
    });
    expect(response.status).toBe(200);
  };
  const metrics = async (): Promise<string> => (await fetch(`${bridge.url}/metrics`)).text();

  it('opens the circuit, mails without graphs saying why, and closes again when Prometheus is back', async () => {
    for (let i = 0; i < 5; i++) await post(i);
    await waitFor(() => smtp.mails.length >= 5, { timeoutMs: 30_000, what: '5 mails' });
    const texts = smtp.mails.map((m) => m.parsed.text ?? '');
    // The first two asked and were refused; the rest did not ask.
    expect(
      texts
        .slice(0, 2)
        .every((t) =>
          /Graph: graph unavailable: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query_range: ECONNREFUSED/.test(t),
        ),
    ).toBe(true);
    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    for (const text of texts.slice(2)) {
      expect(text).toContain(
        `Graph: graph unavailable: Prometheus at ${prometheusUrl} unreachable (circuit open since `,
      );
      expect(text).toMatch(
        /circuit open since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, last error: .*ECONNREFUSED\)/,
      );
    }
    expect(smtp.mails.every((m) => m.parsed.attachments.length === 0)).toBe(true);
    let exposition = await metrics();
    expect(exposition).toMatch(/^vigil_bridge_graph_circuit_state\{state="open"\} 1$/m);
    expect(exposition).toMatch(/^vigil_bridge_graph_circuit_state\{state="closed"\} 0$/m);
    expect(exposition).toMatch(/^vigil_bridge_graphs_skipped_total 3$/m);

    prometheus = await startPrometheus({ port: prometheusPort });
    // The cool-down is 1 s: the next notification after it probes, finds Prometheus and gets its graph.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await post(5);
    await waitFor(() => smtp.mails.length >= 6, { timeoutMs: 30_000, what: 'the 6th mail' });
    const last = smtp.mails[5].parsed;
    expect(last.text).not.toMatch(/graph unavailable/);
    expect(last.attachments.some((a) => a.contentType === 'image/png')).toBe(true);
    exposition = await metrics();
    expect(exposition).toMatch(/^vigil_bridge_graph_circuit_state\{state="closed"\} 1$/m);
    expect(exposition).toMatch(/^vigil_bridge_graphs_skipped_total 3$/m);
    expect(bridge.output()).not.toMatch(/"level":"(error|fatal)"/);
  });
});
