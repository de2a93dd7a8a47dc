import { z } from 'zod';
import { logsSchema } from './logs';
import { duration, listenAddress } from './types';

/** The `exporter:` section. */
export const exporterSchema = z
  .object({
    listen: listenAddress().default(':9110'),
    /** A collector still running after this long reports success 0; the scrape answers without it. */
    collector_timeout: duration().default(5000),
    paths: z
      .object({
        procfs: z.string().min(1).default('/proc'),
        sysfs: z.string().min(1).default('/sys'),
        rootfs: z.string().min(1).default('/'),
        udev_data: z.string().min(1).default('/run/udev/data'),
      })
      .strict()
      .prefault({}),
    /**
     * `<collector>: { enabled, ...its settings }`. Each collector's keys are declared beside it in
     * the exporter (one file per collector), which validates this map with the key path when it
     * starts and on `--check-config`: the config layer cannot import the exporter.
     */
    collectors: z.record(z.string(), z.record(z.string(), z.unknown()).nullable()).default({}),
    /** Log files to follow and the rules that turn their lines into metrics. */
    logs: logsSchema,
  })
  .strict();

export type ExporterConfig = z.infer<typeof exporterSchema>;
