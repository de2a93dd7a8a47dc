import type { Command } from 'commander';
import type { RunningService } from '../common/service';
import { checkExporterConfig } from './exporter';
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

/** `vigil all`: exporter, detector and bridge in one process, each on its own `listen`. */
export function registerAll(program: Command): void {
  withCommonOptions(
    program
      .command('all')
      .description('run the exporter (:9110), detector (:9111) and bridge (:9112) in one process'),
    { listen: false },
  ).action(async (flags: CommonOptions) => {
    const config = prepare(flags);
    checkExporterConfig(config.exporter, flags.config);
    await checkChannels(flags, config);
    if (flags.checkConfig) {
      const { checkBridge } = await import('../bridge/bridge');
      await withConfigFile(flags, () => checkBridge(config.bridge));
      reportConfigOk(flags);
      return;
    }
    widenThreadPoolForSpool();
    const [{ startExporter }, { startDetector }, { startBridge }] = await Promise.all([
      import('../exporter/exporter'),
      import('../detector/detector'),
      import('../bridge/bridge'),
    ]);
    const started: RunningService[] = [];
    try {
      started.push(await startExporter(config.exporter));
      started.push(await startDetector(config.detector));
      started.push(await withConfigFile(flags, () => startBridge(config.bridge)));
    } catch (err) {
      // One service that cannot start (a taken port) must not leave the others half running.
      await Promise.allSettled(started.map((service) => service.close()));
      throw err;
    }
    runUntilSignal(started);
  });
}
