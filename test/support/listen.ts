import { createServer, type RequestListener } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface Listening {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Hands requests to the app (for an app that needs its own URL, its issuer, to be built). */
  serve(listener: RequestListener): void;
  close(): Promise<void>;
}

/** An HTTP server on a free port of 127.0.0.1: Gatehouse, or a test double of a system it talks to. */
export async function listen(listener?: RequestListener): Promise<Listening> {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (app) => server.on('request', app),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port nothing listens on right now, for a server that cannot be told to pick one itself (Apache, a child process). */
export async function freePort(): Promise<number> {
  const probe = await listen();
  await probe.close();
  return Number(new URL(probe.url).port);
}
