import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { basic, introspect, postForm, toJson } from '../support/http.ts';

/**
 * What Gatehouse offers is what the README says: discovery and the README's Endpoints section
 * name the same metadata, and the two optional features it keeps on (PAR and DPoP) work.
 */
const CB = 'https://portal.example.edu/cb';
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const ENDPOINTS_SECTION = README.slice(README.indexOf('\n## Endpoints\n'), README.indexOf('\n## ', README.indexOf('\n## Endpoints\n') + 1));

let gh: RunningGatehouse;
let discovery: Record<string, unknown>;
let web: RegisteredClient;
let job: RegisteredClient;
let api: RegisteredClient;
let portal: RelyingParty;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  await createPerson(db, { username: 'alice', password: 'alice password', email: 'alice@example.edu' });
  web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], scopes: 'openid email read', consent: 'skip' });
  job = await registerClient(db, { name: 'Job', kind: 'server', scopes: 'read' });
  api = await registerClient(db, { name: 'API', kind: 'resource-server' });
  portal = await relyingParty(gh.url, web, CB);
  discovery = (await toJson(await fetch(`${gh.url}/.well-known/openid-configuration`))).body;
});
afterAll(() => gh.close());

test('discovery advertises exactly the endpoints of the README table', () => {
  const urls = Object.fromEntries(Object.entries(discovery).filter(([key]) => /_(endpoint|uri)$/.test(key)).map(([key, url]) => [key, String(url).replace(gh.url, '')]));
  expect(urls).toEqual({
    authorization_endpoint: '/auth',
    pushed_authorization_request_endpoint: '/request',
    token_endpoint: '/token',
    userinfo_endpoint: '/me',
    end_session_endpoint: '/session/end',
    introspection_endpoint: '/token/introspection',
    revocation_endpoint: '/token/revocation',
    jwks_uri: '/jwks',
    restricted_jwks_uri: '/jwks/restricted',
    registration_endpoint: '/reg',
  });
  const tablePaths = [...ENDPOINTS_SECTION.matchAll(/^\| `(\/[^`]*)`/gm)].map((match) => match[1]);
  for (const path of Object.values(urls)) expect(tablePaths).toContain(path);
});

test('every discovery entry is named in the README, and the README names no other', () => {
  const named = new Set([...ENDPOINTS_SECTION.matchAll(/`([a-z_]+_(?:endpoint|supported)|[a-z_]*jwks_uri|issuer)`/g)].map((match) => match[1]));
  expect([...named].sort()).toEqual(Object.keys(discovery).sort());
});

test('the README table says what discovery says', () => {
  expect(discovery).toMatchObject({
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    dpop_signing_alg_values_supported: ['ES256', 'Ed25519', 'EdDSA'],
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
  });
  // Features oidc-provider has but Gatehouse does not offer answer nothing.
  for (const key of ['device_authorization_endpoint', 'backchannel_authentication_endpoint', 'request_parameter_supported', 'mtls_endpoint_aliases']) {
    expect(discovery).not.toHaveProperty(key);
  }
});

test('PAR: openid-client pushes the request, the browser carries only a request_uri, and the sign-in completes', async () => {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = await oidc.buildAuthorizationUrlWithPAR(portal.config, {
    redirect_uri: CB,
    scope: 'openid email read',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  const callback = await new UserAgent(CB).signIn(url.href, 'alice', 'alice password');
  if (callback.kind !== 'callback') throw new Error(page(callback).html);
  const tokens = await oidc.authorizationCodeGrant(portal.config, new URL(callback.url), { pkceCodeVerifier: verifier, expectedState: state });
  expect(tokens.scope).toBe('openid email read');
  expect(tokens.claims()).toMatchObject({ iss: gh.url, aud: web.client_id });
});

test('PAR applies the client rules and the scope policy of /auth', async () => {
  const push = (params: Record<string, string>, client: RegisteredClient = web) =>
    postForm(`${gh.url}/request`, { response_type: 'code', redirect_uri: CB, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', client_id: client.client_id, ...params }, basic(client.client_id, client.client_secret));
  expect((await push({ scope: 'openid delete' })).body).toMatchObject({ error: 'invalid_scope' });
  expect((await push({ scope: 'openid', redirect_uri: 'https://evil.example/cb' })).body).toEqual({ error: 'invalid_request', error_description: "redirect_uri did not match any of the client's registered redirect_uris" });
  expect((await push({ scope: 'openid' }, { ...web, client_secret: 'wrong' })).status).toBe(401);
  expect((await push({ scope: 'read' }, job)).body).toEqual({ error: 'invalid_request', error_description: 'requested response_type is not allowed for this client' });
});

test('DPoP: a client credentials token bound to the client key introspects as DPoP with its thumbprint', async () => {
  const jobConfig = new oidc.Configuration(portal.config.serverMetadata(), job.client_id, job.client_secret);
  oidc.allowInsecureRequests(jobConfig);
  const keyPair = await oidc.randomDPoPKeyPair();
  const tokens = await oidc.clientCredentialsGrant(jobConfig, { scope: 'read' }, { DPoP: oidc.getDPoPHandle(jobConfig, keyPair) });
  expect(tokens.token_type).toBe('dpop');
  const introspected = (await introspect(gh.url, tokens.access_token, api)).body;
  expect(introspected).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) } });
});
