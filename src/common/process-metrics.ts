import fs from 'node:fs';
import v8 from 'node:v8';
import type { MetricFamily } from './exposition';
import { procSelf } from './proc-files';

/**
 * The process's own metrics, read directly on each scrape: the process_* series node_exporter's
 * Go client exports (same names, same meaning), and the V8 heap under prom-client's nodejs_*
 * names. prom-client's default metrics cost 0.6 ms of CPU per scrape (event-loop-lag percentiles
 * and deviation, several memoryUsage() calls, objects for each value), as much as a fifth of
 * what serving the host metrics costs; these cost a few reads of /proc/self.
 */
export function processFamilies(): MetricFamily[] {
  const cpu = process.cpuUsage();
  const heap = v8.getHeapStatistics();
  const families: MetricFamily[] = [
    gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', heap.external_memory),
    gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', heap.total_heap_size),
    gauge(
      'nodejs_heap_size_used_bytes',
      'Process heap size used from Node.js in bytes.',
      heap.used_heap_size,
    ),
    heapSpaces(),
    {
      name: 'nodejs_version_info',
      help: 'Node.js version info.',
      type: 'gauge',
      samples: [{ labels: VERSION_LABELS, value: 1 }],
    },
    counter(
      'process_cpu_seconds_total',
      'Total user and system CPU time spent in seconds.',
      (cpu.user + cpu.system) / 1e6,
    ),
  ];
  if (process.platform === 'linux') families.push(...linuxFamilies());
  families.push(
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', process.memoryUsage.rss()),
    gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', START_TIME),
  );
  return families.sort((a, b) => (a.name < b.name ? -1 : 1));
}

const [major, minor, patch] = process.versions.node.split('.');
const VERSION_LABELS = { version: process.version, major, minor, patch };
const START_TIME = Math.round(Date.now() / 1000 - process.uptime());

function gauge(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'gauge', samples: [{ labels: {}, value }] };
}

function counter(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'counter', samples: [{ labels: {}, value }] };
}

function heapSpaces(): MetricFamily {
  const family: MetricFamily = {
    name: 'nodejs_heap_space_size_total_bytes',
    help: 'Process heap space size total from Node.js in bytes.',
    type: 'gauge',
    samples: [],
  };
  for (const space of v8.getHeapSpaceStatistics()) {
    family.samples.push({
      labels: { space: space.space_name.replace(/_space$/, '') },
      value: space.space_size,
    });
  }
  return family;
}

/** The address space, open files and limits from /proc/self, as the Go client reads them. */
function linuxFamilies(): MetricFamily[] {
  // vsize, in bytes, is the 23rd field of stat; the 2nd (the command) is in parentheses.
  const stat = procSelf.read('/proc/self/stat');
  const vsize = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ', 21)[20]);
  const limits = procSelf.read('/proc/self/limits');
  const limit = (pattern: RegExp): number => {
    const soft = pattern.exec(limits)?.[1];
    return soft === undefined || soft === 'unlimited' ? 2 ** 64 - 1 : Number(soft);
  };
  return [
    gauge('process_open_fds', 'Number of open file descriptors.', openFds()),
    gauge('process_max_fds', 'Maximum number of open file descriptors.', limit(/^Max open files\s+(\S+)/m)),
    gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', vsize),
    gauge(
      'process_virtual_memory_max_bytes',
      'Maximum amount of virtual memory available in bytes.',
      limit(/^Max address space\s+(\S+)/m),
    ),
  ];
}

/**
 * The number of open descriptors: since Linux 6.2 the size stat(2) gives /proc/self/fd, without
 * listing it (a few microseconds against some 40 for the list, on every scrape); before, that
 * size is 0 and the directory is listed.
 */
function openFds(): number {
  const size = fs.statSync('/proc/self/fd').size;
  // readdir's own descriptor is among the entries it lists.
  return size > 0 ? size : fs.readdirSync('/proc/self/fd').length - 1;
}
