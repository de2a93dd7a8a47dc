import fs from 'node:fs';
import path from 'node:path';
import {
  ConfiguredChannel,
  DeliveryError,
  type Notifier,
  type OutgoingMessage,
} from '../../src/bridge/channels/channel';
import { parseMatcher } from '../../src/common/matchers';
import type { ChannelBaseConfig } from '../../src/config/bridge';
import { Dispatcher, type DispatcherOptions } from '../../src/bridge/dispatcher';
import { Enricher } from '../../src/bridge/enrich';
import { gatherInProcess, type EnrichedNotification } from '../../src/bridge/evidence';
import { GraphStore } from '../../src/bridge/graphs';
import { BridgeMetrics } from '../../src/bridge/metrics';
import { parseNotification, type Notification } from '../../src/bridge/payload';
import { Spool } from '../../src/bridge/spool';
import { rootLogger } from '../../src/common/logger';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';
import { alertmanagerPayload, GRAPH_SETTINGS, spooledIds, type PayloadOptions } from './fixtures';

/** A channel whose answers the test scripts: failures first, then success. */
class ScriptedChannel implements Notifier {
  readonly sent: OutgoingMessage[] = [];
  attempts = 0;
  constructor(
    readonly name: string,
    private readonly failures: Array<DeliveryError> = [],
  ) {}
  async send(message: OutgoingMessage) {
    this.attempts++;
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push(message);
    return { detail: '250 ok' };
  }
  async close() {}
}

function notification(o: PayloadOptions = {}): Notification {
  const result = parseNotification(alertmanagerPayload(o));
  if (!result.ok) throw new Error(result.reason);
  return result.notification;
}

const enrich = async (n: Notification): Promise<EnrichedNotification> => ({
  notification: n,
  alerts: n.alerts.map((alert) => ({ alert, unit: 'short' })),
});

const OPTIONS: DispatcherOptions = {
  retry: { initialBackoffMs: 10, maxBackoffMs: 40, maxAgeMs: 60_000, concurrency: 4 },
  dedupWindowMs: 60_000,
  history: 10,
};

