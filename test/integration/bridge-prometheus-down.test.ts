import { alertmanagerPayload } from '../bridge/fixtures';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';
import { writeMailingBridgeConfig } from '../helpers/bridge-config';
import { freePort } from '../helpers/net';
import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

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
        graph: { circuit_breaker: { failures: 2, cool_down: '3s' } },
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
  /** The mail of notification i: mails are parsed concurrently, so their order in the sink may differ. */
  const mailOf = (i: number) =>
    smtp.mails.find((m) => m.parsed.subject?.includes(`instance=web-${i}`))!.parsed;

  it('opens the circuit, mails without graphs saying why, and closes again when Prometheus is back', async () => {
    for (let i = 0; i < 5; i++) await post(i);
    await waitFor(() => smtp.mails.length >= 5, { what: '5 mails' });
    const texts = [0, 1, 2, 3, 4].map((i) => mailOf(i).text ?? '');
    const refused = /Graph: graph unavailable: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query_range: ECONNREFUSED/;
    const skipped = new RegExp(
      `Graph: graph unavailable: Prometheus at http://127\\.0\\.0\\.1:${prometheusPort} unreachable ` +
        '\\(circuit open since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ, last error: .*ECONNREFUSED\\)',
    );
    // The first two asked and were refused; the next one did not ask. (On a slow machine the 3 s
    // cool-down may pass before the last two: then one of them is the probe, refused again.)
    expect(refused.test(texts[0]) && refused.test(texts[1])).toBe(true);
    expect(texts[2]).toMatch(skipped);
    for (const text of texts.slice(3)) expect(skipped.test(text) || refused.test(text)).toBe(true);
    const skippedCount = texts.filter((text) => skipped.test(text)).length;
    expect(smtp.mails.every((m) => m.parsed.attachments.length === 0)).toBe(true);
    let exposition = await metrics();
    expect(exposition).toMatch(/^vigil_bridge_graph_circuit_state\{state="open"\} 1$/m);
    expect(exposition).toMatch(/^vigil_bridge_graph_circuit_state\{state="closed"\} 0$/m);
    expect(exposition).toContain(`\nvigil_bridge_graphs_skipped_total ${skippedCount}\n`);

    prometheus = await startPrometheus({ port: prometheusPort });
    // Every failure came before Prometheus started: once a cool-down has passed since then, the next
    // notification probes, finds Prometheus and gets its graph.
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    await post(5);
    await waitFor(() => smtp.mails.length >= 6, { what: 'the 6th mail' });
    const last = mailOf(5);
    expect(last.text).not.toMatch(/graph unavailable/);
    expect(last.attachments.some((a) => a.contentType === 'image/png')).toBe(true);
    exposition = await metrics();
    expect(exposition).toMatch(/^vigil_bridge_graph_circuit_state\{state="closed"\} 1$/m);
    expect(exposition).toContain(`\nvigil_bridge_graphs_skipped_total ${skippedCount}\n`);
    expect(bridge.output()).not.toMatch(/"level":"(error|fatal)"/);
  });
});
