import { regex } from '../../config/types';
import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { parseVmstat } from '../procfs/vmstat';

/** node_exporter's default: page-ins/outs, swap-ins/outs, page faults and OOM kills. */
export const VMSTAT_FIELDS = '^(oom_kill|pgpg|pswp|pg.*fault).*';

/** node_vmstat_<field> (untyped, as node_exporter) for the /proc/vmstat fields matching `fields`. */
export class VmstatCollector implements Collector {
  readonly name = 'vmstat';

  constructor(
    private readonly host: Host,
    private readonly fields: RegExp,
  ) {}

  collect(sink: MetricSink): void {
    for (const [field, value] of parseVmstat(this.host.readText(procPath(this.host, 'vmstat')))) {
      if (!this.fields.test(field)) continue;
      sink.untyped(`node_vmstat_${field}`, `/proc/vmstat information field ${field}.`).add(value);
    }
  }
}

export const vmstat = defineCollector({
  name: 'vmstat',
  enabledByDefault: true,
  settings: { fields: regex().default(VMSTAT_FIELDS) },
  flags: [
    { flag: 'fields', key: 'fields', kind: 'regex', help: 'regexp of fields to return for vmstat collector' },
  ],
  create: (settings, { host, platform }) =>
    platform === 'linux' ? new VmstatCollector(host, new RegExp(settings.fields)) : undefined,
});
