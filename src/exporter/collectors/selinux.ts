import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, rootfsPath, sysPath, type Host } from '../host';

/** SELinux's modes as node_exporter reports them: enforcing 1, permissive 0, disabled -1. */
const MODES: Record<string, number> = { enforcing: 1, permissive: 0, disabled: -1 };

/**
 * node_selinux_enabled, and where it is enabled node_selinux_config_mode (from /etc/selinux/config)
 * and node_selinux_current_mode (selinuxfs `enforce`). Enabled means, as for node_exporter's
 * library, that selinuxfs is mounted (at /sys/fs/selinux) and this process is not in the `kernel`
 * context.
 */
export class SelinuxCollector implements Collector {
  readonly name = 'selinux';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const enabled = sink.gauge('node_selinux_enabled', 'SELinux is enabled, 1 is true, 0 is false');
    const enforce = this.read(sysPath(this.host, 'fs', 'selinux', 'enforce'));
    const context = this.read(procPath(this.host, 'self', 'attr', 'current'));
    if (enforce === undefined || context?.replace(/\0/g, '') === 'kernel') {
      enabled.add(0);
      return;
    }
    enabled.add(1);
    sink.gauge('node_selinux_config_mode', 'Configured SELinux enforcement mode').add(this.configuredMode());
    sink
      .gauge('node_selinux_current_mode', 'Current SELinux enforcement mode')
      .add(Number.isNaN(Number(enforce)) ? -1 : Number(enforce));
  }

  private configuredMode(): number {
    const config = this.read(rootfsPath(this.host, 'etc', 'selinux', 'config')) ?? '';
    const mode = /^\s*SELINUX\s*=\s*(\w+)/m.exec(config)?.[1]?.toLowerCase();
    return MODES[mode ?? 'disabled'] ?? -1;
  }

  private read(file: string): string | undefined {
    try {
      return this.host.readText(file).trim();
    } catch {
      return undefined;
    }
  }
}

export const selinux = defineCollector({
  name: 'selinux',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new SelinuxCollector(host) : undefined),
});
