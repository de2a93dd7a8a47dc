/** The numeric attributes of /sys/class/net/<device>/ as node_exporter's netclass collector names them. */
export const NETCLASS_PROPERTIES = [
  { file: 'addr_assign_type', metric: 'address_assign_type', type: 'gauge' },
  { file: 'carrier', metric: 'carrier', type: 'gauge' },
  { file: 'carrier_changes', metric: 'carrier_changes_total', type: 'counter' },
  { file: 'carrier_up_count', metric: 'carrier_up_changes_total', type: 'counter' },
  { file: 'carrier_down_count', metric: 'carrier_down_changes_total', type: 'counter' },
  { file: 'dev_id', metric: 'device_id', type: 'gauge' },
  { file: 'dormant', metric: 'dormant', type: 'gauge' },
  { file: 'flags', metric: 'flags', type: 'gauge' },
  { file: 'ifindex', metric: 'iface_id', type: 'gauge' },
  { file: 'iflink', metric: 'iface_link', type: 'gauge' },
  { file: 'link_mode', metric: 'iface_link_mode', type: 'gauge' },
  { file: 'mtu', metric: 'mtu_bytes', type: 'gauge' },
  { file: 'name_assign_type', metric: 'name_assign_type', type: 'gauge' },
  { file: 'netdev_group', metric: 'net_dev_group', type: 'gauge' },
  { file: 'speed', metric: 'speed_bytes', type: 'gauge' },
  { file: 'tx_queue_len', metric: 'transmit_queue_length', type: 'gauge' },
  { file: 'type', metric: 'protocol_type', type: 'gauge' },
] as const;

export interface NetClassDevice {
  readonly address: string;
  readonly broadcast: string;
  readonly duplex: string;
  readonly ifalias: string;
  readonly operstate: string;
  /** By metric name; an attribute that could not be read or parsed is absent. */
  readonly values: Partial<Record<string, number>>;
}

/**
 * Interprets one device's attributes, given a reader returning a file's content or undefined.
 * `flags` is hexadecimal; `speed` is in Mbit/s and becomes bytes per second.
 */
export function readNetClassDevice(read: (file: string) => string | undefined): NetClassDevice {
  const text = (file: string): string => read(file)?.trim() ?? '';
  const values: Record<string, number> = {};
  for (const { file, metric } of NETCLASS_PROPERTIES) {
    const raw = read(file)?.trim();
    if (raw === undefined || raw === '') continue;
    const value = file === 'flags' ? parseInt(raw, 16) : Number(raw);
    if (Number.isNaN(value)) continue;
    values[metric] = file === 'speed' ? (value * 1000 * 1000) / 8 : value;
  }
  return {
    address: text('address'),
    broadcast: text('broadcast'),
    duplex: text('duplex'),
    ifalias: text('ifalias'),
    operstate: text('operstate'),
    values,
  };
}
