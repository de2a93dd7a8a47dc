import type { CollectorDescriptor } from '../descriptor';
import { cpu } from './cpu';
import { diskstats } from './diskstats';
import { filesystem } from './filesystem';
import { hostinfo } from './hostinfo';
import { loadavg } from './loadavg';
import { logs } from './logs';
import { meminfo } from './meminfo';
import { netclass } from './netclass';
import { netdev } from './netdev';
import { os } from './os';
import { pressure } from './pressure';
import { stat } from './stat';
import { time } from './time';
import { uname } from './uname';

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
  hostinfo,
  logs,
];

export const COLLECTOR_NAMES: readonly string[] = COLLECTORS.map((descriptor) => descriptor.name);
