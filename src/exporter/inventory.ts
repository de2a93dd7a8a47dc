import fs from 'node:fs';
import os from 'node:os';
import si from 'systeminformation';

/** What a cluster inventory records about a machine; read once, since none of it changes. */
export interface Inventory {
  readonly hostname: string;
  readonly cpuModel: string;
  readonly cpuCores: number;
  readonly cpuPhysicalCores: number;
  /** Undefined where neither systeminformation nor the OS tells it (some VMs). */
  readonly cpuMhz?: number;
  readonly l2CacheBytes?: number;
  readonly memoryBytes: number;
  readonly architecture: string;
}

/**
 * Reads the inventory through systeminformation, which spawns helper processes (lscpu, dmidecode):
 * acceptable once at start, never per scrape.
 */
export async function readInventory(): Promise<Inventory> {
  const [cpu, mem] = await Promise.all([si.cpu(), si.mem()]);
  const osCpus = os.cpus();
  const mhz = cpu.speed > 0 ? cpu.speed * 1000 : osCpus[0]?.speed || cpuinfoMhz();
  return {
    hostname: os.hostname(),
    cpuModel: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ') || osCpus[0]?.model || '',
    cpuCores: cpu.cores || osCpus.length,
    cpuPhysicalCores: cpu.physicalCores || cpu.cores || osCpus.length,
    cpuMhz: mhz > 0 ? Math.round(mhz) : undefined,
    l2CacheBytes: cpu.cache?.l2 || undefined,
    memoryBytes: mem.total || os.totalmem(),
    architecture: os.machine(),
  };
}

/** `cpu MHz` of /proc/cpuinfo, which VMs fill in where lscpu and cpufreq report nothing. */
function cpuinfoMhz(): number {
  try {
    const match = /^cpu MHz\s*:\s*([\d.]+)/m.exec(fs.readFileSync('/proc/cpuinfo', 'latin1'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
