import { errorMessage } from '../../common/errors';
import { duration, regex } from '../../config/types';
import type { Collector, ScrapeLogger } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { FILESYSTEM_FAMILIES } from '../families';
import { procPath, rootfsPath, type FsStats, type Host } from '../host';
import { PortableFilesystemCollector } from '../portable/filesystem';
import { parseMounts } from '../procfs/mounts';

export interface FilesystemOptions {
  mountPointsExclude: RegExp;
  fsTypesExclude: RegExp;
  /** A statfs(2) slower than this marks the mount as stuck until the call returns. */
  mountTimeoutMs: number;
  logger?: ScrapeLogger;
}

/** node_exporter's defaults, so that its dashboards and alert rules see the same filesystems. */
export const FILESYSTEM_DEFAULTS = {
  mountPointsExclude:
    '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
  fsTypesExclude:
    '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$',
};

/** Filesystems whose statfs waits on a server, and so can hang when the server is gone. */
const NETWORK_FS = /^(nfs\d*|cifs|smb\d*|smbfs|ceph|glusterfs|lustre|gpfs|afs|9p|davfs|fuse\..+)$/;

/**
 * At most this many statfs calls on network filesystems are outstanding at once. A hung call
 * holds a libuv pool thread (four by default), shared with every file read, fsync and DNS lookup
 * of the process: without a cap, a few dead NFS servers would stall all of them.
 */
export const MAX_NETWORK_STATFS = 2;

/** A mount to report, with what each scrape needs of it worked out once. */
interface ReportedMount {
  readonly mountPoint: string;
  /** device, fstype, mountpoint. */
  readonly labels: readonly string[];
  readonly readonly: number;
  readonly isNetwork: boolean;
  /** Where statfs looks: the mount point under the host's root. */
  readonly statfsPath: string;
}

interface Reported {
  readonly mount: ReportedMount;
  readonly stats?: FsStats;
}

/**
 * node_filesystem_* from the mount table and statfs(2).
 *
 * A dead network mount makes statfs hang in the kernel, holding one of libuv's four thread-pool
 * threads. As node_exporter does with its stuckMounts, such a mount is reported with
 * node_filesystem_device_error 1 and not statfs'ed again until the hanging call returns, so each
 * stuck mount holds at most one thread and no scrape waits for it.
 */
export class FilesystemCollector implements Collector {
  readonly name = 'filesystem';
  private readonly stuck = new Set<string>();
  /** The last mount table read, and the mounts of it to report. */
  private mountTable: { readonly text: string; readonly mounts: readonly ReportedMount[] } | undefined;
  private networkCallsInFlight = 0;
  /** Network mounts waiting for a free slot, woken in order as calls return. */
  private readonly slotWaiters: Array<() => void> = [];

  constructor(
    private readonly host: Host,
    private readonly options: FilesystemOptions,
  ) {}

  async collect(sink: MetricSink): Promise<void> {
    const reported = await Promise.all(this.mounts().map((mount) => this.stat(mount)));
    const families = {
      error: sink.declared(FILESYSTEM_FAMILIES.error),
      size: sink.declared(FILESYSTEM_FAMILIES.size),
      free: sink.declared(FILESYSTEM_FAMILIES.free),
      avail: sink.declared(FILESYSTEM_FAMILIES.avail),
      files: sink.declared(FILESYSTEM_FAMILIES.files),
      filesFree: sink.declared(FILESYSTEM_FAMILIES.filesFree),
      readonly: sink.declared(FILESYSTEM_FAMILIES.readonly),
    };
    for (const { mount, stats } of reported) {
      const { labels, readonly } = mount;
      families.error.add(stats ? 0 : 1, ...labels);
      if (!stats) continue;
      const { blockSize } = stats;
      families.size.add(stats.blocks * blockSize, ...labels);
      families.free.add(stats.blocksFree * blockSize, ...labels);
      families.avail.add(stats.blocksAvailable * blockSize, ...labels);
      families.files.add(stats.files, ...labels);
      families.filesFree.add(stats.filesFree, ...labels);
      families.readonly.add(readonly, ...labels);
    }
  }

