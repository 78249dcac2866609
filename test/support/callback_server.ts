import { listen } from './listen.ts';

/** The relying party's own web server: it receives the browser at its redirect URI. */
export async function startCallbackServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const http = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Portal</title><p>Back at the portal.</p>');
  });
  return { origin: http.url, close: http.close };
}
