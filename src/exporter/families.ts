import type { FamilySpec } from './exposition';

/**
 * The families that a Linux collector and its macOS/Windows counterpart (portable/) both export,
 * declared once so that names, help and labels cannot drift apart.
 */

const FILESYSTEM_LABELS = ['device', 'fstype', 'mountpoint'];
const filesystemGauge = (name: string, help: string): FamilySpec => ({
  name,
  help,
  type: 'gauge',
  labels: FILESYSTEM_LABELS,
});

export const FILESYSTEM_FAMILIES = {
  error: filesystemGauge(
    'node_filesystem_device_error',
    'Whether an error occurred while getting statistics for the given device.',
  ),
  size: filesystemGauge('node_filesystem_size_bytes', 'Filesystem size in bytes.'),
  free: filesystemGauge('node_filesystem_free_bytes', 'Filesystem free space in bytes.'),
  avail: filesystemGauge(
    'node_filesystem_avail_bytes',
    'Filesystem space available to non-root users in bytes.',
  ),
  files: filesystemGauge('node_filesystem_files', 'Filesystem total file nodes.'),
  filesFree: filesystemGauge('node_filesystem_files_free', 'Filesystem total free file nodes.'),
  readonly: filesystemGauge('node_filesystem_readonly', 'Filesystem read-only status.'),
};

export const CPU_SECONDS: FamilySpec = {
  name: 'node_cpu_seconds_total',
  help: 'Seconds the CPUs spent in each mode.',
  type: 'counter',
  labels: ['cpu', 'mode'],
};

export const LOAD_FAMILIES: readonly FamilySpec[] = [
  { name: 'node_load1', help: '1m load average.', type: 'gauge' },
  { name: 'node_load5', help: '5m load average.', type: 'gauge' },
  { name: 'node_load15', help: '15m load average.', type: 'gauge' },
];

export const BOOT_TIME: FamilySpec = {
  name: 'node_boot_time_seconds',
  help: 'Node boot time, in unixtime.',
  type: 'gauge',
};

/**
 * Families named after a field or column, made once each: they are asked for on every scrape, and
 * their number is bounded by the kernel's fields (a few dozen).
 */
const networkDeviceFamilies = new Map<string, FamilySpec>();
const memoryFamilies = new Map<string, FamilySpec>();

/** node_network_<column>_total{device}, e.g. receive_bytes. */
export function networkDeviceFamily(column: string): FamilySpec {
  let spec = networkDeviceFamilies.get(column);
  if (!spec) {
    spec = {
      name: `node_network_${column}_total`,
      help: `Network device statistic ${column}.`,
      type: 'counter',
      labels: ['device'],
    };
    networkDeviceFamilies.set(column, spec);
  }
  return spec;
}

/** node_memory_<field>: Linux names them after /proc/meminfo, macOS after its own fields. */
export function memoryFamily(field: string): FamilySpec {
  let spec = memoryFamilies.get(field);
  if (!spec) {
    spec = { name: `node_memory_${field}`, help: `Memory information field ${field}.`, type: 'gauge' };
    memoryFamilies.set(field, spec);
  }
  return spec;
}
