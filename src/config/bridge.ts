import { z } from 'zod';
import { listenAddress, prometheusConnectionSchema } from './types';

/** The `bridge:` section. */
export const bridgeSchema = z
  .object({
    listen: listenAddress().default(':9112'),
    prometheus: prometheusConnectionSchema.prefault({}),
  })
  .strict();

export type BridgeConfig = z.infer<typeof bridgeSchema>;
