/** The column names of /proc/net/dev, as node_exporter names its metrics after them. */
export const NET_DEV_COLUMNS = [
  'receive_bytes',
  'receive_packets',
  'receive_errs',
  'receive_drop',
  'receive_fifo',
  'receive_frame',
  'receive_compressed',
  'receive_multicast',
  'transmit_bytes',
  'transmit_packets',
  'transmit_errs',
  'transmit_drop',
  'transmit_fifo',
  'transmit_colls',
  'transmit_carrier',
  'transmit_compressed',
] as const;

export interface NetDevice {
  readonly device: string;
  /** In NET_DEV_COLUMNS order. */
  readonly values: number[];
}

/** Parses /proc/net/dev. */
export function parseNetDev(text: string): NetDevice[] {
  const devices: NetDevice[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const values = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (values.length < NET_DEV_COLUMNS.length) continue;
    devices.push({ device: line.slice(0, colon).trim(), values: values.slice(0, NET_DEV_COLUMNS.length) });
  }
  return devices;
}
