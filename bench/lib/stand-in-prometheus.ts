/**
 * A stand-in for Prometheus' /api/v1/query_range, in its own process so that its CPU is not
 * counted as the detector's: the query `scale_<N>` answers N series (labels like
 * node_exporter's) at the asked steps, spelled as Prometheus spells them. A real Prometheus
 * cannot be backfilled with 100,000 series in the time a benchmark has.
 *
 * Started by bench/detector.ts with `fork`; it sends `{ port }` once listening.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const DAY = 86_400_000;

/** Each series' `"metric":{...}` text, built once per count. */
const metricTexts = new Map<number, string[]>();

function metrics(count: number): string[] {
  let texts = metricTexts.get(count);
  if (!texts) {
    texts = Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        __name__: `scale_${count}`,
        device: `sd${(i / 1000) | 0}`,
        instance: `host-${i % 1000}.example.com:9100`,
        job: 'node',
      }),
    );
    metricTexts.set(count, texts);
  }
  return texts;
}

/** A noisy daily curve, with Go's shortest decimal spelling (as Prometheus writes sample values). */
function value(t: number, i: number): string {
  return String(
    Math.round((50 + 30 * Math.sin((2 * Math.PI * (t % DAY)) / DAY) + ((t / 1000 + i * 13) % 17) / 4) * 1e4) /
      1e4,
  );
}

function answer(query: string, startS: number, endS: number, stepS: number): Buffer {
  const count = Number(/^scale_(\d+)$/.exec(query)?.[1]);
  if (!Number.isInteger(count)) throw new Error(`unknown query ${query}`);
  const parts: string[] = ['{"status":"success","data":{"resultType":"matrix","result":['];
  const texts = metrics(count);
  for (let i = 0; i < count; i++) {
    let values = '';
    for (let t = startS; t <= endS; t += stepS) {
      values += `${values ? ',' : ''}[${t},"${value(t * 1000, i)}"]`;
    }
    parts.push(`${i ? ',' : ''}{"metric":${texts[i]},"values":[${values}]}`);
  }
  parts.push(']}}');
  return Buffer.from(parts.join(''));
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    try {
      const form = new URLSearchParams(body);
      const payload = answer(
        form.get('query') ?? '',
        Number(form.get('start')),
        Number(form.get('end')),
        Number(form.get('step')),
      );
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
      res.end(payload);
    } catch (err) {
      const payload = JSON.stringify({ status: 'error', errorType: 'bad_data', error: String(err) });
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(payload);
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
