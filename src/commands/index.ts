import type { Command } from 'commander';
import { registerBacktest } from './backtest';
import { registerCheck } from './check';
import { registerExporter } from './exporter';

/** Every `vigil <command>`: each module adds itself to the program. */
export const commands: Array<(program: Command) => void> = [
  registerBacktest,
  registerCheck,
  registerExporter,
];
