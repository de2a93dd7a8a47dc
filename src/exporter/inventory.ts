import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

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

interface SiFacts {
  cpu: {
    manufacturer: string;
    brand: string;
    speed: number;
    cores: number;
    physicalCores: number;
    cache?: { l2?: number };
  };
  totalMemory: number;
}

// Runs in a short-lived child: systeminformation costs ~10 MiB of resident memory once loaded and
// spawns helper processes (lscpu, dmidecode), neither of which the exporter should keep for a
// one-off reading.
const SI_SCRIPT = `
const si = require(process.argv[1]);
Promise.all([si.cpu(), si.mem()]).then(([cpu, mem]) => {
  process.stdout.write(JSON.stringify({ cpu, totalMemory: mem.total }));
});`;

function readSiFacts(): Promise<SiFacts> {
  const siPath = require.resolve('systeminformation');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', SI_SCRIPT, siPath], { timeout: 30_000 }, (err, stdout) => {
      if (err) reject(new Error(`reading the host inventory failed: ${err.message.split('\n')[0]}`));
      else resolve(JSON.parse(stdout) as SiFacts);
    });
  });
}

/** Reads the inventory through systeminformation, once, at start. */
export async function readInventory(): Promise<Inventory> {
  const { cpu, totalMemory } = await readSiFacts();
  const osCpus = os.cpus();
  const mhz = cpu.speed > 0 ? cpu.speed * 1000 : osCpus[0]?.speed || cpuinfoMhz();
  return {
    hostname: os.hostname(),
    cpuModel: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ') || osCpus[0]?.model || '',
    cpuCores: cpu.cores || osCpus.length,
    cpuPhysicalCores: cpu.physicalCores || cpu.cores || osCpus.length,
    cpuMhz: mhz > 0 ? Math.round(mhz) : undefined,
    l2CacheBytes: cpu.cache?.l2 || undefined,
    memoryBytes: totalMemory || os.totalmem(),
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
