import net from 'node:net';

/** Hostile clients against a server: idle connections and bodies trickled a byte at a time. */
export interface HostileClients {
  /** Connections still open (the server has not closed them). */
  open(): number;
  close(): void;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * `idle` connections that never send a byte, and `trickles` POSTs to `path` announcing a 1 KiB
 * body and sending one byte every `trickleMs`.
 */
export async function startHostileClients(
  port: number,
  {
    idle,
    trickles,
    path = '/webhook',
    trickleMs = 1_000,
  }: { idle: number; trickles: number; path?: string; trickleMs?: number },
): Promise<HostileClients> {
  const sockets: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let open = 0;
  const track = (socket: net.Socket): net.Socket => {
    open++;
    socket.on('error', () => undefined);
    socket.on('close', () => open--);
    // Read (and drop) what the server answers, so its closing the connection is seen here.
    socket.resume();
    sockets.push(socket);
    return socket;
  };
  for (let i = 0; i < idle; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, idle - i) }, () => connect(port)));
    batch.forEach(track);
  }
  for (let i = 0; i < trickles; i++) {
    const socket = track(await connect(port));
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1024\r\n\r\n{`,
    );
    timers.push(setInterval(() => socket.writable && socket.write(' '), trickleMs));
  }
  return {
    open: () => open,
    close() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
    },
  };
}
