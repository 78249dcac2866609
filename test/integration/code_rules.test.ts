import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, type Step } from '../support/user_agent.ts';
import { basic, clientCredentials, introspect as introspectAt, postForm } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';
import { storedId } from '../../src/storage/digested_ids.ts';
import type { Adapter } from 'oidc-provider';

const WEB_CB = 'https://portal.example.edu/cb';
const SPA_ORIGIN = 'https://spa.example.edu';
const SPA_CB = `${SPA_ORIGIN}/callback`;
let gh: RunningGatehouse;
let web: RegisteredClient;
let spa: { client_id: string };
let api: RegisteredClient;
let portal: RelyingParty;
let app: RelyingParty;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [WEB_CB], scopes: 'openid profile offline_access', consent: 'skip' });
  spa = await registerClient(db, { name: 'Course app', kind: 'spa', 'redirect-uri': [SPA_CB], scopes: 'openid profile offline_access', consent: 'skip' });
  api = await registerClient(db, { name: 'API', kind: 'resource-server' });
  await createPerson(db, { username: 'alice', password: 'correct horse battery' });
  portal = await relyingParty(gh.url, web, WEB_CB);
  app = await relyingParty(gh.url, spa, SPA_CB);
});
afterAll(() => gh.close());

async function signInTo(url: string, callbackPrefix: string): Promise<Step> {
  const browser = new UserAgent(callbackPrefix);
  const login = await browser.open(url);
  if (login.kind !== 'page') return login;
  return browser.submit(login, '/login', { username: 'alice', password: 'correct horse battery' });
}

/** A code obtained through a real sign-in, and the form that redeems it at the token endpoint. */
async function codeFor(rp: RelyingParty, params: Record<string, string> = {}) {
  const request = await rp.begin(params);
  const callback = await signInTo(request.url, rp.redirectUri);
  if (callback.kind !== 'callback') throw new Error(`expected the callback, got a page: ${callback.html.slice(0, 500)}`);
  const code = new URL(callback.url).searchParams.get('code')!;
  return { request, callback: callback.url, code, form: { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: request.verifier } };
}

const introspect = async (token: string) => (await introspectAt(gh.url, token, api)).body;

