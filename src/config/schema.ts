import { z } from 'zod';
import { bridgeSchema } from './bridge';
import { detectorSchema } from './detector';
import { exporterSchema } from './exporter';

/**
 * The whole configuration file: the one source of truth for keys and defaults. Every key has a
 * default, so `{}` (or no file) is a valid configuration.
 */
export const configSchema = z
  .object({
    exporter: exporterSchema.prefault({}),
    detector: detectorSchema.prefault({}),
    bridge: bridgeSchema.prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