describe('dispatcher', () => {
  let dir: ReturnType<typeof tempDir>;
  const log = rootLogger.child({ component: 'test' });
  log.level = 'silent';
  const spools: Spool[] = [];
  beforeEach(() => (dir = tempDir()));
  afterEach(async () => {
    await Promise.all(spools.splice(0).map((s) => s.close()));
    dir.remove();
  });

  type TestChannel = Notifier & { name: string; settings?: Partial<ChannelBaseConfig> };

  /** The channel the bridge would build around the test's notifier, with its shared settings. */
  function configured(c: TestChannel, now: number): ConfiguredChannel {
    const base: ChannelBaseConfig = {
      name: c.name,
      type: 'test',
      send_resolved: true,
      templates: {},
      matchers: [],
      rate_limit: { per_second: 0, burst: 1 },
      ...c.settings,
    };
    return new ConfiguredChannel(base, c, now);
  }

  async function start(channels: TestChannel[], options = OPTIONS, now?: () => number, enrichWith = enrich) {
    const { spool, contents } = await Spool.open(dir.path);
    spools.push(spool);
    const metrics = new BridgeMetrics();
    // The real enricher (evidence sharing, the no-graph fallback, graph error counting) gathering with `enrichWith`.
    const enricher = new Enricher(
      gatherInProcess({
        url: 'http://127.0.0.1:9',
        queryRange: () => Promise.reject(new Error('not queried in these tests')),
        query: () => Promise.reject(new Error('not queried in these tests')),
      }),
      new GraphStore(path.join(dir.path, 'graphs'), 60_000),
      GRAPH_SETTINGS,
      { onGraphError: () => metrics.graphErrors.inc() },
    );
    jest.spyOn(enricher, 'enrich').mockImplementation(enrichWith);
    const dispatcher = new Dispatcher(
      spool,
      new Map(channels.map((c) => [c.name, configured(c, (now ?? Date.now)())])),
      enricher,
      options,
      metrics,
      log,
      now,
    );
    dispatcher.load(contents);
    return { dispatcher, metrics, spool };
  }

  /**
   * Waits until every delivery accepted so far has its outcome recorded: in the spool's files, the
   * history and the metrics (the queue depth drops last). A delivery's state changes in memory
   * before its file is written, and its file before the history, so neither is the signal.
   */
  async function drained(metrics: BridgeMetrics): Promise<void> {
    await waitFor(async () => (await metrics.queueDepth.get()).values[0]?.value === 0, {
      what: 'an empty delivery queue',
    });
  }

  /** The delivery of the notification for `alertname`. */
  function deliveryOf(dispatcher: Dispatcher, alertname: string) {
    const entry = dispatcher.recent().find((e) => e.notification.alerts[0].labels.alertname === alertname);
    return entry?.deliveries[0];
  }

  it('retries a failing delivery with backoff until it succeeds, then records it as done', async () => {
    const mail = new ScriptedChannel('mail', [
      new DeliveryError('SMTP ECONNREFUSED'),
      new DeliveryError('SMTP 421 busy'),
    ]);
    const { dispatcher, metrics } = await start([mail]);
    const result = await dispatcher.accept('default', notification(), ['mail']);
    expect(result.status).toBe('accepted');
    await waitFor(() => mail.sent.length === 1);
    expect(mail.attempts).toBe(3);
    await waitFor(() => dispatcher.recent()[0].deliveries[0].state === 'delivered');
    const delivery = dispatcher.recent()[0].deliveries[0];
    expect(delivery).toMatchObject({ attempts: 3, detail: '250 ok' });
    expect(await metrics.registry.getSingleMetricAsString('vigil_bridge_deliveries_total')).toContain(
      'vigil_bridge_deliveries_total{channel="mail",outcome="retry"} 2',
    );
    await dispatcher.stop();
  });

  it('delivers each channel independently: one failing does not hold back or repeat the other', async () => {
    const ok = new ScriptedChannel('ok');
    const flaky = new ScriptedChannel('flaky', [new DeliveryError('down'), new DeliveryError('down')]);
    const { dispatcher } = await start([ok, flaky]);
    await dispatcher.accept('default', notification(), ['ok', 'flaky']);
    await waitFor(() => flaky.sent.length === 1);
    expect(ok.sent).toHaveLength(1);
    expect(ok.attempts).toBe(1);
    await dispatcher.stop();
  });

  it('dead-letters permanent failures at once', async () => {
    const mail = new ScriptedChannel('mail', [new DeliveryError('SMTP 550 no such user', true)]);
    const { dispatcher, metrics } = await start([mail]);
    await dispatcher.accept('default', notification(), ['mail']);
    await drained(metrics);
    expect(dispatcher.recent()[0].deliveries[0].state).toBe('dead');
    expect(mail.attempts).toBe(1);
    expect(dispatcher.recent()[0].deliveries[0].lastError).toBe('SMTP 550 no such user');
    expect(await metrics.registry.getSingleMetricAsString('vigil_bridge_dead_letters')).toContain(
      'vigil_bridge_dead_letters 1',
    );
    await dispatcher.stop();
  });

  it('counts every dead letter, also those older than the history kept in memory, and after a restart', async () => {
    const mail = new ScriptedChannel('mail', [
      new DeliveryError('SMTP 550 no such user', true),
      new DeliveryError('SMTP 550 no such user', true),
    ]);
    const options = { ...OPTIONS, history: 1 };
    const { dispatcher, metrics } = await start([mail], options);
    for (const instance of ['a', 'b']) {
      await dispatcher.accept('default', notification({ instances: [instance] }), ['mail']);
    }
    await drained(metrics);
    expect(fs.readdirSync(path.join(dir.path, 'dead'))).toHaveLength(2);
    expect(dispatcher.recent()).toHaveLength(1);
    expect(dispatcher.deadLetters()).toBe(2);
    await dispatcher.stop();
    const restarted = await start([mail], options);
    expect(restarted.dispatcher.deadLetters()).toBe(2);
    expect(await restarted.metrics.registry.getSingleMetricAsString('vigil_bridge_dead_letters')).toMatch(
      /^vigil_bridge_dead_letters 2$/m,
    );
    await restarted.dispatcher.stop();
  });

  it('dead-letters deliveries still failing at max age', async () => {
    let clock = 1_000_000;
    const failures = Array.from({ length: 100 }, () => new DeliveryError('down'));
    const mail = new ScriptedChannel('mail', failures);
    const options = { ...OPTIONS, retry: { ...OPTIONS.retry, maxAgeMs: 5_000 } };
    const { dispatcher } = await start([mail], options, () => clock);
    await dispatcher.accept('default', notification(), ['mail']);
    await waitFor(() => mail.attempts >= 1);
    clock += 6_000;
    await waitFor(() => dispatcher.recent()[0]?.deliveries[0].state === 'dead');
    expect(dispatcher.recent()[0].deliveries[0].lastError).toBe('down');
    await dispatcher.stop();
  });

  it('delivers the same notification once, however often it arrives; a new state is new', async () => {
    const mail = new ScriptedChannel('mail');
    const { dispatcher, metrics } = await start([mail]);
    const results = await Promise.all(
      [1, 2, 3].map(() => dispatcher.accept('default', notification(), ['mail'])),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['accepted', 'duplicate', 'duplicate']);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    await dispatcher.accept('default', notification({ status: 'resolved' }), ['mail']);
    await waitFor(() => mail.sent.length === 2);
    expect(mail.sent.map((m) => m.notification.notification.status)).toEqual(['firing', 'resolved']);
    expect(
      await metrics.registry.getSingleMetricAsString('vigil_bridge_notifications_duplicate_total'),
    ).toContain(' 2');
    await dispatcher.stop();
  });

  it('answers a duplicate only once the original is stored, and fails it too when that write fails', async () => {
    const mail = new ScriptedChannel('mail');
    const { dispatcher, spool } = await start([mail]);
    let failWrite: (err: Error) => void = () => undefined;
    jest
      .spyOn(spool, 'add')
      .mockImplementationOnce(() => new Promise<void>((_resolve, reject) => (failWrite = reject)));
    const original = dispatcher.accept('default', notification(), ['mail']);
    const duplicate = dispatcher.accept('default', notification(), ['mail']);
    const settled: string[] = [];
    void duplicate.then(
      () => settled.push('duplicate answered'),
      () => settled.push('duplicate failed'),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual([]); // still waiting for the original's write
    failWrite(new Error('ENOSPC: no space left on device'));
    await expect(original).rejects.toThrow('ENOSPC');
    await expect(duplicate).rejects.toThrow('ENOSPC');
    // The key is free again: Alertmanager's retry is stored and delivered.
    expect((await dispatcher.accept('default', notification(), ['mail'])).status).toBe('accepted');
    await waitFor(() => mail.sent.length === 1);
    await dispatcher.stop();
  });

  it('sends without graphs when enrichment fails, and counts each alert as a graph error', async () => {
    const mail = new ScriptedChannel('mail');
    const broken = () => Promise.reject(new Error('render crashed'));
    const { dispatcher, metrics } = await start([mail], OPTIONS, undefined, broken);
    await dispatcher.accept('default', notification({ instances: ['web-1', 'web-2'] }), ['mail']);
    await waitFor(() => mail.sent.length === 1);
    expect(mail.sent[0].notification.alerts.map((a) => a.graphError)).toEqual([
      'graph unavailable: render crashed',
      'graph unavailable: render crashed',
    ]);
    expect(await metrics.registry.getSingleMetricAsString('vigil_bridge_graph_errors_total')).toMatch(
      /^vigil_bridge_graph_errors_total 2$/m,
    );
    await dispatcher.stop();
  });

  it('gathers evidence once for the channels in flight together and again for a retry, keeping none between', async () => {
    const ok = new ScriptedChannel('ok');
    const flaky = new ScriptedChannel('flaky', [new DeliveryError('SMTP 421 busy')]);
    let enrichments = 0;
    const counting = (n: Notification) => {
      enrichments++;
      return enrich(n);
    };
    const { dispatcher } = await start([ok, flaky], OPTIONS, undefined, counting);
    await dispatcher.accept('default', notification(), ['ok', 'flaky']);
    await waitFor(() => flaky.sent.length === 1);
    expect(ok.sent).toHaveLength(1);
    // One for the first round of both channels, one for the retry: nothing was held while waiting.
    expect(enrichments).toBe(2);
    await dispatcher.stop();
  });

  it('aborts the attempts in flight on stop, keeping their deliveries pending in the spool', async () => {
    let sending = false;
    // A peer that never answers: only the abort ends the attempt.
    const hanging: TestChannel = {
      name: 'mail',
      send: (_message, signal) => {
        sending = true;
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      },
      close: async () => undefined,
    };
    const { dispatcher } = await start([hanging]);
    await dispatcher.accept('default', notification(), ['mail']);
    await waitFor(() => sending);
    await dispatcher.stop(60_000);
    expect(dispatcher.recent()[0].deliveries[0]).toMatchObject({
      state: 'pending',
      attempts: 1,
      lastError: 'the bridge is shutting down',
    });
    expect((await spooledIds(dir.path)).pending).toHaveLength(1);
  });

  it('resumes spooled deliveries after a restart, and never repeats delivered ones', async () => {
    const first = new ScriptedChannel('mail', [new DeliveryError('down')]);
    const slow = { ...OPTIONS, retry: { ...OPTIONS.retry, initialBackoffMs: 60_000, maxBackoffMs: 60_000 } };
    const a = await start([first], slow);
    const { id } = await a.dispatcher.accept('default', notification(), ['mail']);
    await waitFor(() => a.dispatcher.recent()[0].deliveries[0].lastError === 'down');
    await a.dispatcher.stop();

    // Restarted two minutes later: the retry is due.
    const second = new ScriptedChannel('mail');
    const b = await start([second], slow, () => Date.now() + 120_000);
    await waitFor(() => second.sent.length === 1);
    expect(second.sent[0].id).toBe(id);
    await b.dispatcher.stop();

    const third = new ScriptedChannel('mail');
    const c = await start([third]);
    expect((await c.dispatcher.accept('default', notification(), ['mail'])).status).toBe('duplicate');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(third.attempts).toBe(0);
    expect(c.dispatcher.recent()[0].deliveries[0]).toMatchObject({ state: 'delivered', attempts: 2 });
    await c.dispatcher.stop();
  });

  it('forgets delivered notifications after the dedup window, keeping the newest for the status page', async () => {
    let clock = 5_000_000;
    const mail = new ScriptedChannel('mail');
    const options = { ...OPTIONS, dedupWindowMs: 10_000, history: 1 };
    const { dispatcher, metrics } = await start([mail], options, () => clock);
    for (const instance of ['a', 'b', 'c']) {
      await dispatcher.accept('default', notification({ instances: [instance] }), ['mail']);
    }
    await drained(metrics);
    await dispatcher.prune();
    expect((await spooledIds(dir.path)).finished).toHaveLength(3); // still within the window
    clock += 10_000;
    await dispatcher.prune();
    expect((await spooledIds(dir.path)).finished).toHaveLength(1);
    expect(dispatcher.recent()).toHaveLength(1);
    expect((await dispatcher.accept('default', notification({ instances: ['a'] }), ['mail'])).status).toBe(
      'accepted',
    );
    await dispatcher.stop();
  });

  it('retries a state write that failed after a delivery, keeping the entry visible, and counts it', async () => {
    const mail = new ScriptedChannel('mail');
    const { dispatcher, metrics, spool } = await start([mail]);
    // The final state cannot be written once (as on a failing disk).
    jest.spyOn(spool, 'finish').mockRejectedValueOnce(new Error('EIO: i/o error, write'));
    const { id } = await dispatcher.accept('default', notification(), ['mail']);
    await waitFor(() => mail.sent.length === 1);
    const errors = async () =>
      (await metrics.spoolWriteErrors.get()).values.reduce((sum, v) => sum + v.value, 0);
    await waitFor(async () => (await errors()) >= 1);
    expect(dispatcher.recent().map((e) => [e.id, e.deliveries[0].state])).toEqual([[id, 'delivered']]);
    expect(await spooledIds(dir.path)).toEqual({ pending: [id], finished: [] });

    await waitFor(async () => (await spooledIds(dir.path)).pending.length === 0, { timeoutMs: 10_000 });
    expect(await spooledIds(dir.path)).toEqual({ pending: [], finished: [id] });
    expect(dispatcher.recent().map((e) => e.id)).toEqual([id]);
    expect(mail.sent).toHaveLength(1);
    await dispatcher.stop();
  });

  it('leaves no temporary file behind when a dead letter cannot be written', async () => {
    const { spool } = await start([]);
    const entry = {
      id: '0000000001000-abcdef012345-000000',
      dedupKey: 'abcdef012345',
      receivedAt: 1000,
      route: 'default',
      notification: notification(),
      deliveries: [{ channel: 'mail', state: 'dead' as const, attempts: 1, nextAttemptAt: 1000 }],
    };
    jest.spyOn(fs.promises, 'rename').mockRejectedValueOnce(new Error('ENOSPC: no space left on device'));
    await expect(spool.finish(entry)).rejects.toThrow('ENOSPC');
    expect(fs.readdirSync(path.join(dir.path, 'dead'))).toEqual([]);
  });

  it('delivers to a channel only the alerts its matchers select, and nothing when none match', async () => {
    const sms = Object.assign(new ScriptedChannel('sms'), {
      settings: { matchers: [parseMatcher('severity="critical"')] },
    });
    const mail = new ScriptedChannel('mail');
    const { dispatcher } = await start([sms, mail]);
    const n = notification({ instances: ['web-1', 'web-2'] });
    n.alerts[1].labels.severity = 'warning';
    await dispatcher.accept('default', n, ['sms', 'mail']);
    await waitFor(() => sms.sent.length === 1 && mail.sent.length === 1);
    expect(sms.sent[0].notification.notification.alerts.map((a) => a.labels.instance)).toEqual(['web-1']);
    expect(sms.sent[0].notification.alerts).toHaveLength(1);
    expect(mail.sent[0].notification.notification.alerts).toHaveLength(2);
    // Only warnings: no delivery to sms at all, not even a pending one.
    const warnings = notification({ alertname: 'DiskSlow', labels: { severity: 'warning' } });
    await dispatcher.accept('default', warnings, ['sms', 'mail']);
    await waitFor(() => mail.sent.length === 2);
    expect(dispatcher.recent()[0].deliveries.map((d) => d.channel)).toEqual(['mail']);
    expect(sms.attempts).toBe(1);
  });

  it('sends resolved notifications only to channels with send_resolved', async () => {
    const quiet = Object.assign(new ScriptedChannel('quiet'), { settings: { send_resolved: false } });
    const loud = new ScriptedChannel('loud');
    const { dispatcher } = await start([quiet, loud]);
    await dispatcher.accept('default', notification({ status: 'resolved' }), ['quiet', 'loud']);
    await waitFor(() => loud.sent.length === 1);
    expect(dispatcher.recent()[0].deliveries.map((d) => d.channel)).toEqual(['loud']);
    expect(quiet.attempts).toBe(0);
  });

  it("queues past a channel's rate limit instead of dropping, each in its slot, in order", async () => {
    const t0 = 1_000_000;
    let clock = t0;
    const sent: string[] = [];
    const limited: TestChannel = {
      name: 'slow',
      settings: { rate_limit: { per_second: 5, burst: 1 } },
      async send(message) {
        sent.push(message.notification.notification.alerts[0].labels.alertname);
        return { detail: 'ok' };
      },
    };
    const { dispatcher, metrics } = await start([limited], OPTIONS, () => clock);
    for (const alertname of ['A', 'B', 'C', 'D'])
      await dispatcher.accept('default', notification({ alertname }), ['slow']);
    await waitFor(() => sent.length === 1);
    // 5 a second on the dispatcher's clock: the others wait for slots 200 ms apart.
    expect(['B', 'C', 'D'].map((name) => deliveryOf(dispatcher, name)!.nextAttemptAt - t0)).toEqual([
      200, 400, 600,
    ]);
    for (const [slot, name] of [
      [200, 'B'],
      [400, 'C'],
      [600, 'D'],
    ] as const) {
      expect(sent).not.toContain(name); // not before its slot
      clock = t0 + slot;
      await waitFor(() => sent.includes(name));
    }
    expect(sent).toEqual(['A', 'B', 'C', 'D']);
    await drained(metrics);
    expect(dispatcher.recent().every((e) => e.deliveries[0].state === 'delivered')).toBe(true);
    await dispatcher.stop();
  });

  it("holds every delivery of a channel after its peer's 429 until Retry-After has passed", async () => {
    const t0 = 1_000_000;
    let clock = t0;
    const sent: string[] = [];
    let refused = false;
    const peer: TestChannel = {
      name: 'chat',
      async send(message) {
        if (!refused) {
          refused = true;
          throw new DeliveryError('HTTP 429', false, 600);
        }
        sent.push(message.notification.notification.alerts[0].labels.alertname);
        return { detail: 'ok' };
      },
    };
    const { dispatcher } = await start([peer], OPTIONS, () => clock);
    await dispatcher.accept('default', notification({ alertname: 'A' }), ['chat']);
    await waitFor(() => deliveryOf(dispatcher, 'A')?.lastError === 'HTTP 429');
    await dispatcher.accept('default', notification({ alertname: 'B' }), ['chat']);
    // The retry and the delivery that came after the 429 both wait for its end.
    expect(['A', 'B'].map((name) => deliveryOf(dispatcher, name)!.nextAttemptAt - t0)).toEqual([600, 600]);
    expect(sent).toEqual([]);
    clock = t0 + 600;
    await waitFor(() => sent.length === 2);
    expect([...sent].sort()).toEqual(['A', 'B']);
    await dispatcher.stop();
  });
  describe('deliveries of one alert group to one channel keep their order', () => {
    /** A peer that refuses (retryably) while `down`, and records what it took, in order. */
    class Peer implements Notifier {
      readonly taken: string[] = [];
      calls = 0;
      down = true;
      /** While set, each call waits for it: an attempt held in flight. */
      private gate: Promise<void> | undefined;
      constructor(readonly name: string) {}
      /** Holds the attempts that start from now on in flight until the returned function is called. */
      hold(): () => void {
        let open!: () => void;
        this.gate = new Promise((resolve) => (open = resolve));
        return () => {
          this.gate = undefined;
          open();
        };
      }
      async send(message: OutgoingMessage) {
        this.calls++;
        await this.gate;
        if (this.down) throw new DeliveryError('connection refused');
        this.taken.push(`${message.notification.notification.status} ${message.id}`);
        return { detail: 'ok' };
      }
      async close() {}
    }

    /** A FIRING whose attempt `peer` holds in flight, and its RESOLVED accepted meanwhile. */
    async function resolvedDuringFiring(peer: Peer) {
      const release = peer.hold();
      const { dispatcher, metrics } = await start([peer]);
      const firing = await dispatcher.accept('default', notification({ status: 'firing' }), [peer.name]);
      await waitFor(() => peer.calls === 1);
      const resolved = await dispatcher.accept('default', notification({ status: 'resolved' }), [peer.name]);
      return { dispatcher, metrics, firing, resolved, release };
    }

    it('a FIRING still being retried is superseded by its RESOLVED, never delivered after it', async () => {
      const zabbix = new Peer('zabbix');
      const { dispatcher, metrics } = await start([zabbix]);
      const firing = await dispatcher.accept('default', notification({ status: 'firing' }), ['zabbix']);
      await waitFor(() => zabbix.calls >= 1);
      const resolved = await dispatcher.accept('default', notification({ status: 'resolved' }), ['zabbix']);
      await waitFor(
        () => dispatcher.recent().find((e) => e.id === firing.id)?.deliveries[0].state === 'superseded',
      );
      zabbix.down = false;
      await drained(metrics);
      expect(zabbix.taken).toEqual([`resolved ${resolved.id}`]);
      const old = dispatcher.recent().find((e) => e.id === firing.id)?.deliveries[0];
      expect(old).toMatchObject({ state: 'superseded', detail: `superseded by ${resolved.id}` });
      expect(await metrics.registry.getSingleMetricAsString('vigil_bridge_deliveries_total')).toContain(
        'vigil_bridge_deliveries_total{channel="zabbix",outcome="superseded"} 1',
      );
      // Finished, not dead: kept in the spool until pruned, and counts as no dead letter.
      expect((await spooledIds(dir.path)).finished).toContain(firing.id);
      expect(dispatcher.deadLetters()).toBe(0);
      await dispatcher.stop();
    });

    it('a newer notification waits while the older one is in flight, and goes after it', async () => {
      const zabbix = new Peer('zabbix');
      zabbix.down = false;
      const { dispatcher, metrics, firing, resolved, release } = await resolvedDuringFiring(zabbix);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(zabbix.calls).toBe(1);
      release();
      await drained(metrics);
      expect(zabbix.taken).toEqual([`firing ${firing.id}`, `resolved ${resolved.id}`]);
      await dispatcher.stop();
    });

    it('an in-flight attempt that fails gives way to the newer one instead of retrying', async () => {
      const zabbix = new Peer('zabbix');
      const { dispatcher, metrics, firing, resolved, release } = await resolvedDuringFiring(zabbix);
      release(); // the FIRING's attempt fails: the peer is down
      await waitFor(
        () => dispatcher.recent().find((e) => e.id === firing.id)?.deliveries[0].state === 'superseded',
      );
      zabbix.down = false;
      await drained(metrics);
      expect(zabbix.taken).toEqual([`resolved ${resolved.id}`]);
      expect(dispatcher.recent().find((e) => e.id === firing.id)?.deliveries[0]).toMatchObject({
        attempts: 1,
        lastError: 'connection refused',
      });
      await dispatcher.stop();
    });

    it('other groups and other channels of the same group are not held back', async () => {
      const zabbix = new Peer('zabbix');
      const mail = new Peer('mail');
      mail.down = false;
      const { dispatcher, metrics } = await start([zabbix, mail]);
      await dispatcher.accept('default', notification({ alertname: 'A' }), ['zabbix', 'mail']);
      await waitFor(() => zabbix.calls >= 1);
      await dispatcher.accept('default', notification({ alertname: 'A', status: 'resolved' }), ['mail']);
      await dispatcher.accept('default', notification({ alertname: 'B' }), ['zabbix']);
      await waitFor(() => mail.taken.length === 2);
      expect(mail.taken.map((t) => t.split(' ')[0])).toEqual(['firing', 'resolved']);
      zabbix.down = false;
      await drained(metrics);
      // The zabbix delivery of A has no newer one for zabbix: it is retried and delivered, as is B's.
      expect(zabbix.taken).toHaveLength(2);
      await dispatcher.stop();
    });

    it('a permanent failure is still dead-lettered when a newer notification exists', async () => {
      const mail = new ScriptedChannel('mail', [new DeliveryError('SMTP 550 no such user', true)]);
      const { dispatcher, metrics } = await start([mail]);
      await dispatcher.accept('default', notification({ status: 'firing' }), ['mail']);
      await dispatcher.accept('default', notification({ status: 'resolved' }), ['mail']);
      await drained(metrics);
      expect(dispatcher.deadLetters()).toBe(1);
      expect(mail.sent.map((m) => m.notification.notification.status)).toEqual(['resolved']);
      await dispatcher.stop();
    });

    it('after a restart, the older of two pending notifications of a group is superseded', async () => {
      const zabbix = new Peer('zabbix');
      const first = await start([zabbix]);
      await first.dispatcher.stop(); // nothing is attempted from here on: both stay pending
      const firing = await first.dispatcher.accept('default', notification({ status: 'firing' }), ['zabbix']);
      const resolved = await first.dispatcher.accept('default', notification({ status: 'resolved' }), [
        'zabbix',
      ]);
      const restartedPeer = new Peer('zabbix');
      restartedPeer.down = false;
      const restarted = await start([restartedPeer]);
      await drained(restarted.metrics);
      expect(restartedPeer.taken).toEqual([`resolved ${resolved.id}`]);
      await waitFor(async () => (await spooledIds(dir.path)).finished.includes(firing.id));
      await restarted.dispatcher.stop();
    });
  });
});