describe('PKCE and redirect URIs', () => {
  test('a public client without PKCE is refused (invalid_request), and plain is not a method', async () => {
    for (const params of [{ code_challenge: '', code_challenge_method: '' }, { code_challenge_method: 'plain' }]) {
      const request = await app.begin({ scope: 'openid' });
      const url = new URL(request.url);
      for (const [key, value] of Object.entries(params)) {
        if (value) url.searchParams.set(key, value);
        else url.searchParams.delete(key);
      }
      const step = await new UserAgent(SPA_CB).open(url.href);
      expect(step.kind).toBe('callback');
      expect(new URL(step.url).searchParams.get('error')).toBe('invalid_request');
    }
  });

  test('the code_verifier must match the challenge', async () => {
    const { form } = await codeFor(app, { scope: 'openid' });
    const response = await postForm(`${gh.url}/token`, { ...form, client_id: spa.client_id, code_verifier: oidc.randomPKCECodeVerifier() });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_grant');
  });

  test.each([
    ['a trailing slash', `${WEB_CB}/`],
    ['an added query', `${WEB_CB}?next=/admin`],
    ['another host', 'https://evil.example/cb'],
    ['another scheme', 'http://portal.example.edu/cb'],
  ])('a redirect_uri with %s gets an error page on the provider, never a redirect', async (_label, redirectUri) => {
    const request = await portal.begin({ redirect_uri: redirectUri });
    const response = await fetch(request.url, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('invalid_redirect_uri');
  });

  test('redirect_uri is required even when the client registered only one', async () => {
    const url = new URL((await portal.begin()).url);
    url.searchParams.delete('redirect_uri');
    const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  test.each(['token', 'id_token', 'code id_token', 'code token'])('response_type=%s (implicit or hybrid) is refused', async (responseType) => {
    const request = await portal.begin({ response_type: responseType, nonce: 'n' });
    const step = await new UserAgent(WEB_CB).open(request.url);
    expect(step.kind).toBe('callback');
    // An implicit response type defaults to the fragment response mode; the error comes back there.
    const { searchParams, hash } = new URL(step.url);
    const error = searchParams.get('error') ?? new URLSearchParams(hash.slice(1)).get('error');
    expect(error).toBe('unsupported_response_type');
    expect(hash).not.toContain('access_token');
  });
});

describe('authorization codes are single-use', () => {
  test('a code redeemed twice fails the second time and revokes what the first gave', async () => {
    const { form } = await codeFor(portal);
    const first = await postForm(`${gh.url}/token`, form, basic(web.client_id, web.client_secret));
    expect(first.status).toBe(200);
    expect((await introspect(String(first.body.access_token))).active).toBe(true);
    const second = await postForm(`${gh.url}/token`, form, basic(web.client_id, web.client_secret));
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    expect((await introspect(String(first.body.access_token))).active).toBe(false);
  });

  test('a code redeemed after its 60 seconds is refused with a description that says it expired', async () => {
    const { form, code } = await codeFor(portal);
    // Kept past its lifetime, so that a late client can be told why.
    expect(await gh.services.redis!.pttl(`${gh.redisPrefix}AuthorizationCode:${storedId(code)}`)).toBeGreaterThan(60_000);
    // Sixty seconds pass: the stored code's expiry moves into the past.
    const adapter = (gh.provider.AuthorizationCode as unknown as { adapter: Adapter }).adapter;
    const stored = (await adapter.find(code))!;
    await adapter.upsert(code, { ...stored, exp: Math.floor(Date.now() / 1000) - 1 }, 600);
    const late = await postForm(`${gh.url}/token`, form, basic(web.client_id, web.client_secret));
    expect(late.status).toBe(400);
    expect(late.body).toEqual({ error: 'invalid_grant', error_description: 'authorization code is expired' });
    const unknown = await postForm(`${gh.url}/token`, { ...form, code: 'no-such-code' }, basic(web.client_id, web.client_secret));
    expect(unknown.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
  });

  test('50 concurrent redemptions of one code yield exactly one token', async () => {
    const { form } = await codeFor(portal);
    const responses = await Promise.all(Array.from({ length: 50 }, () => postForm(`${gh.url}/token`, form, basic(web.client_id, web.client_secret))));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 400 && r.body.error === 'invalid_grant')).toHaveLength(49);
    // The racing reuse counts as reuse: the grant is revoked, so the one token issued dies too.
    const winner = String(responses.find((r) => r.status === 200)!.body.access_token);
    expect((await pollUntil(() => introspect(winner), (body) => body.active === false, 2000)).active).toBe(false);
  });
});

describe('refresh tokens', () => {
  test('no refresh token without offline_access', async () => {
    const { request, callback } = await codeFor(portal, { scope: 'openid profile' });
    expect((await portal.finish(callback, request)).refresh_token).toBeUndefined();
  });

  test('a confidential client with offline_access refreshes; the token stays until it ages', async () => {
    const { request, callback } = await codeFor(portal, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await portal.finish(callback, request);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const refreshed = await oidc.refreshTokenGrant(portal.config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token ?? tokens.refresh_token).toBe(tokens.refresh_token);
  });

  test('a public client\'s refresh token rotates on every use; reusing a rotated one revokes the grant', async () => {
    const { request, callback } = await codeFor(app, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await app.finish(callback, request);
    const r1 = tokens.refresh_token!;
    const second = await oidc.refreshTokenGrant(app.config, r1);
    const r2 = second.refresh_token!;
    expect(r2).not.toBe(r1);
    const third = await oidc.refreshTokenGrant(app.config, r2);
    expect(third.refresh_token).not.toBe(r2);

    await expect(oidc.refreshTokenGrant(app.config, r1)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The reuse revoked the whole grant: the newest refresh token and access token are dead too.
    await expect(oidc.refreshTokenGrant(app.config, third.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await introspect(third.access_token)).active).toBe(false);
  });

  test('50 concurrent uses of one public-client refresh token yield exactly one token', async () => {
    const { request, callback } = await codeFor(app, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await app.finish(callback, request);
    const form = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: spa.client_id };
    const responses = await Promise.all(Array.from({ length: 50 }, () => postForm(`${gh.url}/token`, form)));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(49);
  });

  test('client credentials never yield a refresh token', async () => {
    const server = await registerClient(gh.services.database.knex, { name: 'Job', kind: 'server', scopes: 'read' });
    const response = await clientCredentials(gh.url, server, { scope: 'read' });
    expect(response.body.refresh_token).toBeUndefined();
  });
});

describe('CORS', () => {
  const preflight = (origin: string, path: string) => fetch(`${gh.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });

  test('the SPA\'s registered origin may call the token endpoint; other origins get no CORS headers', async () => {
    const { form } = await codeFor(app, { scope: 'openid' });
    const allowed = await fetch(`${gh.url}/token`, {
      method: 'POST',
      headers: { origin: SPA_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, client_id: spa.client_id }),
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);

    const { form: other } = await codeFor(app, { scope: 'openid' });
    const refused = await fetch(`${gh.url}/token`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...other, client_id: spa.client_id }),
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('a web (confidential) client\'s origin gets no CORS on the token endpoint', async () => {
    const { form } = await codeFor(portal);
    const response = await fetch(`${gh.url}/token`, {
      method: 'POST',
      headers: { origin: 'https://portal.example.edu', 'content-type': 'application/x-www-form-urlencoded', authorization: basic(web.client_id, web.client_secret) },
      body: new URLSearchParams(form),
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('preflight to the token endpoint is answered (the client is known only from the actual request)', async () => {
    expect((await preflight(SPA_ORIGIN, '/token')).status).toBe(204);
  });
});
