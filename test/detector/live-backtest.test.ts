import { Registry } from 'prom-client';
import { rootLogger } from '../../src/common/logger';
import type { MatrixSeries } from '../../src/common/matrix-parser';
import { parseConfig } from '../../src/config/load';
import { runFile, type CorpusFile } from '../../src/detector/backtest/run';
import { DetectorEngine, engineMetrics, type RangeSource } from '../../src/detector/engine';
import { runEveryRule, visitSeries } from '../helpers/detector';
import { DAY, HOUR, MINUTE, START, dailyLoad, noise } from './series';

const STEP = 5 * MINUTE;

/** Ten days of a daily load with a 3 am burst on day 6, a level jump on day 8 and an outage (0) on day 9. */
function series(): { timestamps: number[]; values: number[] } {
  const rand = noise(7);
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let t = START; t < START + 10 * DAY; t += STEP) {
    let value = dailyLoad(t, rand);
    if (t >= START + 6 * DAY + 3 * HOUR && t < START + 6 * DAY + 4 * HOUR) value += 35;
    if (t >= START + 8 * DAY + 12 * HOUR && t < START + 8 * DAY + 14 * HOUR) value += 30;
    if (t >= START + 9 * DAY + 15 * HOUR && t < START + 9 * DAY + 16 * HOUR) value = 0;
    timestamps.push(t);
    values.push(value);
  }
  return { timestamps, values };
}

/** Prometheus as the engine sees it: the same series, every step asked for that exists. */
class RecordedSource implements RangeSource {
  constructor(private readonly data: { timestamps: number[]; values: number[] }) {}
  async queryRangeEach(
    _expr: string,
    start: number,
    end: number,
    _step: number,
    visit: (series: MatrixSeries) => void,
  ) {
    const rows = this.data.timestamps.flatMap((t, i) => (t >= start && t <= end ? [i] : []));
    return visitSeries(
      [
        {
          labels: { __name__: 'load', instance: 'host:9100' },
          timestamps: rows.map((i) => this.data.timestamps[i]),
          values: rows.map((i) => this.data.values[i]),
        },
      ],
      visit,
    );
  }
}

describe('the live engine and vigil backtest', () => {
  test('raise the same alerts at the same points on the same series', async () => {
    const data = series();
    const defaults = { step: '5m', combine: 'last', range: { min_history: '1d' } };
    const config = parseConfig({
      detector: { lag: '0s', overlap: '10m', defaults, rules: [{ name: 'load', query: 'load' }] },
    }).detector;
    const clock = { now: data.timestamps[0] };
    const logger = rootLogger.child({ component: 'test' });
    logger.level = 'silent';
    const engine = new DetectorEngine({
      config,
      source: new RecordedSource(data),
      metrics: engineMetrics(new Registry()),
      logger,
      now: () => clock.now,
    });
    // One cycle per step, as a detector running through those ten days would.
    const live: boolean[] = [];
    for (const t of data.timestamps) {
      clock.now = t;
      await runEveryRule(engine);
      const [rule] = engine.rules;
      const [slot] = rule.series.values();
      const latest = slot === undefined ? undefined : rule.verdicts.verdict(slot);
      live.push(latest?.timeMs === t ? latest.anomalous : false);
    }
    const file: CorpusFile = { name: 'host/load.csv', category: 'host', series: data, windows: [] };
    const backtest = runFile(file, engine.rules[0].rule);
    const raises = (states: boolean[]) =>
      states.flatMap((on, i) => (on && !states[i - 1] ? [data.timestamps[i]] : []));
    expect(raises(live)).toEqual(raises(backtest.live.anomalous));
    // The three injected incidents are among them, each once.
    const incidents = [6 * DAY + 3 * HOUR, 8 * DAY + 12 * HOUR, 9 * DAY + 15 * HOUR].map((o) => START + o);
    for (const start of incidents) {
      expect(raises(live).filter((t) => t >= start && t < start + 2 * HOUR)).toHaveLength(1);
    }
  });
});
