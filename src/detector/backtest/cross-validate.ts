import type { RuleSettings } from '../../config/detector';
import { PROFILES, scoreCorpus, type ScoredFile } from './nab-score';
import { LIVE_THRESHOLD, runFile, type CorpusFile } from './run';

/**
 * Leave-one-category-out cross-validation: for each category, the settings are chosen among the
 * candidates by their standard NAB score on the *other* categories, then scored on the held-out
 * one. Both at the live threshold, so nothing about the held-out files is chosen with them. A
 * setting that scores well in-sample but loses here fits the corpus, not the problem.
 */

export interface Candidate {
  name: string;
  settings: RuleSettings;
}

export interface FoldResult {
  category: string;
  /** The candidate the other categories chose. */
  chosen: string;
  /** Standard NAB score of the held-out category with the chosen settings. */
  heldOut: number;
  /** The same category scored with the given defaults (chosen with every category in sight). */
  inSample: number;
}

export interface CrossValidation {
  folds: FoldResult[];
  /** The held-out files of every fold, each scored with its fold's choice, as one corpus. */
  heldOut: number;
  /** The defaults over the whole corpus at the live threshold. */
  inSample: number;
}

/** Scale factors applied around the defaults: each detector's threshold (the shift detector's with the seasonal one's). */
export function candidatesAround(defaults: RuleSettings): Candidate[] {
  const candidates: Candidate[] = [];
  for (const deviation of [0.5, 1, 2]) {
    for (const range of [0.5, 1, 2]) {
      for (const novelty of [1, 1.5]) {
        candidates.push({
          name: `zscore/seasonal/shift ×${deviation}, range ×${range}, novelty ×${novelty}`,
          settings: {
            ...defaults,
            zscore: { ...defaults.zscore, threshold: defaults.zscore.threshold * deviation },
            seasonal: { ...defaults.seasonal, threshold: defaults.seasonal.threshold * deviation },
            shift: { ...defaults.shift, threshold: defaults.shift.threshold * deviation },
            range: { ...defaults.range, threshold: defaults.range.threshold * range },
            novelty: { ...defaults.novelty, threshold: defaults.novelty.threshold * novelty },
          },
        });
      }
    }
  }
  return candidates;
}

const standardAtLive = (files: ScoredFile[]) =>
  scoreCorpus(files, PROFILES.standard, LIVE_THRESHOLD).normalized;

export function crossValidate(
  corpus: CorpusFile[],
  defaults: RuleSettings,
  candidates: Candidate[],
): CrossValidation {
  const runs = candidates.map((candidate) => corpus.map((file) => runFile(file, candidate.settings).scored));
  const defaultRuns = corpus.map((file) => runFile(file, defaults).scored);
  const categories = [...new Set(corpus.map((file) => file.category))].sort();
  const heldOutFiles: ScoredFile[] = [];
  const folds = categories.map((category) => {
    const inFold = corpus.map((file) => file.category === category);
    let best = 0;
    let bestScore = -Infinity;
    runs.forEach((scored, c) => {
      const score = standardAtLive(scored.filter((_, i) => !inFold[i]));
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    });
    const heldOut = runs[best].filter((_, i) => inFold[i]);
    heldOutFiles.push(...heldOut);
    return {
      category,
      chosen: candidates[best].name,
      heldOut: standardAtLive(heldOut),
      inSample: standardAtLive(defaultRuns.filter((_, i) => inFold[i])),
    };
  });
  return { folds, heldOut: standardAtLive(heldOutFiles), inSample: standardAtLive(defaultRuns) };
}
