import net from 'node:net';
import {
  decodeFrame,
  encodeSenderRequest,
  parseSenderResponse,
  type SenderResult,
  type ZabbixValue,
} from './zabbix';

export interface SenderTarget {
  host: string;
  port: number;
  timeoutMs: number;
}

/**
 * One exchange with a Zabbix server or proxy trapper: connect, send the frame, read the one answer
 * frame. Rejects on refusal, timeout, abort or an answer that is not a sender answer.
 */
export function sendValues(
  target: SenderTarget,
  values: readonly ZabbixValue[],
  signal?: AbortSignal,
  now = Date.now(),
): Promise<SenderResult> {
  const request = encodeSenderRequest(values, {
    clock: Math.floor(now / 1000),
    ns: (now % 1000) * 1_000_000,
  });
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: target.host, port: target.port });
    const finish = (err: Error | undefined, result?: SenderResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const onAbort = (): void => finish(new Error('aborted by shutdown'));
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${target.timeoutMs} ms`)),
      target.timeoutMs,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const answer = decodeFrame(received);
        if (answer) finish(undefined, parseSenderResponse(answer.json));
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('end', () => finish(new Error('connection closed before a complete answer')));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(new Error(err.code ?? err.message)));
  });
}
