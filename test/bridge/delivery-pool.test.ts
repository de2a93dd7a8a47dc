import fs from 'node:fs';
import path from 'node:path';
import { createChannel, parseChannels } from '../../src/bridge/channels';
import type { OutgoingMessage } from '../../src/bridge/channels/channel';
import { EmailChannel } from '../../src/bridge/channels/email';
import { DeliveryPool } from '../../src/bridge/delivery-pool';
import { Dispatcher } from '../../src/bridge/dispatcher';
import type { EvidenceSource } from '../../src/bridge/enrich';
import type { EnrichedNotification } from '../../src/bridge/evidence';
import { BridgeMetrics } from '../../src/bridge/metrics';
import { parseNotification } from '../../src/bridge/payload';
import { drawChart } from '../../src/bridge/render/png';
import { Spool } from '../../src/bridge/spool';
import { rootLogger } from '../../src/common/logger';
import { freePort } from '../helpers/net';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';
import { alertmanagerPayload, enrichedNotification, spooled } from './fixtures';
import { startSmtpSink, type SmtpSink } from './smtp-sink';

const END = Date.UTC(2026, 10, 23, 14, 30);
const TIMESTAMPS = Array.from({ length: 60 }, (_, i) => END - (59 - i) * 60_000);
const VALUES = TIMESTAMPS.map((_, i) => 0.4 + (i > 30 ? 0.55 : 0));

