import { z } from 'zod';
import { listenAddress, prometheusConnectionSchema } from './types';

/** The `detector:` section. */
export const detectorSchema = z
  .object({
    listen: listenAddress().default(':9111'),
    prometheus: prometheusConnectionSchema.prefault({}),
  })
  .strict();

export type DetectorConfig = z.infer<typeof detectorSchema>;
