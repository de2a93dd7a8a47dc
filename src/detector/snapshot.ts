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
function snapshotOf<Version extends number, Series extends z.ZodType>(version: Version, series: Series) {
  return z.object({
    version: z.literal(version),
    saved_at: z.number(),
    rules: z.array(
      z.object({
        name: z.string(),
        fingerprint: z.string(),
        fetched_until: z.number(),
        series: z.array(series),
      }),
    ),
  });
}

/**
 * A series: [label text, last seen (ms), model state, latest verdict (both base64)]; the verdict
 * (VerdictTable's floats) lets a restarted detector serve its outputs at once rather than after
 * the next step (an alert's `for:` would start over).
 */
const currentSnapshot = snapshotOf(2, z.tuple([z.string(), z.number(), z.string(), z.string()]));
type SnapshotFile = z.infer<typeof currentSnapshot>;

/** Version 1 led each series with a key of its own, before the engine keyed series by their label text. */
const firstSnapshot = snapshotOf(
  1,
  z.tuple([z.string(), z.string(), z.number(), z.string(), z.string()]),
).transform((v1): SnapshotFile => ({
  ...v1,
  version: 2,
  rules: v1.rules.map((rule) => ({
    ...rule,
    series: rule.series.map(([, labelText, seenAt, model, verdict]) => [labelText, seenAt, model, verdict]),
  })),
}));

const fingerprint = (state: RuleState) => JSON.stringify(state.rule);

/** Writes atomically: a crash mid-write leaves the old snapshot. */
export async function saveSnapshot(
  file: string,
  rules: readonly RuleState[],
  now = Date.now(),
): Promise<void> {
  const snapshot: SnapshotFile = {
    version: 2,
    saved_at: now,
    rules: rules
      .filter((state) => state.fetchedUntil !== undefined)
      .map((state) => ({
        name: state.rule.name,
        fingerprint: fingerprint(state),
        fetched_until: state.fetchedUntil!,
        series: [...state.series].map(([labelText, slot]) => [
          labelText,
          state.seenAt[slot],
          Buffer.from(state.models[slot]!.save()).toString('base64'),
          Buffer.from(state.verdicts.save(slot)).toString('base64'),
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
    const json: unknown = JSON.parse(text);
    const schema = (json as { version?: unknown } | null)?.version === 1 ? firstSnapshot : currentSnapshot;
    parsed = schema.safeParse(json, { reportInput: true });
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
    for (const [labelText, seenAt, encoded, latest] of saved.series) {
      if (seenAt > now) throw new Error('a series was seen in the future');
      const model = new SeriesModel(state.settings);
      model.restore(new Uint8Array(Buffer.from(encoded, 'base64')));
      const slot = state.add(labelText, model, seenAt);
      state.verdicts.restore(slot, new Uint8Array(Buffer.from(latest, 'base64')));
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
