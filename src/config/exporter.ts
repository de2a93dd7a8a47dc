import { z } from 'zod';
import { listenAddress } from './types';

/** The `exporter:` section. */
export const exporterSchema = z
  .object({
    listen: listenAddress().default(':9110'),
  })
  .strict();

export type ExporterConfig = z.infer<typeof exporterSchema>;
