import { createServer, connect, type Socket, type Server } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/**
 * A TCP forwarder in front of a real Postgres or Redis that a test can cut and restore, to
 * see what clients of Gatehouse get while a backend is down, and that it recovers.
 */
export interface TcpProxy {
  port: number;
  /** Closes every connection and refuses new ones (the backend is down). */
  cut(): void;
  restore(): void;
  /**
   * A partition: connections stay open and new ones are accepted, but no byte goes either way
   * until thaw(), which delivers what was held back (as TCP retransmission would).
   */
  freeze(): void;
  thaw(): void;
  /**
   * The open connections go silent, as a NAT or load balancer that forgot an idle flow leaves
   * them: the backend's side is closed, the client's stays open and hears nothing more, not even
   * a close. New connections pass as before.
   */
  forget(): void;
  close(): Promise<void>;
}

/**
 * `targetPort` may be a function, read at each connection, for a server that must know the
 * proxy's port before it starts (a Gatehouse whose ISSUER is the proxy's URL).
 */
export async function startTcpProxy(targetHost: string, targetPort: number | (() => number)): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const forgotten = new WeakSet<Socket>();
  let down = false;
  let frozen = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(typeof targetPort === 'number' ? targetPort : targetPort(), targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    if (frozen) for (const socket of [client, upstream]) socket.pause();
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on('close', () => {
      if (!forgotten.has(client)) client.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore: () => {
      down = false;
    },
    freeze: () => {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw: () => {
      frozen = false;
      for (const socket of sockets) socket.resume();
    },
    forget: () => {
      for (const { client, upstream } of pairs) {
        forgotten.add(client);
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Still read, so the client's writes are taken and go nowhere.
        client.resume();
        upstream.destroy();
      }
      pairs.clear();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379 };

/** A proxy in front of the Postgres or Redis at `url`, and that URL (password, database and all) through the proxy. */
export async function proxyInFront(url: string): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || DEFAULT_PORTS[target.protocol]));
  target.host = `127.0.0.1:${proxy.port}`;
  return { proxy, url: target.toString() };
}
