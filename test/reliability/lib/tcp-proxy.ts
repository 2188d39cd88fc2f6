/**
 * A TCP proxy the test controls, put between item-sync and RabbitMQ (or Postgres): it forwards
 * bytes both ways, and on demand resets every open connection (`drop()`) or refuses new ones for
 * a while (`refuse(ms)`), so a test can cut the service's connection without stopping the server.
 */
import type { Socket, TCPSocketListener } from "bun";

interface Side {
  peer: Socket<Side> | null;
  pending: Uint8Array[]; // bytes for the peer not yet accepted by the kernel
  other: Side | null;
}

function flush(to: Socket<Side>, queue: Uint8Array[]) {
  while (queue.length > 0) {
    const chunk = queue[0] as Uint8Array;
    const n = to.write(chunk);
    if (n === chunk.length) queue.shift();
    else {
      queue[0] = chunk.subarray(Math.max(0, n));
      return;
    }
  }
}

export interface TcpProxy {
  port: number;
  /** Resets every open connection at once. */
  drop(): number;
  /** Refuses (closes at once) new connections for `ms`. */
  refuse(ms: number): void;
  connections(): number;
  drops: number;
  close(): void;
}

export function startTcpProxy(upstreamHost: string, upstreamPort: number): TcpProxy {
  const open = new Set<Socket<Side>>();
  let refuseUntil = 0;
  const proxy: TcpProxy = {
    port: 0,
    drops: 0,
    drop() {
      const n = open.size;
      for (const s of open) s.terminate();
      open.clear();
      proxy.drops += n;
      return n;
    },
    refuse(ms) {
      refuseUntil = Date.now() + ms;
    },
    connections: () => open.size,
    close() {
      proxy.drop();
      listener.stop(true);
    },
  };
  const forward = (from: Side, data: Uint8Array) => {
    const target = from.other?.peer ?? null;
    const queue = from.other?.pending;
    if (!queue) return;
    queue.push(new Uint8Array(data)); // the buffer is reused by Bun after the callback
    if (target) flush(target, queue);
  };
  const listener: TCPSocketListener<Side> = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        if (Date.now() < refuseUntil) {
          client.terminate();
          return;
        }
        const clientSide: Side = { peer: client, pending: [], other: null };
        const upstreamSide: Side = { peer: null, pending: [], other: clientSide };
        clientSide.other = upstreamSide;
        client.data = clientSide;
        open.add(client);
        Bun.connect<Side>({
          hostname: upstreamHost,
          port: upstreamPort,
          data: upstreamSide,
          socket: {
            open(up) {
              upstreamSide.peer = up;
              open.add(up);
              flush(up, upstreamSide.pending);
            },
            data(up, chunk) {
              forward(up.data, chunk);
            },
            drain(up) {
              flush(up, up.data.pending);
            },
            close(up) {
              open.delete(up);
              client.end();
            },
            error(up) {
              open.delete(up);
              client.terminate();
            },
          },
        }).catch(() => client.terminate());
      },
      data(client, chunk) {
        forward(client.data, chunk);
      },
      drain(client) {
        flush(client, client.data.pending);
      },
      close(client) {
        open.delete(client);
        client.data?.other?.peer?.end();
      },
      error(client) {
        open.delete(client);
        client.data?.other?.peer?.terminate();
      },
    },
  });
  proxy.port = listener.port;
  return proxy;
}
