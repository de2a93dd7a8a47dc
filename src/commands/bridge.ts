import type { Command } from 'commander';
import {
  checkChannels,
  prepare,
  reportConfigOk,
  runUntilSignal,
  widenThreadPoolForSpool,
  withConfigFile,
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
    // Loaded here, not at the top: the other commands need none of nodemailer, resvg or handlebars.
    if (flags.checkConfig) {
      const { checkBridge } = await import('../bridge/bridge');
      await withConfigFile(flags, () => checkBridge(config));
      reportConfigOk(flags);
      return;
    }
    widenThreadPoolForSpool();
    const { startBridge } = await import('../bridge/bridge');
    runUntilSignal([await withConfigFile(flags, () => startBridge(config))]);
  });
}
