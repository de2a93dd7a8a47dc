import type { CollectorDescriptor } from '../descriptor';
import { arp } from './arp';
import { conntrack } from './conntrack';
import { cpu } from './cpu';
import { diskstats } from './diskstats';
import { entropy } from './entropy';
import { filefd } from './filefd';
import { filesystem } from './filesystem';
import { hostinfo } from './hostinfo';
import { loadavg } from './loadavg';
import { logs } from './logs';
import { meminfo } from './meminfo';
import { netclass } from './netclass';
import { netdev } from './netdev';
import { netstat } from './netstat';
import { os } from './os';
import { pressure } from './pressure';
import { selinux } from './selinux';
import { sockstat } from './sockstat';
import { softnet } from './softnet';
import { stat } from './stat';
import { textfile } from './textfile';
import { time } from './time';
import { timex } from './timex';
import { udpQueues } from './udp_queues';
import { uname } from './uname';
import { vmstat } from './vmstat';

/**
 * Every collector, in the order of the scrape and of `--help`. Its name, config keys, flags and
 * constructor come from its descriptor; adding a collector is its file plus one line here.
 */
export const COLLECTORS: readonly CollectorDescriptor[] = [
  cpu,
  meminfo,
  filesystem,
  diskstats,
  netdev,
  netclass,
  loadavg,
  stat,
  pressure,
  uname,
  time,
  os,
  vmstat,
  netstat,
  sockstat,
  softnet,
  conntrack,
  filefd,
  entropy,
  arp,
  timex,
  selinux,
  udpQueues,
  textfile,
  hostinfo,
  logs,
];

export const COLLECTOR_NAMES: readonly string[] = COLLECTORS.map((descriptor) => descriptor.name);
