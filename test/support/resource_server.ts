import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { listen, type Listening } from './listen.ts';

export interface ResourceServer extends Listening {
  /** GET with a bearer token: 200 and what the server learnt of the token, or its refusal. */
  call(path: string, accessToken: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

/**
 * An API as a third party would write it against any OIDC provider: opaque tokens through
 * openid-client's RFC 7662 introspection (the API is a registered client), JWTs with jose against
 * the issuer's published keys. It answers what it sees: active, scope, sub, client_id.
 */
export async function startResourceServer(issuer: string, credentials: { client_id: string; client_secret: string }): Promise<ResourceServer> {
  const config = await oidc.discovery(new URL(issuer), credentials.client_id, credentials.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const keys = createRemoteJWKSet(new URL(String(config.serverMetadata().jwks_uri)));
  const inspect = async (token: string): Promise<Record<string, unknown>> => {
    if (token.split('.').length === 3) {
      const verified = await jwtVerify(token, keys, { issuer, audience: issuer, typ: 'at+jwt' }).catch(() => undefined);
      return verified ? { active: true, ...verified.payload } : { active: false };
    }
    return { ...(await oidc.tokenIntrospection(config, token, { token_type_hint: 'access_token' })) };
  };
  const server = await listen((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const answer = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!token) return answer(401, { error: 'invalid_token' });
    inspect(token).then(
      (seen) => (seen.active === true ? answer(200, { scope: seen.scope, sub: seen.sub, client_id: seen.client_id }) : answer(401, { error: 'invalid_token' })),
      (error: unknown) => answer(502, { error: String(error) }),
    );
  });
  return {
    ...server,
    async call(path, accessToken) {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
}
