import { writeGraph } from './graphs';
import { DEFAULT_MAX_SERIES, pickSeries, type ChartSeries, type ChartSpec } from './render/chart';
import { seriesToCsv } from './render/csv';
import { drawChart } from './render/png';

/**
 * What an evidence worker does for each graph once it has the data (evidence.ts): the PNG drawn
 * and written where the graph store keeps it, and the plotted data as CSV beside it. Only what the
 * evidence holds goes back to the event loop that acknowledges webhooks.
 */

export interface RenderTask {
  chart: ChartSpec;
  /** Where the PNG goes: GraphStore.fileFor() of the graph's id. */
  file: string;
  /** Where the CSV goes: GraphStore.csvFileFor() of the graph's id. */
  csvFile: string;
  /** Series the CSV holds after the ones drawn: an anomaly's expected, lower and upper. */
  bandSeries: ChartSeries[];
}

export interface RenderedGraph {
  /** Size of the PNG written. */
  bytes: number;
  /**
   * Size of the CSV written: what the graph shows, the series drawn (at most the chart's
   * maxSeries), then the band.
   */
  csvBytes: number;
  /**
   * The last point of the CSV's first series, when a number: the alert's value for messages when
   * it has no `value` annotation.
   */
  lastValue?: number;
  /** Drawing, rasterising and compressing the chart took this long (not writing it). */
  seconds: number;
}

export async function renderGraph({ chart, file, csvFile, bandSeries }: RenderTask): Promise<RenderedGraph> {
  const { png, seconds } = drawChart(chart);
  const series = [...pickSeries(chart.series, chart.maxSeries ?? DEFAULT_MAX_SERIES), ...bandSeries];
  const csv = Buffer.from(seriesToCsv(series));
  // Written before any channel links or attaches them; a retry writes the same files again.
  await Promise.all([writeGraph(file, png), writeGraph(csvFile, csv)]);
  const last = series[0]?.values.at(-1);
  return {
    bytes: png.length,
    csvBytes: csv.length,
    lastValue: last !== undefined && Number.isFinite(last) ? last : undefined,
    seconds,
  };
}
