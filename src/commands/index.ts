import type { Command } from 'commander';
import { registerAll } from './all';
import { registerBacktest } from './backtest';
import { registerBridge } from './bridge';
import { registerCheck } from './check';
import { registerDetector } from './detector';
import { registerExporter } from './exporter';

/**
 * Every `vigil <command>`: each module adds itself to the program, and imports what it runs only
 * when it runs, so a service does not carry the other commands' libraries in its memory.
 */
export const commands: Array<(program: Command) => void> = [
  registerAll,
  registerBacktest,
  registerBridge,
  registerCheck,
  registerDetector,
  registerExporter,
];
