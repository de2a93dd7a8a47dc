import type { Collector, ScrapeLogger } from '../collector';
import type { MetricSink } from '../exposition';
import { procPath, rootfsPath, type FsStats, type Host } from '../host';
import { parseMounts, type Mount } from '../procfs/mounts';

export interface FilesystemOptions {
  mountPointsExclude: RegExp;
  fsTypesExclude: RegExp;
  /** A statfs(2) slower than this marks the mount as stuck until the call returns. */
  mountTimeoutMs: number;
  logger?: ScrapeLogger;
}

const LABELS = ['device', 'fstype', 'mountpoint'] as const;

/** Filesystems whose statfs waits on a server, and so can hang when the server is gone. */
const NETWORK_FS = /^(nfs\d*|cifs|smb\d*|smbfs|ceph|glusterfs|lustre|gpfs|afs|9p|davfs|fuse\..+)$/;

/**
 * At most this many statfs calls on network filesystems are outstanding at once. A hung call
 * holds a libuv pool thread (four by default), shared with every file read, fsync and DNS lookup
 * of the process: without a cap, a few dead NFS servers would stall all of them.
 */
export const MAX_NETWORK_STATFS = 2;

interface Reported {
  readonly labels: readonly string[];
  readonly readonly: number;
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
  private networkCallsInFlight = 0;
  /** Network mounts waiting for a free slot, woken in order as calls return. */
  private readonly slotWaiters: Array<() => void> = [];

  constructor(
    private readonly host: Host,
    private readonly options: FilesystemOptions,
  ) {}

  /** Mount points whose statfs has not returned (for tests and logs). */
  stuckMounts(): string[] {
    return [...this.stuck];
  }

  async collect(sink: MetricSink): Promise<void> {
    const reported = await Promise.all(this.mounts().map((mount) => this.stat(mount)));
    const families = {
      error: sink.gauge(
        'node_filesystem_device_error',
        'Whether an error occurred while getting statistics for the given device.',
        LABELS,
      ),
      size: sink.gauge('node_filesystem_size_bytes', 'Filesystem size in bytes.', LABELS),
      free: sink.gauge('node_filesystem_free_bytes', 'Filesystem free space in bytes.', LABELS),
      avail: sink.gauge(
        'node_filesystem_avail_bytes',
        'Filesystem space available to non-root users in bytes.',
        LABELS,
      ),
      files: sink.gauge('node_filesystem_files', 'Filesystem total file nodes.', LABELS),
      filesFree: sink.gauge('node_filesystem_files_free', 'Filesystem total free file nodes.', LABELS),
      readonly: sink.gauge('node_filesystem_readonly', 'Filesystem read-only status.', LABELS),
    };
    for (const { labels, readonly, stats } of reported) {
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

  /** The mounts to report: not excluded, one per (device, fstype, mountpoint). */
  private mounts(): Mount[] {
    let text: string;
    try {
      text = this.host.readText(procPath(this.host, '1', 'mounts'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      text = this.host.readText(procPath(this.host, 'mounts'));
    }
    const seen = new Set<string>();
    const mounts: Mount[] = [];
    for (const mount of parseMounts(text)) {
      const mountPoint = this.stripRootfs(mount.mountPoint);
      if (this.options.mountPointsExclude.test(mountPoint)) continue;
      if (this.options.fsTypesExclude.test(mount.fsType)) continue;
      const key = `${mount.device}\0${mount.fsType}\0${mountPoint}`;
      if (seen.has(key)) continue;
      seen.add(key);
      mounts.push({ ...mount, mountPoint });
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

  private async stat(mount: Mount): Promise<Reported> {
    const labels = [mount.device, mount.fsType, mount.mountPoint];
    const readonly = mount.options.split(',').includes('ro') ? 1 : 0;
    const { mountPoint } = mount;
    if (this.stuck.has(mountPoint)) {
      this.options.logger?.debug({ mountpoint: mountPoint }, 'mount point is still unresponsive');
      return { labels, readonly };
    }
    const isNetwork = NETWORK_FS.test(mount.fsType);
    if (isNetwork && !(await this.networkSlot())) {
      this.options.logger?.debug({ mountpoint: mountPoint }, 'statfs skipped: network mounts are hanging');
      return { labels, readonly };
    }
    const call = this.host.statfs(rootfsPath(this.host, mountPoint));
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
      if (result !== 'timeout') return { labels, readonly, stats: result };
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
      return { labels, readonly };
    } catch (err) {
      this.options.logger?.debug({ mountpoint: mountPoint, err: (err as Error).message }, 'statfs failed');
      return { labels, readonly };
    } finally {
      clearTimeout(timer);
    }
  }
}
