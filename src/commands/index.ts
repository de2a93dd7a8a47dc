import type { Command } from 'commander';
import { registerBacktest } from './backtest';
import { registerBridge } from './bridge';
import { registerCheck } from './check';
import { registerDetector } from './detector';
import { registerExporter } from './exporter';

/** Every `vigil <command>`: each module adds itself to the program. */
export const commands: Array<(program: Command) => void> = [
  registerBacktest,
  registerBridge,
  registerCheck,
  registerDetector,
  registerExporter,
];
