import { listen } from './listen.ts';

/**
 * The relying party's own web server: it receives the browser at its redirect URI, by redirect
 * (GET) or by form post (response_mode=form_post), and keeps what each POST carried.
 */
export interface CallbackServer {
  origin: string;
  /** The form of each POST received, in order. */
  posts: URLSearchParams[];
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  const posts: URLSearchParams[] = [];
  const http = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST') posts.push(new URLSearchParams(Buffer.concat(chunks).toString()));
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Portal</title><p>Back at the portal.</p>');
    });
  });
  return { origin: http.url, posts, close: http.close };
}
