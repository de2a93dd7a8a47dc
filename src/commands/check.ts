import { Command, Option } from 'commander';
import { evaluate, STATUS_NAMES, type Status } from '../check/evaluate';
import { parseRange } from '../check/thresholds';
import { parseDuration } from '../common/duration';
import { errorMessage, UserError } from '../common/errors';
import { promString } from '../common/promql';
import { loadConfig } from '../config/load';

interface CheckCommandOptions {
  config?: string;
  prometheus?: string;
  query?: string;
  anomalies?: boolean;
  rule?: string;
  warning?: string;
  critical?: string;
  empty: string;
  timeout: string;
}

const EMPTY_STATUS: Record<string, Status> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

/** Plugins signal bad usage as UNKNOWN (3): exit 2 would page someone as CRITICAL. */
const UNKNOWN = 3;

async function runCheck(options: CheckCommandOptions): Promise<void> {
  if (!options.query === !options.anomalies) {
    throw new UserError('give either --query EXPR or --anomalies', UNKNOWN);
  }
  let warning, critical, timeout;
  try {
    warning = options.warning ? parseRange(options.warning) : undefined;
    critical = options.critical ? parseRange(options.critical) : undefined;
    timeout = parseDuration(options.timeout);
  } catch (err) {
    throw new UserError(errorMessage(err), UNKNOWN);
  }
  let connection;
  try {
    connection = loadConfig(options.config).detector.prometheus;
  } catch (err) {
    throw new UserError(errorMessage(err), UNKNOWN);
  }
  if (options.prometheus) connection = { ...connection, url: options.prometheus };
  const { PrometheusClient } = await import('../common/prometheus-client');
  const client = new PrometheusClient({ ...connection, timeout, retries: 0 });

  let query = options.query ?? '';
  let subject = query;
  if (options.anomalies) {
    query = options.rule ? `vigil_anomaly{rule=${promString(options.rule)}}` : 'vigil_anomaly';
    subject = options.rule ? `anomalies of rule ${options.rule}` : 'anomalies';
    // A raised flag is critical unless the user chose otherwise; no flags at all means no detector.
    critical ??= parseRange('@1:');
  }
  let samples;
  try {
    samples = await client.query(query);
  } catch (err) {
    process.stdout.write(`${STATUS_NAMES[UNKNOWN]} - ${subject}: ${errorMessage(err)}\n`);
    process.exitCode = UNKNOWN;
    return;
  }
  const result = evaluate(samples, {
    warning,
    critical,
    subject,
    emptyStatus: options.anomalies ? UNKNOWN : EMPTY_STATUS[options.empty],
  });
  process.stdout.write(`${result.line}\n`);
  process.exitCode = result.status;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'Nagios/Icinga plugin: evaluate a PromQL expression or the anomaly flags; prints STATUS - text | perfdata, exits 0/1/2/3',
    )
    .option('--query <expr>', 'PromQL expression; every series it returns is checked')
    .option('--anomalies', 'check the detector flags (vigil_anomaly): CRITICAL while any is raised')
    .option('--rule <name>', 'with --anomalies: only this detector rule')
    .option('-w, --warning <range>', 'WARNING threshold, Nagios range syntax (10, 10:, ~:10, 10:20, @10:20)')
    .option('-c, --critical <range>', 'CRITICAL threshold, Nagios range syntax')
    .addOption(
      new Option('--empty <status>', 'status when the query returns nothing')
        .choices(Object.keys(EMPTY_STATUS))
        .default('unknown'),
    )
    .option('--prometheus <url>', 'Prometheus URL (default: detector.prometheus.url of --config)')
    .option(
      '--config <file>',
      'YAML configuration file for the Prometheus connection',
      process.env.VIGIL_CONFIG,
    )
    .option('-t, --timeout <duration>', 'give up and report UNKNOWN after this long', '10s')
    .action(runCheck);
}
