import type { RegisteredClient } from './clients.ts';
import { basic, introspect, postForm, type JsonResponse } from './http.ts';
import type { RelyingParty } from './relying_party.ts';
import type { Step, UserAgent } from './user_agent.ts';

/** What a web application holds after a sign-in: the code and the token request that redeems it. */
export interface IssuedCode {
  code: string;
  /** The authorization_code grant's form (with the PKCE verifier). */
  form: Record<string, string>;
}

/**
 * Opens an authorization request (openid offline_access: a refresh token comes with the code) in
 * the browser; signs in with `credentials` when the login page shows. Without credentials the
 * browser's session must be enough: a login page then fails the test.
 */
export async function authorizationCode(rp: RelyingParty, browser: UserAgent, credentials?: { username: string; password: string }): Promise<IssuedCode> {
  const request = await rp.begin({ scope: 'openid offline_access', prompt: 'consent' });
  let step: Step = await browser.open(request.url);
  if (step.kind === 'page' && credentials) step = await browser.submit(step, '/login', credentials);
  if (step.kind !== 'callback') throw new Error(`expected the callback, got the page ${step.url}:\n${step.html.slice(0, 300)}`);
  const code = new URL(step.url).searchParams.get('code');
  if (!code) throw new Error(`no code in ${step.url}`);
  return { code, form: { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: request.verifier } };
}

/** A confidential client's request at the token endpoint of `issuer` (any grant). */
export function tokenRequest(issuer: string, client: RegisteredClient, form: Record<string, string>): Promise<JsonResponse> {
  return postForm(`${issuer}/token`, form, basic(client.client_id, client.client_secret));
}

/** RFC 7009 revocation by the client the token was issued to. */
export function revoke(issuer: string, client: RegisteredClient, token: string, hint: 'access_token' | 'refresh_token'): Promise<JsonResponse> {
  return postForm(`${issuer}/token/revocation`, { token, token_type_hint: hint }, basic(client.client_id, client.client_secret));
}

/** Whether a resource server is told the token is active. */
export async function isActive(issuer: string, token: string, resourceServer: RegisteredClient): Promise<boolean> {
  const answer = await introspect(issuer, token, resourceServer);
  if (answer.status !== 200) throw new Error(`introspection answered ${answer.status}: ${answer.text}`);
  return answer.body.active === true;
}
