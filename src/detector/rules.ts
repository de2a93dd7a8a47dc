import type { RuleOverrides, RuleSettings } from '../config/detector';
import type { ModelSettings } from './algorithms/model';

/**
 * Rules as the detector runs them: the configuration's rule (only what the user set) completed from
 * `detector.defaults`, and its settings in the algorithms' terms (milliseconds, camelCase).
 */

export interface ResolvedRule extends RuleSettings {
  name: string;
  query: string;
}

/** A rule with every unset key taken from `detector.defaults`. */
export function resolveRule(rule: RuleOverrides, defaults: RuleSettings): ResolvedRule {
  const { zscore, seasonal, range, novelty, shift, ...flat } = rule;
  const defined = <T extends object>(o: T | undefined) =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    ...defaults,
    ...defined(flat),
    zscore: { ...defaults.zscore, ...defined(zscore) },
    seasonal: { ...defaults.seasonal, ...defined(seasonal) },
    range: { ...defaults.range, ...defined(range) },
    novelty: { ...defaults.novelty, ...defined(novelty) },
    shift: { ...defaults.shift, ...defined(shift) },
    name: rule.name,
    query: rule.query,
  };
}

/** The algorithms' settings (milliseconds) from a rule's. */
export function modelSettings(settings: RuleSettings): ModelSettings {
  const { zscore, seasonal, range, novelty, shift } = settings;
  return {
    stepMs: settings.step,
    direction: settings.direction,
    combine: settings.combine,
    forPoints: settings.for_points,
    clearPoints: settings.clear_points,
    refractoryMs: settings.refractory,
    floor: settings.floor,
    relativeFloor: settings.relative_floor,
    zscore: {
      enabled: zscore.enabled,
      windowMs: zscore.window,
      robust: zscore.robust,
      buckets: zscore.buckets,
      threshold: zscore.threshold,
      minPoints: zscore.min_points,
    },
    seasonal: {
      enabled: seasonal.enabled,
      periodMs: seasonal.period,
      seasons: seasonal.seasons,
      resolutionMs: seasonal.resolution,
      minSeasons: seasonal.min_seasons,
      threshold: seasonal.threshold,
      levelHalfLifeMs: seasonal.level_half_life,
    },
    range: {
      enabled: range.enabled,
      windowMs: range.window,
      buckets: range.buckets,
      threshold: range.threshold,
      minHistoryMs: range.min_history,
    },
    novelty: {
      enabled: novelty.enabled,
      levels: novelty.levels,
      order: novelty.order,
      bits: novelty.bits,
      rotatePoints: novelty.rotate_points,
      threshold: novelty.threshold,
    },
    shift: {
      enabled: shift.enabled,
      allowance: shift.allowance,
      cap: shift.cap,
      threshold: shift.threshold,
    },
  };
}

/** How much history a rule's model needs at start. */
export function historyNeeded(settings: RuleSettings): number {
  const zscore = settings.zscore.enabled ? settings.zscore.window : 0;
  const seasonal = settings.seasonal.enabled ? settings.seasonal.period * settings.seasonal.seasons : 0;
  const range = settings.range.enabled || settings.novelty.enabled ? settings.range.window : 0;
  return Math.max(zscore, seasonal, range, settings.step);
}
