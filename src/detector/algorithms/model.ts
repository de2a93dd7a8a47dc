import { Decision, type DecisionOptions } from './decision';
import type { Direction, Estimate } from './estimate';
import { SeasonalBaseline, type SeasonalOptions } from './seasonal';
import { bytesOf, concatBytes, float64s } from './state-bytes';
import { rollingZScore, type RollingZScore, type ZScoreOptions } from './zscore';

/** Everything one series' model needs, in milliseconds; built from a rule's config. */
export interface ModelSettings {
  stepMs: number;
  direction: Direction;
  combine: DecisionOptions['combine'];
  forPoints: number;
  clearPoints: number;
  floor: number;
  relativeFloor: number;
  zscore: Omit<ZScoreOptions, 'maxPoints' | 'floor' | 'relativeFloor'> & { enabled: boolean };
  seasonal: Omit<SeasonalOptions, 'floor' | 'relativeFloor'> & { enabled: boolean };
}

export type DetectorName = 'zscore' | 'seasonal';

export interface Verdict {
  timeMs: number;
  value: number;
  zscore: Estimate | undefined;
  seasonal: Estimate | undefined;
  /** Combined strength: 1 = at the threshold; NaN while no detector has an opinion. */
  strength: number;
  /** Debounced decision. */
  anomalous: boolean;
}

const optionsCache = new WeakMap<ModelSettings, { zscore: ZScoreOptions; seasonal: SeasonalOptions }>();

/** The detectors' options, built once per settings object and shared by all its series. */
function detectorOptions(settings: ModelSettings): { zscore: ZScoreOptions; seasonal: SeasonalOptions } {
  let options = optionsCache.get(settings);
  if (!options) {
    const { floor, relativeFloor } = settings;
    // Slack for jittery timestamps: the time window is the real bound.
    const maxPoints = Math.ceil(settings.zscore.windowMs / settings.stepMs) + 2;
    options = {
      zscore: { ...settings.zscore, maxPoints, floor, relativeFloor },
      seasonal: { ...settings.seasonal, floor, relativeFloor },
    };
    optionsCache.set(settings, options);
  }
  return options;
}

/**
 * The per-series model: z-score and seasonal detectors feeding one decision. The live engine
 * and `vigil backtest` both drive series through this class, point by point.
 */
export class SeriesModel {
  private readonly zscore: RollingZScore | undefined;
  private readonly seasonal: SeasonalBaseline | undefined;
  private readonly decision: Decision;
  private lastTimeMs = -Infinity;

  constructor(private readonly settings: ModelSettings) {
    const options = detectorOptions(settings);
    if (settings.zscore.enabled) this.zscore = rollingZScore(options.zscore);
    if (settings.seasonal.enabled) this.seasonal = new SeasonalBaseline(options.seasonal);
    this.decision = new Decision(settings);
  }

  /** The newest timestamp seen; points at or before it are ignored (overlapping fetches). */
  get lastTime(): number {
    return this.lastTimeMs;
  }

  /** The whole state as bytes (for the snapshot file); `restore` needs the same settings. */
  save(): Uint8Array {
    const zscore = this.zscore?.save() ?? new Uint8Array(0);
    const seasonal = this.seasonal?.save() ?? new Uint8Array(0);
    const header = Float64Array.of(
      this.lastTimeMs,
      ...this.decision.save(),
      zscore.byteLength,
      seasonal.byteLength,
    );
    return concatBytes([bytesOf(header), zscore, seasonal]);
  }

  restore(bytes: Uint8Array): void {
    const [lastTimeMs, anomalousRun, normalRun, state, zscoreBytes, seasonalBytes] = float64s(bytes, 0, 6);
    if (48 + zscoreBytes + seasonalBytes !== bytes.byteLength)
      throw new RangeError('saved state does not match');
    if (zscoreBytes > 0 !== !!this.zscore || seasonalBytes > 0 !== !!this.seasonal) {
      throw new RangeError('saved state is of other settings');
    }
    this.zscore?.restore(bytes.subarray(48, 48 + zscoreBytes));
    this.seasonal?.restore(bytes.subarray(48 + zscoreBytes));
    this.decision.restore([anomalousRun, normalRun, state]);
    this.lastTimeMs = lastTimeMs;
  }

  /** Feeds one point; undefined for gaps (NaN, ±Inf) and already-seen timestamps. */
  update(timeMs: number, value: number): Verdict | undefined {
    if (timeMs <= this.lastTimeMs) return undefined;
    this.lastTimeMs = timeMs;
    if (!Number.isFinite(value)) return undefined;
    const zscore = this.zscore?.update(timeMs, value);
    const seasonal = this.seasonal?.update(timeMs, value);
    const strength = this.decision.combinedStrength([
      { estimate: zscore, threshold: this.settings.zscore.threshold },
      { estimate: seasonal, threshold: this.settings.seasonal.threshold },
    ]);
    const anomalous = this.decision.update(strength);
    return { timeMs, value, zscore, seasonal, strength, anomalous };
  }
}
