import type { Command } from 'commander';
import { startBridge } from '../bridge/bridge';
import { prepare, reportConfigOk, runUntilSignal, withCommonOptions, type CommonOptions } from './common';

export function registerBridge(program: Command): void {
  withCommonOptions(
    program
      .command('bridge')
      .description(
        'receive Alertmanager webhooks and deliver notifications with graphs and data (default :9112)',
      ),
  ).action(async (flags: CommonOptions) => {
    const config = prepare(flags).bridge;
    if (flags.listen !== undefined) config.listen = flags.listen;
    if (flags.checkConfig) {
      reportConfigOk(flags);
      return;
    }
    runUntilSignal([await startBridge(config)]);
  });
}
