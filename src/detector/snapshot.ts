import fs from 'node:fs';
import { z } from 'zod';
import { errorMessage } from '../common/errors';
import { writeFileAtomic } from '../common/files';
import { describeIssue } from '../common/issues';
import type { Logger } from '../common/logger';
import { SeriesModel } from './algorithms/model';
import type { RuleState } from './engine';

/**
 * The on-disk snapshot of the per-series state (`detector.state_file`), so that a restart
 * resumes from where the last run stopped instead of refetching weeks of history. A rule's
 * state is restored only if the rule (query and every setting) is unchanged.
 */
const snapshotSchema = z.object({
  version: z.literal(1),
  saved_at: z.number(),
  rules: z.array(
    z.object({
      name: z.string(),
      fingerprint: z.string(),
      fetched_until: z.number(),
      /**
       * [key, label text, last seen (ms), model state, latest verdict (both base64)]; the verdict
       * (VerdictTable's floats) lets a restarted detector serve its outputs at once rather than
       * after the next step (an alert's `for:` would start over).
       */
      series: z.array(z.tuple([z.string(), z.string(), z.number(), z.string(), z.string()])),
    }),
  ),
});
type SnapshotFile = z.infer<typeof snapshotSchema>;

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
          Buffer.from(state.verdicts.save(entry.slot)).toString('base64'),
        ]),
      })),
  };
  await writeFileAtomic(file, JSON.stringify(snapshot));
}

/**
 * Restores what the snapshot holds for unchanged rules. A missing file is a first start; a file
 * that is not a snapshot, or one from the future (the clock was ahead when it was saved), is one
 * warning and the rules backfill as on a first start.
 */
export function loadSnapshot(
  file: string,
  rules: readonly RuleState[],
  logger: Logger,
  now = Date.now(),
): void {
  const snapshot = readSnapshot(file, logger);
  if (snapshot === undefined) return;
  if (snapshot.saved_at > now) {
    logger.warn(
      { file, saved_at: new Date(snapshot.saved_at).toISOString() },
      'ignoring state snapshot saved in the future (the clock was ahead): history is fetched again',
    );
    return;
  }
  for (const saved of snapshot.rules) {
    const state = rules.find((r) => r.rule.name === saved.name);
    if (!state || saved.fingerprint !== fingerprint(state)) {
      logger.info({ rule: saved.name }, 'rule changed since the snapshot: its history is fetched again');
      continue;
    }
    restoreRule(state, saved, now, logger);
  }
}

function readSnapshot(file: string, logger: Logger): SnapshotFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn({ file, err: errorMessage(err) }, 'ignoring unreadable state snapshot');
    }
    return undefined;
  }
  let parsed;
  try {
    parsed = snapshotSchema.safeParse(JSON.parse(text), { reportInput: true });
  } catch (err) {
    logger.warn({ file, err: errorMessage(err) }, 'ignoring unreadable state snapshot');
    return undefined;
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    logger.warn(
      { file, err: describeIssue(issue) },
      'ignoring a state snapshot that is not a vigil detector snapshot',
    );
    return undefined;
  }
  return parsed.data;
}

/** One rule's series; a series seen "after now" cannot come from this clock, so the rule starts over. */
function restoreRule(
  state: RuleState,
  saved: SnapshotFile['rules'][number],
  now: number,
  logger: Logger,
): void {
  try {
    if (saved.fetched_until > now) throw new Error('fetched_until lies in the future');
    for (const [key, labelText, seenAt, encoded, latest] of saved.series) {
      if (seenAt > now) throw new Error('a series was seen in the future');
      const model = new SeriesModel(state.settings);
      model.restore(new Uint8Array(Buffer.from(encoded, 'base64')));
      const slot = state.verdicts.allocate();
      state.verdicts.restore(slot, new Uint8Array(Buffer.from(latest, 'base64')));
      state.series.set(key, { labelText, model, slot, seenAt });
    }
    state.fetchedUntil = saved.fetched_until;
    logger.info({ rule: saved.name, series: state.series.size }, 'state restored from snapshot');
  } catch (err) {
    state.clear();
    logger.warn(
      { rule: saved.name, err: errorMessage(err) },
      'snapshot of rule unusable: its history is fetched again',
    );
  }
}
