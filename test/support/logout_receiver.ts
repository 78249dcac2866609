import { listen } from './listen.ts';

/** An application's back-channel logout endpoint (OIDC Back-Channel Logout 1.0 §2.5). */
export interface LogoutReceiver {
  /** The URI to register with --backchannel-logout-uri. */
  uri: string;
  /** Every logout_token posted to it, in order. */
  tokens: string[];
  close(): Promise<void>;
}

/** `ok` answers 200 as the spec asks; `error` answers 500; `hang` never answers. */
export async function startLogoutReceiver(behaviour: 'ok' | 'error' | 'hang' = 'ok'): Promise<LogoutReceiver> {
  const tokens: string[] = [];
  const http = await listen(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token');
    if (req.method === 'POST' && req.headers['content-type'] === 'application/x-www-form-urlencoded' && token) tokens.push(token);
    if (behaviour === 'hang') return;
    res.writeHead(behaviour === 'ok' ? 200 : 500, { 'cache-control': 'no-store' }).end();
  });
  return { uri: `${http.url}/backchannel-logout`, tokens, close: http.close };
}
