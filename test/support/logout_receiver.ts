import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
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

/**
 * Checks a logout token as an application must (Back-Channel Logout §2.6): signed with a key of
 * /jwks, typ logout+jwt, from the issuer, for the client, with the logout event and no nonce.
 */
export async function verifyLogoutToken(issuer: string, token: string, clientId: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${issuer}/jwks`)), { issuer, audience: clientId, typ: 'logout+jwt' });
  if (JSON.stringify(payload.events) !== JSON.stringify({ 'http://schemas.openid.net/event/backchannel-logout': {} })) throw new Error(`no logout event: ${JSON.stringify(payload.events)}`);
  if ('nonce' in payload) throw new Error('a logout token must not carry a nonce');
  return payload;
}
