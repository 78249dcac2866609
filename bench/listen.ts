import { createServer, type RequestListener, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** A target under load: where it listens, and how to take it down. */
export interface Target {
  name: string;
  url: string;
  close(): Promise<void>;
}

export interface Listening {
  server: Server;
  url: string;
  /** Hands requests to the app (known only once the URL, its issuer, is). */
  serve(listener: RequestListener): void;
  close(): Promise<void>;
}

/** An HTTP server on a free port of 127.0.0.1, listening before its app exists. */
export async function listen(): Promise<Listening> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (listener) => server.on('request', listener),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
