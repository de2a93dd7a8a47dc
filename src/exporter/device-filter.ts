import type { z } from 'zod';
import { regex } from '../config/types';
import type { CollectorFlag } from './descriptor';

/** `device_include` / `device_exclude` of a collector's settings, as node_exporter's flags of that name. */
export const DEVICE_FILTER_SETTINGS = {
  device_include: regex().optional(),
  device_exclude: regex().optional(),
};

interface DeviceFilterSettings {
  device_include?: string;
  device_exclude?: string;
}

/** node_exporter refuses both at once; so does the configuration, naming the key. */
export function checkDeviceFilter(settings: DeviceFilterSettings, ctx: z.RefinementCtx): void {
  if (settings.device_include !== undefined && settings.device_exclude !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['device_include'],
      message:
        'device_include and device_exclude are mutually exclusive (as the device-include and device-exclude flags)',
    });
  }
}

/** `--collector.<name>.device-include` and `--collector.<name>.device-exclude`. */
export function deviceFilterFlags(devices: string): CollectorFlag[] {
  return [
    {
      flag: 'device-include',
      key: 'device_include',
      kind: 'regex',
      help: `regexp of ${devices} to include (mutually exclusive to device-exclude)`,
    },
    {
      flag: 'device-exclude',
      key: 'device_exclude',
      kind: 'regex',
      help: `regexp of ${devices} to exclude (mutually exclusive to device-include)`,
    },
  ];
}

/** Whether a device is reported: matching the include pattern if set, else not matching the exclude one. */
export type DeviceFilter = (device: string) => boolean;

/** Compiles the settings; `defaultExclude` applies when neither pattern is set. */
export function deviceFilter(settings: DeviceFilterSettings, defaultExclude?: string): DeviceFilter {
  if (settings.device_include !== undefined) {
    const include = new RegExp(settings.device_include);
    return (device) => include.test(device);
  }
  const source = settings.device_exclude ?? defaultExclude;
  if (source === undefined) return () => true;
  const exclude = new RegExp(source);
  return (device) => !exclude.test(device);
}
