import fs from 'node:fs';
import { errorMessage } from '../common/errors';
import type { Logger } from '../common/logger';
import { SeriesModel } from './algorithms/model';
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
    /** [key, label text, last seen (ms), model state (base64)] */
    series: Array<[string, string, number, string]>;
  }>;
}

const fingerprint = (state: RuleState) => JSON.stringify(state.rule);

/** Writes atomically (temporary file, then rename): a crash mid-write leaves the old snapshot. */
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
        ]),
      })),
  };
  const temporary = `${file}.tmp`;
  await fs.promises.writeFile(temporary, JSON.stringify(snapshot));
  await fs.promises.rename(temporary, file);
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
      for (const [key, labelText, seenAt, encoded] of saved.series) {
        const model = new SeriesModel(state.settings);
        model.restore(new Uint8Array(Buffer.from(encoded, 'base64')));
        state.series.set(key, { labelText, model, latest: undefined, seenAt });
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
