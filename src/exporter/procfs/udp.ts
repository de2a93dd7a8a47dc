/** /proc/net/udp and udp6: the bytes queued for sending and receiving, summed over the sockets. */
export function parseUdpQueues(text: string): { tx: number; rx: number } {
  let tx = 0;
  let rx = 0;
  for (const line of text.split('\n').slice(1)) {
    const queues = line.trim().split(/\s+/)[4];
    if (queues === undefined) continue;
    const [txHex, rxHex] = queues.split(':');
    if (rxHex === undefined) throw new Error(`udp: unexpected queue column ${JSON.stringify(queues)}`);
    tx += parseInt(txHex, 16);
    rx += parseInt(rxHex, 16);
  }
  return { tx, rx };
}
