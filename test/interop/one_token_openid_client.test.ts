import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { startResourceServer, type ResourceServer } from '../support/resource_server.ts';
import { introspect } from '../support/http.ts';
import { addGroupMember } from '../../src/admin/account_commands.ts';
import { defineScope } from '../../src/admin/scope_commands.ts';

/**
 * An SSO application (openid-client) asks for OIDC and API scopes at once and uses the one
 * access token it gets for userinfo and for an API that checks tokens the way any resource
 * server would (introspection, or the JWKS for JWTs).
 */
const CB = 'https://portal.example.edu/cb';
const SCOPES = 'openid profile email offline_access read auth-cas grades';
let gh: RunningGatehouse;
let api: RegisteredClient;
let rs: ResourceServer;
let portal: RelyingParty;
let jwtPortal: RelyingParty;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  await defineScope('grades', { group: 'registrar', description: 'See and change your grades' }, 'auth-cas')(db);
  await createPerson(db, { username: 'alice', password: 'alice password', email: 'alice@example.edu', name: 'Alice Liddell' });
  await addGroupMember('registrar', 'alice')(db);
  api = await registerClient(db, { name: 'Grades API', kind: 'resource-server' });
  rs = await startResourceServer(gh.url, api);
  const web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], scopes: SCOPES, consent: 'skip' });
  const jwtWeb = await registerClient(db, { name: 'JWT Portal', kind: 'web', 'redirect-uri': [CB], scopes: SCOPES, consent: 'skip', 'access-token-format': 'jwt' });
  portal = await relyingParty(gh.url, web, CB);
  jwtPortal = await relyingParty(gh.url, jwtWeb, CB);
});
afterAll(async () => {
  await rs?.close();
  await gh?.close();
});

async function signIn(rp: RelyingParty, scope: string, tokenParams: Record<string, string> = {}) {
  const request = await rp.begin({ scope, prompt: 'consent' });
  const callback = await new UserAgent(CB).signIn(request.url, 'alice', 'alice password');
  if (callback.kind !== 'callback') throw new Error(page(callback).html);
  return oidc.authorizationCodeGrant(rp.config, new URL(callback.url), { pkceCodeVerifier: request.verifier, expectedState: request.state }, tokenParams);
}

const userinfo = (rp: RelyingParty, accessToken: string) => oidc.fetchUserInfo(rp.config, accessToken, oidc.skipSubjectCheck);

/** The error userinfo's WWW-Authenticate challenge names (RFC 6750 §3), as openid-client reports it. */
async function userinfoRefusal(rp: RelyingParty, accessToken: string): Promise<{ status: number; error: string | undefined }> {
  const refusal = await userinfo(rp, accessToken).then(() => undefined, (error: unknown) => error as oidc.WWWAuthenticateChallengeError);
  return { status: refusal?.status ?? 200, error: refusal?.cause?.[0]?.parameters.error };
}

test('openid profile email offline_access read: one token for userinfo and the API, before and after a refresh', async () => {
  const started = performance.now();
  const tokens = await signIn(portal, 'openid profile email offline_access read');
  const flowMs = performance.now() - started;
  expect(tokens.scope).toBe('openid profile email offline_access read');
  expect(await userinfo(portal, tokens.access_token)).toMatchObject({ email: 'alice@example.edu', name: 'Alice Liddell' });
  expect(await rs.call('/courses', tokens.access_token)).toEqual({ status: 200, body: { scope: 'openid profile email offline_access read', sub: tokens.claims()!.sub, client_id: portal.config.clientMetadata().client_id } });

  const refreshed = await oidc.refreshTokenGrant(portal.config, tokens.refresh_token!);
  expect(refreshed.scope).toBe('openid profile email offline_access read');
  expect(await userinfo(portal, refreshed.access_token)).toMatchObject({ email: 'alice@example.edu' });
  expect((await rs.call('/courses', refreshed.access_token)).body.scope).toBe('openid profile email offline_access read');
  process.stdout.write(`openid-client sign-in to tokens: ${flowMs.toFixed(0)} ms\n`);
});

