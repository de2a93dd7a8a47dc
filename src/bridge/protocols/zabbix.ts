/**
 * Zabbix's two ways in for pushed values, as pure functions (the I/O is the zabbix channel's).
 *
 * The sender (trapper) protocol: a frame is `ZBXD`, a flags byte (0x01: Zabbix protocol), a 4-byte
 * little-endian data length and 4 reserved bytes (the uncompressed length when flag 0x02 says the
 * data is zlib-compressed), then the JSON. The server answers with one frame and closes. Its
 * `response` is "success" even when every value failed: what happened is only in `info`
 * ("processed: 1; failed: 1; total: 2; seconds spent: 0.000055").
 *
 * The API's `history.push` (Zabbix 7.0+): JSON-RPC with an API token; the call succeeds as a whole
 * and says per value in `result.data[i]` whether it was taken (`itemid`) or not (`error`).
 */

export interface ZabbixValue {
  host: string;
  key: string;
  value: string;
  /** Unix seconds and nanoseconds of the value (the alert's start or end), not of the sending. */
  clock: number;
  ns: number;
}

const HEADER = Buffer.from('ZBXD', 'ascii');
const FLAG_ZABBIX = 0x01;
const FLAG_COMPRESSED = 0x02;
const HEADER_BYTES = 13;
/** The server refuses larger frames; a notification never comes near it. */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

/** The `sender data` request for these values, framed as zabbix_sender frames it. */
export function encodeSenderRequest(
  values: readonly ZabbixValue[],
  now: { clock: number; ns: number },
): Buffer {
  const json = JSON.stringify({
    request: 'sender data',
    data: values.map((v) => ({ host: v.host, key: v.key, value: v.value, clock: v.clock, ns: v.ns })),
    clock: now.clock,
    ns: now.ns,
  });
  return frame(Buffer.from(json, 'utf8'));
}

export function frame(data: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  HEADER.copy(header, 0);
  header.writeUInt8(FLAG_ZABBIX, 4);
  header.writeUInt32LE(data.length, 5);
  header.writeUInt32LE(0, 9);
  return Buffer.concat([header, data]);
}

/**
 * The JSON text of a complete frame at the start of `buffer`, `undefined` while more bytes are
 * needed. Throws on what is not a Zabbix frame (a TLS-only server, a proxy, an HTTP port).
 */
export function decodeFrame(buffer: Buffer): { json: string; bytes: number } | undefined {
  if (buffer.length < 5) return undefined;
  if (!buffer.subarray(0, 4).equals(HEADER)) {
    throw new Error(
      `not a Zabbix answer (starts with ${JSON.stringify(buffer.subarray(0, 16).toString('latin1'))})`,
    );
  }
  const flags = buffer.readUInt8(4);
  if (flags & FLAG_COMPRESSED) throw new Error('compressed Zabbix answer: not supported');
  if (buffer.length < HEADER_BYTES) return undefined;
  const length = buffer.readUInt32LE(5);
  if (length > MAX_FRAME_BYTES) throw new Error(`Zabbix answer of ${length} bytes: too large`);
  if (buffer.length < HEADER_BYTES + length) return undefined;
  return {
    json: buffer.subarray(HEADER_BYTES, HEADER_BYTES + length).toString('utf8'),
    bytes: HEADER_BYTES + length,
  };
}

export interface SenderResult {
  processed: number;
  failed: number;
  total: number;
  /** The server's `info`, for the status page. */
  info: string;
}

/** Reads the server's answer; throws when it is not a sender answer at all. */
export function parseSenderResponse(json: string): SenderResult {
  let body: { response?: unknown; info?: unknown };
  try {
    body = JSON.parse(json) as typeof body;
  } catch {
    throw new Error(`Zabbix answer is not JSON: ${json.slice(0, 200)}`);
  }
  if (body.response !== 'success') {
    throw new Error(
      `Zabbix answered ${JSON.stringify(body.response)}${typeof body.info === 'string' ? `: ${body.info}` : ''}`,
    );
  }
  const info = typeof body.info === 'string' ? body.info : '';
  const count = (name: string): number | undefined => {
    const match = new RegExp(`${name}:\\s*(\\d+)`).exec(info);
    return match ? Number(match[1]) : undefined;
  };
  const processed = count('processed');
  const failed = count('failed');
  const total = count('total');
  if (processed === undefined || failed === undefined || total === undefined) {
    throw new Error(`Zabbix answer without counts: ${JSON.stringify(info)}`);
  }
  return { processed, failed, total, info };
}

/** The `history.push` JSON-RPC request body. */
export function historyPushRequest(values: readonly ZabbixValue[], id: number): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    method: 'history.push',
    params: values.map((v) => ({ host: v.host, key: v.key, value: v.value, clock: v.clock, ns: v.ns })),
    id,
  });
}

export type PushOutcome = { ok: true } | { ok: false; error: string };

/**
 * Per value: taken or why not. A JSON-RPC `error` (bad token, no permission, no such method before
 * 7.0) is the whole call's and throws with `permanent` telling whether retrying can help.
 */
export function parseHistoryPushResponse(json: string, count: number): PushOutcome[] {
  let body: {
    result?: { response?: unknown; data?: Array<{ itemid?: unknown; error?: unknown }> };
    error?: { code?: number; message?: string; data?: string };
  };
  try {
    body = JSON.parse(json) as typeof body;
  } catch {
    throw new ApiError(`Zabbix API answer is not JSON: ${json.slice(0, 200)}`, false);
  }
  if (body.error) {
    const text = [body.error.message, body.error.data].filter(Boolean).join(' ');
    // -32500 is the server's own failure (database down, server unreachable); the rest are ours.
    throw new ApiError(`Zabbix API: ${text}`, body.error.code !== -32500);
  }
  const data = body.result?.data;
  if (!Array.isArray(data) || data.length !== count) {
    throw new ApiError(
      `Zabbix API: history.push answered ${data?.length ?? 'no'} results for ${count} values`,
      false,
    );
  }
  return data.map((entry) =>
    typeof entry.error === 'string' ? { ok: false, error: entry.error } : { ok: true },
  );
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
