import * as oidc from 'openid-client';
import { UserAgent, page } from './user_agent.ts';

export { oidc };

/** An application signing people in through Gatehouse, built on openid-client. */
export interface RelyingParty {
  config: oidc.Configuration;
  redirectUri: string;
  /** A fresh authorization request (PKCE S256 and state), ready for a browser to open. */
  begin(params?: Record<string, string>): Promise<{ url: string; verifier: string; state: string }>;
  /** Redeems the code the browser came back with. */
  finish(callbackUrl: string, request: { verifier: string; state: string }): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>;
}

/** A person signs in at Gatehouse in a fresh browser (consent skipped) and the application redeems the code. */
export async function signInTokens(rp: RelyingParty, username: string, password: string, scope: string): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const request = await rp.begin({ scope });
  const callback = await new UserAgent(rp.redirectUri).signIn(request.url, username, password);
  if (callback.kind !== 'callback') throw new Error(page(callback).html);
  return rp.finish(callback.url, request);
}

export async function relyingParty(issuer: string, client: { client_id: string; client_secret?: string | undefined }, redirectUri: string): Promise<RelyingParty> {
  const config = await oidc.discovery(
    new URL(issuer),
    client.client_id,
    client.client_secret,
    client.client_secret ? undefined : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
  return {
    config,
    redirectUri,
    async begin(params = {}) {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        ...params,
      });
      return { url: url.href, verifier, state };
    },
    finish: (callbackUrl, request) =>
      oidc.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier: request.verifier, expectedState: request.state }),
  };
}