test('with the login scope and an enterprise scope, the same token still opens userinfo', async () => {
  const tokens = await signIn(portal, 'openid email auth-cas grades');
  expect(tokens.scope).toBe('openid email auth-cas grades');
  expect(await userinfo(portal, tokens.access_token)).toEqual({ sub: tokens.claims()!.sub, email: 'alice@example.edu', email_verified: true });
  expect((await rs.call('/grades', tokens.access_token)).body.scope).toBe('openid email auth-cas grades');
});

test('a JWT client gets one JWT: it verifies against /jwks with every scope, and userinfo accepts it', async () => {
  const tokens = await signIn(jwtPortal, 'openid profile offline_access read');
  const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${gh.url}/jwks`)), { issuer: gh.url, audience: gh.url, typ: 'at+jwt' });
  expect(payload.scope).toBe('openid profile offline_access read');
  expect(await userinfo(jwtPortal, tokens.access_token)).toMatchObject({ name: 'Alice Liddell', sub: tokens.claims()!.sub });
  expect((await rs.call('/courses', tokens.access_token)).body.scope).toBe('openid profile offline_access read');

  const refreshed = await oidc.refreshTokenGrant(jwtPortal.config, tokens.refresh_token!);
  expect(await userinfo(jwtPortal, refreshed.access_token)).toMatchObject({ name: 'Alice Liddell' });

  // Revoking the refresh token ends the grant: the JWT stays valid at the API until it expires
  // (minutes), but userinfo, which checks the grant, refuses it at once, and still after the
  // person has signed in again (a new grant is not the one the token was issued under).
  await oidc.tokenRevocation(jwtPortal.config, refreshed.refresh_token!);
  expect(await userinfoRefusal(jwtPortal, refreshed.access_token)).toEqual({ status: 401, error: 'invalid_token' });
  const again = await signIn(jwtPortal, 'openid profile read');
  expect(await userinfo(jwtPortal, again.access_token)).toMatchObject({ name: 'Alice Liddell' });
  expect(await userinfoRefusal(jwtPortal, refreshed.access_token)).toEqual({ status: 401, error: 'invalid_token' });
});

test('a DPoP-bound JWT opens userinfo only with its proof', async () => {
  const DPoP = oidc.getDPoPHandle(jwtPortal.config, await oidc.randomDPoPKeyPair());
  const request = await jwtPortal.begin({ scope: 'openid profile read' });
  const callback = await new UserAgent(CB).signIn(request.url, 'alice', 'alice password');
  const tokens = await oidc.authorizationCodeGrant(jwtPortal.config, new URL(callback.url), { pkceCodeVerifier: request.verifier, expectedState: request.state }, undefined, { DPoP });
  expect(tokens.token_type).toBe('dpop');
  expect(await oidc.fetchUserInfo(jwtPortal.config, tokens.access_token, oidc.skipSubjectCheck, { DPoP })).toMatchObject({ name: 'Alice Liddell' });
  const stolen = await fetch(`${gh.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  expect(stolen.status).toBe(401);
  expect(stolen.headers.get('www-authenticate')).toContain('invalid_token');
});

test('a forged or foreign JWT is refused at userinfo', async () => {
  const tokens = await signIn(jwtPortal, 'openid profile read');
  const [header, body] = tokens.access_token.split('.');
  const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
  const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'openid profile email' })).toString('base64url')}.${tokens.access_token.split('.')[2]}`;
  expect(await userinfoRefusal(jwtPortal, tampered)).toEqual({ status: 401, error: 'invalid_token' });
});

test('a token request naming the resource explicitly gets a token narrowed to the API (RFC 8707)', async () => {
  const tokens = await signIn(portal, 'openid profile read', { resource: gh.url });
  expect(tokens.scope).toBe('read');
  expect((await rs.call('/courses', tokens.access_token)).body.scope).toBe('read');
  expect(await userinfoRefusal(portal, tokens.access_token)).toEqual({ status: 403, error: 'insufficient_scope' });
  expect((await introspect(gh.url, tokens.access_token, api)).body).toMatchObject({ active: true, scope: 'read', aud: gh.url });
});
