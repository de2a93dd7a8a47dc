/**
 * Bridge under hostile connections: webhook acknowledgement latency and delivery at 200 requests/s
 * (open-loop, one request every 5 ms, latency counted from the scheduled send time) for a few
 * seconds, (a) on a quiet bridge, (b) while 2,000 idle connections and 10 bodies trickled a byte a
 * second are open. Every notification is distinct, fsync'd to the spool before its 200, and mailed
 * to a real SMTP server (smtp-server, in this process; no Prometheus, so no graphs).
 *
 * Run alone: npm run build && npx tsx bench/bridge-hostile.ts
 */
import { alertmanagerPayload } from '../test/bridge/fixtures';
import { startSmtpSink } from '../test/bridge/smtp-sink';
import { writeMailingBridgeConfig } from '../test/helpers/bridge-config';
import { startHostileClients } from '../test/helpers/hostile';
import { freePort } from '../test/helpers/net';
import { tempDir } from '../test/helpers/tmp';
import { startVigil } from '../test/helpers/vigil';
import { waitFor } from '../test/helpers/wait';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

async function run(label: string, hostile: boolean): Promise<void> {
  const dir = tempDir('vigil-bench-hostile-');
  const smtp = await startSmtpSink(await freePort(), { starttls: false, parse: false });
  const configFile = writeMailingBridgeConfig(dir.path, {
    smtpPort: smtp.port,
    prometheusUrl: `http://127.0.0.1:${await freePort()}`,
  });
  const bridge = await startVigil('bridge', ['--config', configFile]);
  const clients = hostile ? await startHostileClients(bridge.port, { idle: 2_000, trickles: 10 }) : undefined;
  try {
    const total = RATE * SECONDS;
    const latencies: number[] = [];
    let failed = 0;
    const started = performance.now();
    const posts: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const body = JSON.stringify(
        alertmanagerPayload({ instances: [`web-${i}`], groupKey: `bench-${label}-${i}` }),
      );
      posts.push(
        fetch(`${bridge.url}/webhook`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        }).then(
          async (response) => {
            await response.arrayBuffer();
            if (response.status === 200) latencies.push(performance.now() - due);
            else failed++;
          },
          () => void failed++,
        ),
      );
    }
    await Promise.all(posts);
    const ackedAt = performance.now();
    const openAtLastAck = clients?.open();
    await waitFor(() => smtp.accepted() >= total - failed, { timeoutMs: 120_000, what: 'all mails' });
    const deliveredAfter = (performance.now() - ackedAt) / 1000;
    console.log(
      `${label.padEnd(44)} acked ${latencies.length}/${total} (failed ${failed})  ack p50 ${quantile(latencies, 0.5).toFixed(1)} ms  p99 ${quantile(latencies, 0.99).toFixed(1)} ms  all ${smtp.accepted()} mailed ${deliveredAfter.toFixed(1)} s after the last ack` +
        (openAtLastAck === undefined ? '' : `  hostile connections open at the last ack: ${openAtLastAck}`),
    );
  } finally {
    clients?.close();
    await bridge.stop();
    await smtp.stop();
    dir.remove();
  }
}

async function main(): Promise<void> {
  console.log(`webhooks at ${RATE}/s for ${SECONDS} s, each fsync'd, then mailed`);
  await run('quiet bridge (peer figure)', false);
  await run('with 2,000 idle + 10 trickling connections', true);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
