import { Command, Option } from 'commander';
import { UserError } from '../common/errors';
import { setLogLevel } from '../common/logger';
import { loadConfig } from '../config/load';
import { resolveRule } from '../detector/rules';
import { DETECTOR_CHOICES, type DetectorChoice } from '../detector/backtest/run';

interface BacktestFlags {
  data: string;
  labels: string;
  results?: string;
  config?: string;
  rule?: string;
  detector: DetectorChoice;
  json?: boolean;
  crossValidate?: boolean;
}

export function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description("run the detectors over CSV files (timestamp,value) and score them with NAB's method")
    .requiredOption('--data <dir>', 'directory of <category>/<name>.csv files')
    .requiredOption('--labels <file>', 'anomaly windows in NAB format (combined_windows.json)')
    .option('--results <dir>', 'write NAB-format results (timestamp,value,anomaly_score,label) here')
    .option(
      '--config <file>',
      'YAML configuration: detector.defaults are the settings tested',
      process.env.VIGIL_CONFIG,
    )
    .option('--rule <name>', "test this rule's settings (defaults merged) instead of detector.defaults")
    .addOption(
      new Option('--detector <name>', 'which detector scores')
        .choices([...DETECTOR_CHOICES])
        .default('combined'),
    )
    .option('--json', 'print one JSON object instead of tables')
    .option(
      '--cross-validate',
      'also choose settings around the tested ones on all categories but one and score that one, for each',
    )
    .action(async (flags: BacktestFlags) => {
      const [{ formatReport, reportJson }, { runBacktest, loadCorpus, settingsFor }, cv] = await Promise.all([
        import('../detector/backtest/report'),
        import('../detector/backtest/run'),
        import('../detector/backtest/cross-validate'),
      ]);
      setLogLevel('warn');
      const detector = loadConfig(flags.config).detector;
      let settings = detector.defaults;
      if (flags.rule) {
        const rule = detector.rules.find((r) => r.name === flags.rule);
        if (!rule)
          throw new UserError(`--rule ${flags.rule}: no such rule in ${flags.config ?? 'the shipped rules'}`);
        settings = resolveRule(rule, detector.defaults);
      }
      const result = runBacktest({
        dataDir: flags.data,
        labelsFile: flags.labels,
        resultsDir: flags.results,
        settings,
        detector: flags.detector,
      });
      const tested = settingsFor(settings, flags.detector);
      const crossValidation = flags.crossValidate
        ? cv.crossValidate(loadCorpus(flags.data, flags.labels), tested, cv.candidatesAround(tested))
        : undefined;
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(reportJson(result, crossValidation))}\n`
          : formatReport(result, crossValidation),
      );
    });
}
