import type { Command } from 'commander';
import { registerCheck } from './check';

/** Every `vigil <command>`: each module adds itself to the program. */
export const commands: Array<(program: Command) => void> = [registerCheck];
