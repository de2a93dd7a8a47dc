import fs from 'node:fs';
import { errorMessage } from '../common/errors';
import { writeFileAtomic } from '../common/files';
import type { Logger } from '../common/logger';
import type { Estimate } from './algorithms/estimate';
import { SeriesModel, type Verdict } from './algorithms/model';
import { bytesOf, float64s } from './algorithms/state-bytes';
import type { RuleState } from './engine';

/**
 * The on-disk snapshot of the per-series state (`detector.state_file`), so that a restart
 * resumes from where the last run stopped instead of refetching weeks of history. A rule's
 * state is restored only if the rule (query and every setting) is unchanged.
 */
interface SnapshotFile {
  version: 1;
  saved_at: number;
  rules: Array<{
    name: string;
    fingerprint: string;
    fetched_until: number;
    /** [key, label text, last seen (ms), model state, latest verdict (both base64)] */
    series: Array<[string, string, number, string, string]>;
  }>;
}

const fingerprint = (state: RuleState) => JSON.stringify(state.rule);

/** Writes atomically: a crash mid-write leaves the old snapshot. */
export async function saveSnapshot(
  file: string,
  rules: readonly RuleState[],
  now = Date.now(),
): Promise<void> {
  const snapshot: SnapshotFile = {
    version: 1,
    saved_at: now,
    rules: rules
      .filter((state) => state.fetchedUntil !== undefined)
      .map((state) => ({
        name: state.rule.name,
        fingerprint: fingerprint(state),
        fetched_until: state.fetchedUntil!,
        series: [...state.series].map(([key, entry]) => [
          key,
          entry.labelText,
          entry.seenAt,
          Buffer.from(entry.model.save()).toString('base64'),
          Buffer.from(encodeVerdict(entry.latest)).toString('base64'),
        ]),
      })),
  };
  await writeFileAtomic(file, JSON.stringify(snapshot));
}

/**
 * Restores what the snapshot holds for unchanged rules. A missing file is a first start; an
 * unreadable one is logged and ignored (the rules then backfill as on a first start).
 */
export function loadSnapshot(file: string, rules: readonly RuleState[], logger: Logger): void {
  let snapshot: SnapshotFile;
  try {
    snapshot = JSON.parse(fs.readFileSync(file, 'utf8')) as SnapshotFile;
    if (snapshot.version !== 1 || !Array.isArray(snapshot.rules))
      throw new Error('not a vigil detector snapshot');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn({ file, err: errorMessage(err) }, 'ignoring unreadable state snapshot');
    }
    return;
  }
  for (const saved of snapshot.rules) {
    const state = rules.find((r) => r.rule.name === saved.name);
    if (!state || saved.fingerprint !== fingerprint(state)) {
      logger.info({ rule: saved.name }, 'rule changed since the snapshot: its history is fetched again');
      continue;
    }
    try {
      for (const [key, labelText, seenAt, encoded, latest] of saved.series) {
        const model = new SeriesModel(state.settings);
        model.restore(new Uint8Array(Buffer.from(encoded, 'base64')));
        const verdict = decodeVerdict(new Uint8Array(Buffer.from(latest, 'base64')));
        state.series.set(key, { labelText, model, latest: verdict, seenAt });
      }
      state.fetchedUntil = saved.fetched_until;
      logger.info({ rule: saved.name, series: state.series.size }, 'state restored from snapshot');
    } catch (err) {
      state.series.clear();
      logger.warn(
        { rule: saved.name, err: errorMessage(err) },
        'snapshot of rule unusable: its history is fetched again',
      );
    }
  }
}

/**
 * The latest verdict, kept so that a restarted detector serves its outputs at once rather than
 * after the next step (an alert's `for:` would start over). Packed as floats: NaN and ±Inf survive.
 */
function encodeVerdict(verdict: Verdict | undefined): Uint8Array {
  if (!verdict) return new Uint8Array(0);
  const estimate = (e: Estimate | undefined) =>
    e ? [1, e.score, e.expected, e.lower, e.upper] : [0, 0, 0, 0, 0];
  return bytesOf(
    Float64Array.of(
      verdict.timeMs,
      verdict.value,
      verdict.strength,
      verdict.anomalous ? 1 : 0,
      ...estimate(verdict.zscore),
      ...estimate(verdict.seasonal),
    ),
  );
}

function decodeVerdict(bytes: Uint8Array): Verdict | undefined {
  if (bytes.byteLength === 0) return undefined;
  const f = float64s(bytes, 0, 14);
  const estimate = (at: number): Estimate | undefined =>
    f[at] === 1 ? { score: f[at + 1], expected: f[at + 2], lower: f[at + 3], upper: f[at + 4] } : undefined;
  return {
    timeMs: f[0],
    value: f[1],
    strength: f[2],
    anomalous: f[3] === 1,
    zscore: estimate(4),
    seasonal: estimate(9),
  };
}
