import { z } from 'zod';
import { listenAddress } from './types';

/** The `bridge:` section. */
export const bridgeSchema = z
  .object({
    listen: listenAddress().default(':9112'),
  })
  .strict();

export type BridgeConfig = z.infer<typeof bridgeSchema>;
