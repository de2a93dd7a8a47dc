import { Decision, type DecisionOptions } from './decision';
import type { Direction, Estimate } from './estimate';
import { SeasonalBaseline, type SeasonalOptions } from './seasonal';
import { PatternNovelty, type NoveltyOptions } from './novelty';
import { RangeWindow, type RangeOptions } from './range';
import { ShiftDetector, type ShiftOptions } from './shift';
import { bytesOf, concatBytes, float64s, StateArrays, StateBlocks } from './state-bytes';
import { rollingZScore, type RollingZScore, type ZScoreOptions } from './zscore';

/** Everything one series' model needs, in milliseconds; built from a rule's config. */
export interface ModelSettings {
  stepMs: number;
  direction: Direction;
  combine: DecisionOptions['combine'];
  forPoints: number;
  clearPoints: number;
  refractoryMs: number;
  floor: number;
  relativeFloor: number;
  zscore: Omit<ZScoreOptions, 'maxPoints' | 'floor' | 'relativeFloor'> & { enabled: boolean };
  seasonal: Omit<SeasonalOptions, 'floor' | 'relativeFloor'> & { enabled: boolean };
  range: Omit<RangeOptions, 'floor' | 'relativeFloor'> & { enabled: boolean };
  novelty: NoveltyOptions & { enabled: boolean; threshold: number };
  shift: Omit<ShiftOptions, 'direction'> & { enabled: boolean };
}

/** The detectors with a band (exported per series with the `detector` label), in output order. */
export const BANDED_DETECTORS = ['zscore', 'seasonal', 'range'] as const;
export type DetectorName = (typeof BANDED_DETECTORS)[number];
/** Every detector, as named in a verdict's `detector` (the snapshot stores the index). */
export const FIRING_DETECTORS = [...BANDED_DETECTORS, 'novelty', 'shift'] as const;
export type FiringDetector = (typeof FIRING_DETECTORS)[number];

export interface Verdict {
  timeMs: number;
  value: number;
  zscore: Estimate | undefined;
  seasonal: Estimate | undefined;
  range: Estimate | undefined;
  /** Share of recent patterns not seen before, in [0, 1]; undefined while off or warming up. */
  novelty: number | undefined;
  /** Combined strength: 1 = at the threshold; NaN while no detector has an opinion. */
  strength: number;
  /** The detector whose opinion is the combined strength. */
  detector: FiringDetector | undefined;
  /** Debounced decision. */
  anomalous: boolean;
  /** Onset score in [0, 1) (see Decision): what `vigil backtest` scores. */
  onset: number;
}

interface DetectorOptions {
  zscore: ZScoreOptions;
  seasonal: SeasonalOptions;
  range: RangeOptions;
  shift: ShiftOptions;
}

const optionsCache = new WeakMap<ModelSettings, DetectorOptions>();
/** Where the models of these settings keep their typed arrays, once the first one measured them. */
const modelBlocks = new WeakMap<ModelSettings, StateBlocks>();

/** The detectors' options, built once per settings object and shared by all its series. */
function detectorOptions(settings: ModelSettings): DetectorOptions {
  let options = optionsCache.get(settings);
  if (!options) {
    const { floor, relativeFloor } = settings;
    // Slack for jittery timestamps: the time window is the real bound.
    const maxPoints = Math.ceil(settings.zscore.windowMs / settings.stepMs) + 2;
    options = {
      zscore: { ...settings.zscore, maxPoints, floor, relativeFloor },
      seasonal: { ...settings.seasonal, floor, relativeFloor },
      range: { ...settings.range, floor, relativeFloor },
      shift: { ...settings.shift, direction: settings.direction },
    };
    optionsCache.set(settings, options);
  }
  return options;
}

/** The parts of a model that save and restore their state, in the order they are saved. */
interface Stateful {
  save(): Uint8Array;
  restore(bytes: Uint8Array): void;
}

/**
 * The per-series model: the z-score, seasonal, range, novelty and shift detectors feeding one
 * decision. The z-score and seasonal opinions are combined as the rule's `combine` says; the range,
 * novelty and shift detectors join as "any" (each is a test of its own: beyond the seen range, a
 * pattern not seen, a sustained departure from the daily shape). The live engine and
 * `vigil backtest` both drive series through this class, point by point.
 */
export class SeriesModel {
  private readonly zscore: RollingZScore | undefined;
  private readonly seasonal: SeasonalBaseline | undefined;
  private readonly range: RangeWindow | undefined;
  private readonly novelty: PatternNovelty | undefined;
  private readonly shift: ShiftDetector | undefined;
  private readonly decision: Decision;
  private lastTimeMs = -Infinity;
  /** The model's block of its settings' StateBlocks (-1: arrays of its own). */
  private readonly block: number = -1;

