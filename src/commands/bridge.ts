import type { Command } from 'commander';
import {
  checkChannels,
  prepare,
  reportConfigOk,
  runUntilSignal,
  widenThreadPoolForSpool,
  withCommonOptions,
  type CommonOptions,
} from './common';

export function registerBridge(program: Command): void {
  withCommonOptions(
    program
      .command('bridge')
      .description(
        'receive Alertmanager webhooks and deliver notifications with graphs and data (default :9112)',
      ),
  ).action(async (flags: CommonOptions) => {
    const whole = prepare(flags);
    await checkChannels(flags, whole);
    const config = whole.bridge;
    if (flags.listen !== undefined) config.listen = flags.listen;
    if (flags.checkConfig) {
      reportConfigOk(flags);
      return;
    }
    widenThreadPoolForSpool();
    // Loaded here, not at the top: the other commands need none of nodemailer, resvg or handlebars.
    const { startBridge } = await import('../bridge/bridge');
    runUntilSignal([await startBridge(config)]);
  });
}
