import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listen } from './listen.ts';

const PAGE = fileURLToPath(new URL('spa/index.html', import.meta.url));
const SCRIPT = fileURLToPath(new URL('spa/app.js', import.meta.url));
// oidc-client-ts's own browser build (an IIFE defining the global `oidc`), as the package ships it.
const LIBRARY = join(dirname(createRequire(import.meta.url).resolve('oidc-client-ts/package.json')), 'dist/browser/oidc-client-ts.min.js');

export interface Spa {
  /** http://localhost:PORT: another site than Gatehouse's 127.0.0.1, as a real SPA would be. */
  origin: string;
  /** Starts serving the app, signing in at `authority` as `clientId` (registered for `origin`). */
  signInAt(authority: string, clientId: string): void;
  close(): Promise<void>;
}

/**
 * The web server of a single-page application (test/support/spa/) that signs in with
 * oidc-client-ts. Every path but its files is the page itself, which routes on
 * location.pathname (/callback, /signed-out), as a SPA's server does.
 */
export async function startSpa(): Promise<Spa> {
  const [page, script, library] = await Promise.all([readFile(PAGE), readFile(SCRIPT), readFile(LIBRARY)]);
  const http = await listen();
  return {
    origin: http.url.replace('127.0.0.1', 'localhost'),
    signInAt: (authority, clientId) => {
      const files: Record<string, [type: string, body: string | Buffer]> = {
        '/app.js': ['text/javascript', script],
        '/oidc-client-ts.min.js': ['text/javascript', library],
        '/config.json': ['application/json', JSON.stringify({ authority, clientId })],
      };
      http.serve((req, res) => {
        const [type, body] = files[new URL(req.url ?? '/', 'http://spa').pathname] ?? ['text/html', page];
        res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
      });
    },
    close: http.close,
  };
}
