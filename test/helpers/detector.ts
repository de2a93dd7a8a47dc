import type { MatrixSeries } from '../../src/common/matrix-parser';
import type { RangeSeries } from '../../src/common/prometheus-client';
import type { DetectorEngine } from '../../src/detector/engine';

/** One cycle of every rule, concurrently, as the detector's timers run them. */
export async function runEveryRule(engine: DetectorEngine): Promise<void> {
  await Promise.all(engine.rules.map((rule) => engine.runRule(rule)));
}

/**
 * Hands series to a RangeSource visitor as PrometheusClient does: the `metric` object as
 * Prometheus writes it (labels sorted) and typed arrays. Returns the count, as queryRangeEach does.
 */
export function visitSeries(series: RangeSeries[], visit: (series: MatrixSeries) => void): number {
  for (const { labels, timestamps, values } of series) {
    const sorted = Object.fromEntries(
      Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    visit({
      metricText: JSON.stringify(sorted),
      timestamps: Float64Array.from(timestamps),
      values: Float64Array.from(values),
    });
  }
  return series.length;
}