  /**
   * The mounts to report: not excluded, one per (device, fstype, mountpoint). The mount table
   * seldom changes between scrapes: while its text is the same, so is this list.
   */
  private mounts(): readonly ReportedMount[] {
    let text: string;
    try {
      text = this.host.readText(procPath(this.host, '1', 'mounts'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      text = this.host.readText(procPath(this.host, 'mounts'));
    }
    if (text !== this.mountTable?.text) this.mountTable = { text, mounts: this.reported(text) };
    return this.mountTable.mounts;
  }

  private reported(text: string): ReportedMount[] {
    const seen = new Set<string>();
    const mounts: ReportedMount[] = [];
    for (const mount of parseMounts(text)) {
      const mountPoint = this.stripRootfs(mount.mountPoint);
      if (this.options.mountPointsExclude.test(mountPoint)) continue;
      if (this.options.fsTypesExclude.test(mount.fsType)) continue;
      const key = `${mount.device}\0${mount.fsType}\0${mountPoint}`;
      if (seen.has(key)) continue;
      seen.add(key);
      mounts.push({
        mountPoint,
        labels: [mount.device, mount.fsType, mountPoint],
        readonly: mount.options.split(',').includes('ro') ? 1 : 0,
        isNetwork: NETWORK_FS.test(mount.fsType),
        statfsPath: rootfsPath(this.host, mountPoint),
      });
    }
    return mounts;
  }

  /** Takes a slot for a network statfs, waiting up to the mount timeout; false if none came free. */
  private async networkSlot(): Promise<boolean> {
    if (this.networkCallsInFlight >= MAX_NETWORK_STATFS) {
      const freed = await new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          this.slotWaiters.splice(this.slotWaiters.indexOf(wake), 1);
          resolve(false);
        }, this.options.mountTimeoutMs);
        timer.unref();
        this.slotWaiters.push(wake);
      });
      return freed;
    }
    this.networkCallsInFlight++;
    return true;
  }

  private stripRootfs(mountPoint: string): string {
    const rootfs = this.host.paths.rootfs;
    if (rootfs === '/' || !mountPoint.startsWith(rootfs)) return mountPoint;
    return mountPoint.slice(rootfs.length) || '/';
  }

  private async stat(mount: ReportedMount): Promise<Reported> {
    const { mountPoint, isNetwork } = mount;
    if (this.stuck.has(mountPoint)) {
      this.options.logger?.debug({ mountpoint: mountPoint }, 'mount point is still unresponsive');
      return { mount };
    }
    if (isNetwork && !(await this.networkSlot())) {
      this.options.logger?.debug({ mountpoint: mountPoint }, 'statfs skipped: network mounts are hanging');
      return { mount };
    }
    const call = this.host.statfs(mount.statfsPath);
    if (isNetwork) {
      void call
        .catch(() => undefined)
        .finally(() => {
          // The slot passes straight to a waiting mount, so no newcomer can slip in between.
          const next = this.slotWaiters.shift();
          if (next) next();
          else this.networkCallsInFlight--;
        });
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.mountTimeoutMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([call, timedOut]);
      if (result !== 'timeout') return { mount, stats: result };
      this.stuck.add(mountPoint);
      this.options.logger?.warn(
        { mountpoint: mountPoint, timeout_ms: this.options.mountTimeoutMs },
        'statfs timed out; mount point marked as stuck until it answers',
      );
      call
        .catch(() => undefined)
        .finally(() => {
          this.stuck.delete(mountPoint);
          this.options.logger?.warn({ mountpoint: mountPoint }, 'mount point answered again');
        });
      return { mount };
    } catch (err) {
      this.options.logger?.debug({ mountpoint: mountPoint, err: errorMessage(err) }, 'statfs failed');
      return { mount };
    } finally {
      clearTimeout(timer);
    }
  }
}

export const filesystem = defineCollector({
  name: 'filesystem',
  enabledByDefault: true,
  settings: {
    mount_points_exclude: regex().default(FILESYSTEM_DEFAULTS.mountPointsExclude),
    fs_types_exclude: regex().default(FILESYSTEM_DEFAULTS.fsTypesExclude),
    /** statfs slower than this marks a mount as stuck (device_error 1) until it answers. */
    mount_timeout: duration().default(2000),
  },
  flags: [
    {
      flag: 'mount-points-exclude',
      key: 'mount_points_exclude',
      kind: 'regex',
      help: 'regexp of mount points to exclude',
    },
    {
      flag: 'fs-types-exclude',
      key: 'fs_types_exclude',
      kind: 'regex',
      help: 'regexp of filesystem types to exclude',
    },
    {
      flag: 'mount-timeout',
      key: 'mount_timeout',
      kind: 'duration',
      help: 'how long to wait for statfs before marking a mount as stuck',
    },
  ],
  create: (settings, { host, platform, logger }) => {
    const excludes = {
      mountPointsExclude: new RegExp(settings.mount_points_exclude),
      fsTypesExclude: new RegExp(settings.fs_types_exclude),
    };
    return platform === 'linux'
      ? new FilesystemCollector(host, { ...excludes, mountTimeoutMs: settings.mount_timeout, logger })
      : new PortableFilesystemCollector(excludes);
  },
});
