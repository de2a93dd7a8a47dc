import { z } from 'zod';
import { listenAddress } from './types';

/** The `detector:` section. */
export const detectorSchema = z
  .object({
    listen: listenAddress().default(':9111'),
  })
  .strict();

export type DetectorConfig = z.infer<typeof detectorSchema>;
