import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { basic, toJson } from '../support/http.ts';

let gh: RunningGatehouse;
let server: RegisteredClient;
let api: RegisteredClient;
let web: RegisteredClient;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  server = await registerClient(gh.services.database.knex, { name: 'Job', kind: 'server', scopes: 'read' });
  api = await registerClient(gh.services.database.knex, { name: 'API', kind: 'resource-server' });
  web = await registerClient(gh.services.database.knex, { name: 'Portal', kind: 'web', 'redirect-uri': ['https://portal.example.edu/cb'] });
});
afterAll(() => gh.close());

const send = async (path: string, init: RequestInit) => toJson(await fetch(`${gh.url}${path}`, init));
const form = (body: string, authorization?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
  body,
});

/** Each case: a request a careless or hostile client might send, and the RFC error it must get. */
const cases: [string, string, () => RequestInit, number, string][] = [
  ['token: no grant_type', '/token', () => form('scope=read', basic(server.client_id, server.client_secret)), 400, 'invalid_request'],
  ['token: unknown grant_type', '/token', () => form('grant_type=password&username=a&password=b', basic(server.client_id, server.client_secret)), 400, 'unsupported_grant_type'],
  ['token: no client authentication', '/token', () => form('grant_type=client_credentials'), 400, 'invalid_request'],
  ['token: malformed Basic header', '/token', () => form('grant_type=client_credentials', 'Basic %%%not-base64'), 400, 'invalid_request'],
  ['token: unknown client', '/token', () => form('grant_type=client_credentials', basic('nobody', 'secret')), 401, 'invalid_client'],
  ['token: JSON body instead of a form', '/token', () => ({ method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(server.client_id, server.client_secret) }, body: '{"grant_type":"client_credentials"}' }), 400, 'invalid_request'],
  ['token: truncated JSON body', '/token', () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' }), 400, 'invalid_request'],
  ['token: parameter repeated', '/token', () => form('grant_type=client_credentials&scope=read&scope=read', basic(server.client_id, server.client_secret)), 400, 'invalid_request'],
  ['token: code grant without code', '/token', () => form('grant_type=authorization_code&redirect_uri=https://portal.example.edu/cb', basic(web.client_id, web.client_secret)), 400, 'invalid_request'],
  ['token: code grant with an unknown code', '/token', () => form('grant_type=authorization_code&code=forged&redirect_uri=https://portal.example.edu/cb&code_verifier=' + 'v'.repeat(43), basic(web.client_id, web.client_secret)), 400, 'invalid_grant'],
  ['token: a grant type the client is not registered for', '/token', () => form('grant_type=authorization_code&code=x', basic(server.client_id, server.client_secret)), 400, 'unauthorized_client'],
  ['introspection: no token', '/token/introspection', () => form('', basic(api.client_id, api.client_secret)), 400, 'invalid_request'],
  ['introspection: bad secret', '/token/introspection', () => form('token=abc', basic(api.client_id, 'nope')), 401, 'invalid_client'],
  ['revocation: no token', '/token/revocation', () => form('', basic(server.client_id, server.client_secret)), 400, 'invalid_request'],
  ['revocation: unknown client', '/token/revocation', () => form('token=abc', basic('ghost', 'x')), 401, 'invalid_client'],
];

test.each(cases)('%s gets the RFC error, never a 5xx or a stack trace', async (_name, path, init, status, error) => {
  const response = await send(path, init());
  expect({ status: response.status, error: response.body.error }).toEqual({ status, error });
  expect(typeof response.body.error_description).toBe('string');
  expect(response.text).not.toMatch(/\bat .+\.(js|ts):\d+/);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
});

test('an oversized request body is refused as invalid_request, not a crash', async () => {
  const response = await send('/token', form(`grant_type=client_credentials&scope=${'a'.repeat(2_000_000)}`, basic(server.client_id, server.client_secret)));
  expect(response.status).toBe(400);
  expect(response.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/request body/) });
});

test('an unknown path or method is a plain 404, not an error page with internals', async () => {
  for (const [method, path] of [['GET', '/token'], ['GET', '/nothing-here'], ['DELETE', '/jwks']] as const) {
    const response = await fetch(`${gh.url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(await response.text()).not.toMatch(/\bat .+\.(js|ts):\d+/);
  }
});

test('a browser asking for an unknown client gets an HTML error page on the provider, not a redirect', async () => {
  const response = await fetch(`${gh.url}/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=https://evil.example/cb`, {
    headers: { accept: 'text/html' },
    redirect: 'manual',
  });
  expect(response.status).toBe(400);
  expect(response.headers.get('location')).toBeNull();
  const html = await response.text();
  expect(html).toContain('invalid_client');
  expect(html).not.toContain('evil.example');
  expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
});

test('discovery names the endpoints and only the code flow', async () => {
  const response = await toJson(await fetch(`${gh.url}/.well-known/openid-configuration`));
  expect(response.body).toMatchObject({
    issuer: gh.url,
    jwks_uri: `${gh.url}/jwks`,
    token_endpoint: `${gh.url}/token`,
    introspection_endpoint: `${gh.url}/token/introspection`,
    revocation_endpoint: `${gh.url}/token/revocation`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
  });
  expect(response.body.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
  expect(response.body.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials', 'refresh_token']));
});

test('JWKS publishes an RS256 and an ES256 public key, with no private parts', async () => {
  const response = await toJson(await fetch(`${gh.url}/jwks`));
  const keys = response.body.keys as Record<string, unknown>[];
  expect(keys.map((key) => key.alg).sort()).toEqual(['ES256', 'RS256']);
  for (const key of keys) {
    expect(key).toHaveProperty('kid');
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret);
  }
});

test('the keys survive a restart: a second provider on the same database publishes the same kids', async () => {
  const kids = async (url: string) => ((await toJson(await fetch(`${url}/jwks`))).body.keys as { kid: string }[]).map((k) => k.kid).sort();
  const again = await startGatehouse({ databaseConfig: gh.config.database, redis: false });
  try {
    expect(await kids(again.url)).toEqual(await kids(gh.url));
  } finally {
    await again.close();
  }
});

// Metrics, behind METRICS_TOKEN: test/integration/metrics_access.test.ts.
test('health and readiness answer', async () => {
  expect((await toJson(await fetch(`${gh.url}/healthz`))).body).toEqual({ status: 'ok' });
  expect((await toJson(await fetch(`${gh.url}/readyz`))).body).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
});
