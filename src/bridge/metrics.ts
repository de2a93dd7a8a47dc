import { Counter, Gauge, Histogram } from 'prom-client';
import { selfMetricsRegistry } from '../common/self-metrics';
import type { CircuitState } from './circuit-breaker';

const CIRCUIT_STATES: CircuitState[] = ['closed', 'open', 'half_open'];

/** Fine below the 20 ms an acknowledgement should take, coarse above. */
const ACK_BUCKETS = [
  0.0005, 0.001, 0.002, 0.0035, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5,
  1, 2.5,
];

/** The bridge's self-metrics on /metrics. */
export class BridgeMetrics {
  readonly registry = selfMetricsRegistry();

  readonly received = new Counter({
    name: 'vigil_bridge_notifications_received_total',
    help: 'Notifications accepted into the spool, by route.',
    labelNames: ['route'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'vigil_bridge_notifications_rejected_total',
    help: 'Webhook requests refused, by reason (bad_payload, too_large, unauthorized, unknown_route, spool_error, aborted: the sender closed the connection before the body arrived).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'vigil_bridge_notifications_duplicate_total',
    help: 'Notifications acknowledged but not delivered again: the same group and alert states arrived within the dedup window.',
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'vigil_bridge_deliveries_total',
    help: 'Delivery attempts by channel and outcome (delivered, retry, dead), and pending deliveries superseded by a newer notification of their alert group.',
    labelNames: ['channel', 'outcome'],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'vigil_bridge_queue_depth',
    help: 'Deliveries waiting (pending or being retried).',
    registers: [this.registry],
  });
  /** Set by the dispatcher: when the oldest notification with a pending delivery arrived. */
  oldestPendingSince: () => number | undefined = () => undefined;
  readonly oldestPendingAge: Gauge = new Gauge({
    name: 'vigil_bridge_oldest_pending_age_seconds',
    help: 'Age of the oldest notification with a delivery still pending (0 when none).',
    registers: [this.registry],
    collect: () => {
      const since = this.oldestPendingSince();
      this.oldestPendingAge.set(since === undefined ? 0 : Math.max(0, (Date.now() - since) / 1000));
    },
  });
  readonly deadLetters = new Gauge({
    name: 'vigil_bridge_dead_letters',
    help: 'Notifications in the dead-letter directory (a delivery given up).',
    registers: [this.registry],
  });
  readonly ackDuration = new Histogram({
    name: 'vigil_bridge_webhook_duration_seconds',
    help: 'Time from webhook request to acknowledgement (includes the fsync to the spool).',
    buckets: ACK_BUCKETS,
    registers: [this.registry],
  });
  readonly spoolCommitDuration = new Histogram({
    name: 'vigil_bridge_spool_commit_duration_seconds',
    help: 'Time each new notification waited to be durable in the spool: the group commit in flight, then its own (one write to the log). Its acknowledgement waits for this.',
    buckets: ACK_BUCKETS,
    registers: [this.registry],
  });
  readonly renderDuration = new Histogram({
    name: 'vigil_bridge_render_duration_seconds',
    help: 'Time to render one graph to PNG.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly deliveryDuration = new Histogram({
    name: 'vigil_bridge_delivery_duration_seconds',
    help: 'Time of one delivery attempt (gathering its graphs included), by channel.',
    labelNames: ['channel'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly graphErrors = new Counter({
    name: 'vigil_bridge_graph_errors_total',
    help: 'Alerts left without a graph by a delivery attempt: the query failed, Prometheus was unreachable or the graph could not be rendered.',
    registers: [this.registry],
  });
  readonly graphsSkipped = new Counter({
    name: 'vigil_bridge_graphs_skipped_total',
    help: 'Alerts sent without a graph at once because the circuit to Prometheus was open (no query sent); also counted in vigil_bridge_graph_errors_total.',
    registers: [this.registry],
  });
  readonly graphCircuit = new Gauge({
    name: 'vigil_bridge_graph_circuit_state',
    help: 'State of the circuit breaker of graph queries to Prometheus: 1 for the current state (closed, open: no queries sent, half_open: one probe in flight).',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly spoolWriteErrors = new Counter({
    name: 'vigil_bridge_spool_write_errors_total',
    help: 'Failed writes of delivery state to the spool (e.g. disk full); each is retried until it passes.',
    registers: [this.registry],
  });
  readonly queriesRefused = new Counter({
    name: 'vigil_bridge_queries_refused_total',
    help: 'Queries for a graph not sent or not answered, by reason: too_long (over bridge.graph.max_query_bytes, never sent), timeout, too_expensive (refused by Prometheus).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  /** One series per state, 1 for the current one (as node_systemd_unit_state spells states). */
  setGraphCircuit(current: CircuitState): void {
    for (const state of CIRCUIT_STATES) this.graphCircuit.set({ state }, state === current ? 1 : 0);
  }
  readonly watchdogLastSeen = new Gauge({
    name: 'vigil_bridge_watchdog_last_seen_timestamp_seconds',
    help: "When the Watchdog alert last arrived (dead man's switch).",
    registers: [this.registry],
  });
  readonly watchdogMissing = new Gauge({
    name: 'vigil_bridge_watchdog_missing',
    help: '1 while the Watchdog alert is overdue (the alerting pipeline is broken).',
    registers: [this.registry],
  });
}
