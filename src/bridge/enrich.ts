import { randomBytes } from 'node:crypto';
import { errorMessage } from '../common/errors';
import { CircuitBreaker, type CircuitState } from './circuit-breaker';
import {
  listedCount,
  replayEvents,
  type AlertEvidence,
  type Allowance,
  type EnrichedNotification,
  type EvidenceGathering,
  type GatherHooks,
  type GraphFiles,
  type GraphSettings,
} from './evidence';
import type { GraphStore } from './graphs';
import type { Notification } from './payload';

/**
 * The event loop's side of the evidence: one gathering per notification with deliveries in flight
 * (evidence.ts; in the evidence workers in the bridge), the circuit breaker of the graph queries,
 * which hears each query's outcome from the gathering, and the metrics' counts it reports.
 */

/** What the dispatcher needs of the enricher: evidence shared by the deliveries in flight. */
export type EvidenceSource = Pick<Enricher, 'acquire' | 'release'>;

export interface EnrichHooks extends GatherHooks {
  /** The circuit breaker of the graph queries changed state. */
  onCircuitChange?(state: CircuitState): void;
}

export class Enricher {
  private readonly breaker: CircuitBreaker;
  /**
   * Evidence of spool entries with a delivery in flight, shared by their channels; dropped when the
   * last one ends, so entries waiting for a retry hold no PNGs or CSVs (a long outage must not grow memory).
   */
  private readonly inFlight = new Map<string, { evidence: Promise<EnrichedNotification>; users: number }>();

  constructor(
    private readonly gathering: EvidenceGathering,
    private readonly graphs: GraphStore,
    private readonly settings: GraphSettings,
    private readonly hooks: EnrichHooks = {},
  ) {
    this.breaker = new CircuitBreaker(settings.circuitBreaker, Date.now, (state) =>
      hooks.onCircuitChange?.(state),
    );
  }

  /**
   * Evidence for a delivery of spool entry `id`: gathered once for the deliveries of a notification in
   * flight together, and again for a retry (Prometheus may answer by then). Never rejects: if gathering
   * fails as a whole (a worker died), every alert goes without a graph and says why. Each call is
   * paired with a release().
   */
  acquire(id: string, notification: Notification): Promise<EnrichedNotification> {
    const shared = this.inFlight.get(id);
    if (shared !== undefined) {
      shared.users++;
      return shared.evidence;
    }
    const evidence = this.enrich(notification, Date.now(), id).catch((err: unknown) =>
      this.withoutGraphs(notification, err),
    );
    this.inFlight.set(id, { evidence, users: 1 });
    return evidence;
  }

  release(id: string): void {
    const shared = this.inFlight.get(id);
    if (shared !== undefined && --shared.users === 0) this.inFlight.delete(id);
  }

  /**
   * `entryId` is the spool entry the graphs belong to: their ids derive from it, so every retry of the
   * notification serves its graphs under the same links (a fresh one when not given).
   */
  async enrich(
    notification: Notification,
    now = Date.now(),
    entryId = randomBytes(12).toString('hex'),
  ): Promise<EnrichedNotification> {
    const alerts = notification.alerts.slice(0, this.settings.maxListedAlerts);
    const graphFiles = alerts.slice(0, this.settings.maxGraphs).map((_, i) => this.graphFiles(entryId, i));
    const allowance = this.allowance();
    let asked = false;
    try {
      const gathered = await this.gathering.gather({
        alerts,
        now,
        graphFiles,
        settings: this.settings,
        allowance,
        skipReason: allowance === 'all' ? '' : this.breaker.describe(),
      });
      asked = gathered.outcomes.length > 0;
      for (const outage of gathered.outcomes) {
        if (outage === undefined) this.breaker.succeeded();
        else this.breaker.failed(outage);
      }
      replayEvents(gathered.events, this.hooks);
      return {
        notification,
        alerts: gathered.alerts.map((evidence, i) => ({ alert: alerts[i], ...evidence })),
        omittedAlerts: notification.alerts.length - gathered.alerts.length,
      };
    } finally {
      // A probe that asked nothing (no alert with a query) or never came back: the next notification probes.
      if (allowance === 'probe' && !asked) this.breaker.abandon();
    }
  }

  /** Every query (circuit closed), one probe (the cool-down has passed), or none (open). */
  private allowance(): Allowance {
    if (!this.breaker.tryAcquire()) return 'none';
    return this.breaker.state === 'half_open' ? 'probe' : 'all';
  }

  private graphFiles(entryId: string, index: number): GraphFiles {
    const id = this.graphs.idFor(entryId, index);
    return { id, file: this.graphs.fileFor(id), csvFile: this.graphs.csvFileFor(id) };
  }

  /** Every alert a message lists without its graph, saying why; each counted as a graph error. */
  private withoutGraphs(notification: Notification, err: unknown): EnrichedNotification {
    const alerts = notification.alerts
      .slice(0, this.settings.maxListedAlerts)
      .map((alert): AlertEvidence => ({
        alert,
        unit: 'short',
        graphError: `graph unavailable: ${errorMessage(err)}`,
      }));
    for (let i = 0; i < alerts.length; i++) this.hooks.onGraphError?.();
    const listed = alerts.slice(0, listedCount(alerts, this.settings.maxMessageBytes));
    return { notification, alerts: listed, omittedAlerts: notification.alerts.length - listed.length };
  }
}