describe('delivery pool', () => {
  let dir: ReturnType<typeof tempDir>;
  let smtp: SmtpSink;
  let pool: DeliveryPool | undefined;
  beforeEach(async () => {
    dir = tempDir();
    smtp = await startSmtpSink(await freePort(), { starttls: false });
  });
  afterEach(async () => {
    await pool?.close();
    await smtp.stop();
    dir.remove();
  });

  const mailConfig = () =>
    parseChannels([
      {
        name: 'mail',
        type: 'email',
        from: 'vigil@example.com',
        to: ['ops@example.com'],
        smtp: { host: '127.0.0.1', port: smtp.port },
      },
    ])[0];
  const CONTEXT = { timeZone: 'Europe/Berlin', bridgeUrl: 'http://bridge.example:9112' };

  it('a mail composed and sent in a worker thread has the MIME content of one made in-process', async () => {
    pool = new DeliveryPool(1, 4);
    const { png } = await drawChart({
      title: 'HostHighCpu: instance:node_cpu_busy:ratio',
      series: [
        { name: 'instance:node_cpu_busy:ratio{instance="web-1"}', timestamps: TIMESTAMPS, values: VALUES },
      ],
      threshold: 0.9,
      startMs: TIMESTAMPS[0],
      endMs: END,
      alertStartMs: TIMESTAMPS[31],
      unit: 'ratio',
      timeZone: 'UTC',
      width: 600,
    });
    const file = path.join(dir.path, 'graph.png');
    fs.writeFileSync(file, png);
    const csv = 'time,value\r\n2026-11-23T14:30:00Z,0.95\r\n';
    const csvFile = path.join(dir.path, 'graph.csv');
    fs.writeFileSync(csvFile, csv);
    // Resolved: its duration is fixed, so nothing in the text depends on when it is sent.
    const plain = enrichedNotification({ status: 'resolved' });
    const enriched: EnrichedNotification = {
      ...plain,
      alerts: [
        {
          ...plain.alerts[0],
          query: 'instance:node_cpu_busy:ratio > 0.9',
          unit: 'ratio',
          graph: {
            id: 'AAAAAAAAAAAAAAAAAAAAAA',
            file,
            bytes: png.length,
            csvFile,
            csvBytes: csv.length,
            csvName: 'HostHighCpu-1.csv',
            lastValue: VALUES[VALUES.length - 1],
          },
        },
      ],
    };
    const message: OutgoingMessage = {
      id: '1795444200000-0123456789ab-abcdef',
      route: 'ops',
      receivedAt: END,
      notification: enriched,
    };
    const inProcess = jest.spyOn(EmailChannel.prototype, 'send');
    const local = createChannel(mailConfig(), CONTEXT);
    const offThread = createChannel(mailConfig(), CONTEXT, (c, context) => pool!.notifier(c, context));
    try {
      const fromWorker = await offThread.send(message, new AbortController().signal);
      expect(fromWorker.detail).toMatch(/^250 /);
      // The worker's own EmailChannel sent it: this thread's was not called.
      expect(inProcess).not.toHaveBeenCalled();
      await local.send(message, new AbortController().signal);
      expect(inProcess).toHaveBeenCalledTimes(1);
    } finally {
      inProcess.mockRestore();
      await Promise.all([local.close(), offThread.close()]);
    }
    const [worker, here] = await waitFor(() => smtp.mails.length === 2 && smtp.mails, { what: 'two mails' });
    const content = ({ parsed }: (typeof smtp.mails)[number]) => ({
      from: parsed.from?.text,
      to: parsed.to,
      subject: parsed.subject,
      messageId: parsed.messageId,
      references: parsed.references,
      inReplyTo: parsed.inReplyTo,
      status: parsed.headers.get('x-vigil-status'),
      route: parsed.headers.get('x-vigil-route'),
      text: parsed.text,
      html: parsed.html,
      attachments: parsed.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        disposition: a.contentDisposition,
        cid: a.cid,
        content: a.content.toString('base64'),
      })),
    });
    expect(content(worker)).toEqual(content(here));
    // And it is the whole mail: the graph inline by cid, its bytes intact, the CSV attached.
    const mail = content(worker);
    expect(mail.subject).toMatch(/RESOLVED/i);
    expect(mail.html).toContain('cid:graph-1.1795444200000-0123456789ab-abcdef@vigil');
    expect(mail.attachments.map((a) => a.filename)).toEqual(['graph-1.png', 'HostHighCpu-1.csv']);
    expect(Buffer.from(mail.attachments[0].content, 'base64').equals(png)).toBe(true);
    expect(Buffer.from(mail.attachments[1].content, 'base64').toString('utf8')).toBe(csv);
  });

  it('a worker that dies during an attempt leaves the delivery pending in the spool; the retry mails it once', async () => {
    pool = new DeliveryPool(1, 4, path.join(__dirname, 'crashing-delivery-worker.ts'));
    const { spool, contents } = await Spool.open(path.join(dir.path, 'spool'));
    const metrics = new BridgeMetrics();
    const log = rootLogger.child({ component: 'test' });
    log.level = 'silent';
    const evidence: EvidenceSource = {
      acquire: async (_id, notification) => ({
        notification,
        alerts: notification.alerts.map((alert) => ({ alert, unit: 'short' as const })),
      }),
      release: () => undefined,
    };
    // The clock stands still until the test lets the retry become due.
    let now = Date.UTC(2026, 10, 23, 15, 0);
    const channel = createChannel(mailConfig(), { ...CONTEXT, now: () => now }, (c, context) =>
      pool!.notifier(c, context),
    );
    const dispatcher = new Dispatcher(
      spool,
      new Map([['mail', channel]]),
      evidence,
      {
        retry: { initialBackoffMs: 50, maxBackoffMs: 50, maxAgeMs: 3_600_000, concurrency: 4 },
        dedupWindowMs: 60_000,
        history: 10,
      },
      metrics,
      log,
      () => now,
    );
    dispatcher.load(contents);
    const parsed = parseNotification(alertmanagerPayload());
    if (!parsed.ok) throw new Error(parsed.reason);
    const { id } = await dispatcher.accept('default', parsed.notification, ['mail']);

    // The crash is the attempt's failure: recorded in the spool, still pending.
    const recorded = await waitFor(
      async () => {
        const delivery = (await spooled(spool.dir)).get(id)?.deliveries[0];
        return delivery?.attempts === 1 && delivery;
      },
      { what: 'the failed attempt in the spool' },
    );
    expect(recorded.state).toBe('pending');
    expect(recorded.lastError).toBe('delivery worker exited with code 1');
    expect(smtp.accepted()).toBe(0);

    now += 60_000;
    const delivery = await waitFor(
      async () => {
        const latest = (await spooled(spool.dir)).get(id)?.deliveries[0];
        return latest?.state === 'delivered' && latest;
      },
      { what: 'the delivery recorded as done' },
    );
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(delivery.detail).toMatch(/^250 /);
    await waitFor(() => smtp.mails.length === 1, { what: 'the mail' });
    expect(smtp.accepted()).toBe(1);
    expect(smtp.mails[0].parsed.subject).toContain('HostHighCpu');
    await dispatcher.stop();
    await spool.close();
    await channel.close();
  });
});