  constructor(private readonly settings: ModelSettings) {
    const options = detectorOptions(settings);
    // The first model of these settings measures what its arrays take; the next ones get one block.
    const blocks = modelBlocks.get(settings);
    let arrays = new StateArrays();
    if (blocks) ({ arrays, block: this.block } = blocks.take());
    if (settings.zscore.enabled) this.zscore = rollingZScore(options.zscore, arrays);
    if (settings.seasonal.enabled) this.seasonal = new SeasonalBaseline(options.seasonal, arrays);
    // Novelty reads its levels off the seen range, so it keeps a range window even alone.
    if (settings.range.enabled || settings.novelty.enabled)
      this.range = new RangeWindow(options.range, arrays);
    if (settings.novelty.enabled) this.novelty = new PatternNovelty(settings.novelty, arrays);
    // The shift detector sums the seasonal scores: it runs with the seasonal detector.
    if (settings.shift.enabled && this.seasonal) this.shift = new ShiftDetector(options.shift);
    this.decision = new Decision(settings, arrays);
    if (!blocks) modelBlocks.set(settings, new StateBlocks(arrays.bytes));
  }

  /**
   * Gives the model's memory back for the next model of the same settings: the engine calls it
   * when it forgets a series. The model must not be used after.
   */
  release(): void {
    if (this.block >= 0) modelBlocks.get(this.settings)?.release(this.block);
  }

  /** The newest timestamp seen; points at or before it are ignored (overlapping fetches). */
  get lastTime(): number {
    return this.lastTimeMs;
  }

  private get parts(): Array<Stateful | undefined> {
    return [this.decision, this.zscore, this.seasonal, this.range, this.novelty, this.shift];
  }

  /** The whole state as bytes (for the snapshot file); `restore` needs the same settings. */
  save(): Uint8Array {
    const parts = this.parts.map((part) => part?.save() ?? new Uint8Array(0));
    const header = Float64Array.of(this.lastTimeMs, ...parts.map((p) => p.byteLength));
    return concatBytes([bytesOf(header), ...parts]);
  }

  restore(bytes: Uint8Array): void {
    const parts = this.parts;
    const header = float64s(bytes, 0, 1 + parts.length);
    const sizes = Array.from(header.subarray(1));
    if (header.byteLength + sizes.reduce((a, b) => a + b, 0) !== bytes.byteLength)
      throw new RangeError('saved state does not match');
    if (sizes.some((size, i) => size > 0 !== !!parts[i]))
      throw new RangeError('saved state is of other settings');
    let offset = header.byteLength;
    sizes.forEach((size, i) => {
      parts[i]?.restore(bytes.subarray(offset, offset + size));
      offset += size;
    });
    this.lastTimeMs = header[0];
  }

  /** Feeds one point; undefined for gaps (NaN, ±Inf) and already-seen timestamps. */
  update(timeMs: number, value: number): Verdict | undefined {
    if (timeMs <= this.lastTimeMs) return undefined;
    this.lastTimeMs = timeMs;
    if (!Number.isFinite(value)) return undefined;
    const { settings } = this;
    const zscore = this.zscore?.update(timeMs, value);
    const seasonal = this.seasonal?.update(timeMs, value);
    const [low, high] = this.range?.boundsAt(timeMs) ?? [NaN, NaN];
    const range = this.range?.update(timeMs, value);
    // Novelty speaks once the range does (the same warm-up), on the levels of the range before this point.
    const noveltyScore = this.novelty?.update(value, low, high);
    const novelty =
      range && noveltyScore !== undefined && !Number.isNaN(noveltyScore) ? noveltyScore : undefined;
    let strength = this.decision.combinedStrength([
      { estimate: zscore, threshold: settings.zscore.threshold },
      { estimate: seasonal, threshold: settings.seasonal.threshold },
    ]);
    let detector: FiringDetector | undefined = Number.isNaN(strength)
      ? undefined
      : settings.combine === 'last' && seasonal
        ? 'seasonal'
        : strongerOf(zscore, seasonal, settings);
    const others: Array<[FiringDetector, number]> = [];
    if (range && settings.range.enabled)
      others.push([
        'range',
        this.decision.combinedStrength([{ estimate: range, threshold: settings.range.threshold }]),
      ]);
    if (novelty !== undefined) others.push(['novelty', novelty / settings.novelty.threshold]);
    // The shift detector speaks once the seasonal baseline does.
    if (this.shift && seasonal) others.push(['shift', this.shift.update(seasonal.score)]);
    for (const [name, s] of others) {
      if (Number.isNaN(strength) || s > strength) {
        strength = s;
        detector = name;
      }
    }
    const { anomalous, onset } = this.decision.update(timeMs, strength);
    return {
      timeMs,
      value,
      zscore,
      seasonal,
      range: settings.range.enabled ? range : undefined,
      novelty,
      strength,
      detector,
      anomalous,
      onset,
    };
  }
}

/** Which of the z-score and seasonal opinions is the stronger (the one a person is shown). */
function strongerOf(
  zscore: Estimate | undefined,
  seasonal: Estimate | undefined,
  settings: ModelSettings,
): DetectorName | undefined {
  if (!zscore) return seasonal ? 'seasonal' : undefined;
  if (!seasonal) return 'zscore';
  return Math.abs(seasonal.score) / settings.seasonal.threshold >
    Math.abs(zscore.score) / settings.zscore.threshold
    ? 'seasonal'
    : 'zscore';
}
