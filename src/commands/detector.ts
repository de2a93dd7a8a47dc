import type { Command } from 'commander';
import { UserError } from '../common/errors';
import { shardSchema } from '../config/detector';
import {
  prepare,
  reportConfigOk,
  runUntilSignal,
  withCommonOptions,
  withConfigFile,
  type CommonOptions,
} from './common';

interface DetectorFlags extends CommonOptions {
  shard?: string;
}

export function registerDetector(program: Command): void {
  const command = withCommonOptions(
    program
      .command('detector')
      .description(
        'compute anomaly scores from Prometheus range queries and serve them on /metrics (default :9111)',
      ),
  );
  command.option(
    '--shard <i/N>',
    'handle only series whose label hash modulo N is i, or with detector.shard_label, those whose label is i (overrides detector.shard)',
  );
  command.action(async (flags: DetectorFlags) => {
    const detector = prepare(flags).detector;
    if (flags.listen) detector.listen = flags.listen;
    if (flags.shard) detector.shard = shardFlag(flags.shard);
    if (flags.checkConfig) {
      reportConfigOk(flags);
      return;
    }
    const { startDetector } = await import('../detector/detector');
    runUntilSignal([await withConfigFile(flags, () => startDetector(detector))]);
  });
}

/** `--shard`, checked by the same schema as `detector.shard`. */
function shardFlag(text: string) {
  const parsed = shardSchema.safeParse(text);
  if (!parsed.success)
    throw new UserError(`--shard: ${parsed.error.issues[0].message}, got ${JSON.stringify(text)}`);
  return parsed.data;
}
