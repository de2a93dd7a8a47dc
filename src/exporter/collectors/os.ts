import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { rootfsPath, type Host } from '../host';
import { osVersionNumber, parseOsRelease } from '../procfs/osrelease';
import { defineCollector } from '../descriptor';

const INFO_LABELS = [
  'build_id',
  'id',
  'id_like',
  'image_id',
  'image_version',
  'name',
  'pretty_name',
  'variant',
  'variant_id',
  'version',
  'version_codename',
  'version_id',
] as const;

/** node_os_info and node_os_version from os-release(5). */
export class OsCollector implements Collector {
  readonly name = 'os';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const release = parseOsRelease(this.readOsRelease());
    const label = (key: string): string => release[key.toUpperCase()] ?? '';
    sink
      .gauge(
        'node_os_info',
        `A metric with a constant '1' value labeled by ${INFO_LABELS.join(', ')}.`,
        INFO_LABELS,
      )
      .add(1, ...INFO_LABELS.map(label));
    sink
      .gauge('node_os_version', 'Metric containing the major.minor part of the OS version.', [
        'id',
        'id_like',
        'name',
      ])
      .add(osVersionNumber(release.VERSION_ID), label('id'), label('id_like'), label('name'));
  }

  private readOsRelease(): string {
    try {
      return this.host.readText(rootfsPath(this.host, 'etc', 'os-release'));
    } catch {
      return this.host.readText(rootfsPath(this.host, 'usr', 'lib', 'os-release'));
    }
  }
}

export const os = defineCollector({
  name: 'os',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new OsCollector(host) : undefined),
});
